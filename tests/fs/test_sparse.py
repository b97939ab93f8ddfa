"""Sparse files keep their holes: a 2 GiB file holding a few KiB of data is snapshotted, restored and
forked using a few KiB of disk each time (st_blocks), its content hash is that of the whole 2 GiB
(holes read as zeros), and nothing is reported as degraded. Runs on the local filesystem of the test
directory (ext4 here), on a tmpfs (mounted when root), and on XFS and btrfs loop devices with the copy
engine forced (with reflink, FICLONE keeps holes by itself: also checked)."""
import hashlib
import os
import subprocess
import tempfile

import pytest

import fsmounts
from cowtest import new_repo

SIZE = 2 << 30  # apparent size
CHUNKS = {0: b"head" * 1024, 1 << 30: b"middle" * 512, SIZE - 8192: b"tail" * 1024}  # 4 KiB, 3 KiB, 4 KiB
DISK_LIMIT = 1 << 20  # "a few KiB": generous for filesystem block sizes and metadata blocks


def make_sparse(path):
    with open(path, "wb") as f:
        for off, data in CHUNKS.items():
            f.seek(off)
            f.write(data)
        f.truncate(SIZE)


def expected_hash():
    h, pos = hashlib.sha256(), 0
    zeros = bytes(1 << 20)
    for off, data in sorted(CHUNKS.items()) + [(SIZE, b"")]:
        while pos < off:
            n = min(len(zeros), off - pos)
            h.update(zeros[:n])
            pos += n
        h.update(data)
        pos += len(data)
    return h.hexdigest()


def disk_bytes(path):
    return os.stat(path).st_blocks * 512


def assert_sparse_copy(path, what):
    st = os.stat(path)
    assert st.st_size == SIZE, f"{what}: size {st.st_size}"
    assert st.st_blocks * 512 <= DISK_LIMIT, f"{what}: {st.st_blocks * 512} bytes on disk for a sparse file"
    with open(path, "rb") as f:
        for off, data in CHUNKS.items():
            f.seek(off)
            assert f.read(len(data)) == data, f"{what}: data at {off} differs"
        f.seek(SIZE // 4 * 3)
        assert f.read(4096) == bytes(4096), f"{what}: a hole does not read as zeros"


def no_sparse_degradation(doc, what):
    kinds = [d["kind"] for d in doc.get("degradations", [])]
    assert "sparse_filled" not in kinds, f"{what}: {doc['degradations']}"


def drop_stat_caches(root):
    cache = os.path.join(root, ".jvs", "cache")
    for n in os.listdir(cache):
        if n.endswith(".stat"):
            os.unlink(os.path.join(cache, n))


def run_cycle(lib, parent):
    """Snapshot, verify, diff (hashing the live file), restore (after the file was deleted) and fork a
    sparse file in a new repository under `parent`."""
    repo, root, main = new_repo(lib, parent)
    try:
        src = os.path.join(main, "disk.img")
        make_sparse(src)
        if disk_bytes(src) > DISK_LIMIT:
            pytest.skip(f"{fsmounts.fstype(parent)} at {parent} does not store holes")
        with open(os.path.join(main, "small.txt"), "w") as f:
            f.write("small\n")
        doc = repo.call("snapshot", note="sparse")
        no_sparse_degradation(doc, "snapshot")
        sid = doc["snapshot"]["snapshot_id"]
        assert_sparse_copy(os.path.join(root, ".jvs", "snapshots", sid, "disk.img"), "snapshot")
        with open(os.path.join(root, ".jvs", "manifests", sid), "rb") as f:
            assert EXPECTED_HASH.encode() in f.read(), "the stored hash is not that of the content, holes as zeros"
        vdoc = repo.call("verify", ref=sid)  # recomputes the payload hash from the stored (sparse) file
        assert vdoc["ok"], vdoc

        drop_stat_caches(root)  # the live side is hashed again, holes as zeros
        assert repo.call("diff", stat=True)["totals"] == {"added": 0, "removed": 0, "modified": 0}

        os.unlink(src)
        doc = repo.call("restore", ref=sid)
        no_sparse_degradation(doc, "restore")
        assert_sparse_copy(src, "restore")

        doc = repo.call("worktree_fork", name="forked", **{"from": sid})
        no_sparse_degradation(doc, "fork")
        assert_sparse_copy(os.path.join(root, "worktrees", "forked", "disk.img"), "fork")
    finally:
        repo.close()


EXPECTED_HASH = expected_hash()


def test_sparse_on_local_fs(lib, tmp_path):
    run_cycle(lib, str(tmp_path))


@pytest.fixture
def tmpfs_dir():
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    d = tempfile.mkdtemp(prefix="jvs-sparse-tmpfs-", dir=fsmounts.base_dir())
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", d], capture_output=True, text=True)
    if p.returncode != 0:
        os.rmdir(d)
        pytest.skip(f"cannot mount a tmpfs: {p.stderr.strip()}")
    try:
        yield d
    finally:
        subprocess.run(["umount", d], check=False)
        os.rmdir(d)


def test_sparse_on_tmpfs(lib, tmpfs_dir):
    run_cycle(lib, tmpfs_dir)


def test_sparse_copy_engine_on_cow_fs(lib, cow_mount, monkeypatch):
    """The copy engine's hole-keeping loop (JVS_ENGINE=copy) where copy_file_range would clone."""
    monkeypatch.setenv("JVS_ENGINE", "copy")
    run_cycle(lib, cow_mount.path)


def test_sparse_reflink_on_xfs(lib, xfs_mount):
    """FICLONE (the detected reflink engine) keeps holes by itself; hashing still skips them."""
    run_cycle(lib, xfs_mount.path)
