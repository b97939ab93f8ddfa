"""The JuiceFS engine on a real JuiceFS volume (SQLite metadata, local-directory bucket, FUSE mount):
snapshot/restore/fork/create run `juicefs clone` and say so, the trees are right, descriptors keep the
Go checksum, everything verifies, and detection respects path boundaries."""
import json
import os
import subprocess

import pytest

import fsmounts
from libjvs_driver import JvsError
from cowtest import (assert_engine, assert_fallback_reported, assert_verified, descriptor_file, diff_states, fallbacks, fs_state, new_repo,
                     one_percent, populate, rewrite, snapshot_dir, tree)

JFS = "juicefs-clone"


def du_bytes(path):
    return int(subprocess.run(["du", "-sb", path], check=True, capture_output=True, text=True).stdout.split()[0])


@pytest.fixture
def jfs_repo(lib, juicefs_mount):
    repo, root, main = new_repo(lib, juicefs_mount.path)
    files = populate(main, n_files=40)
    yield repo, root, main, files
    repo.close()


def test_mount_is_juicefs(juicefs_mount):
    assert fsmounts.fstype(juicefs_mount.path) == "fuse.juicefs"
    assert fsmounts.find_juicefs(install=False)


def test_snapshot_runs_juicefs_clone_and_verifies(jfs_repo, juicefs_mount, ref):
    repo, root, main, files = jfs_repo
    info = repo.call("info")
    assert (info["engine"], info["engine_source"]) == (JFS, "detected"), info
    data, bucket0 = du_bytes(main), du_bytes(juicefs_mount.bucket)
    doc = repo.call("snapshot", note="on juicefs", tags=["jfs"])
    assert_engine(doc, JFS, "snapshot")
    assert doc["stats"]["files_cloned"] == doc["stats"]["files"] and doc["stats"]["bytes_copied"] == 0, doc["stats"]
    grown = du_bytes(juicefs_mount.bucket) - bucket0
    assert grown < 0.1 * data, f"a clone stores no data blocks, yet the bucket grew by {grown} bytes ({data} of data)"
    sid = doc["snapshot"]["snapshot_id"]
    desc = descriptor_file(root, sid)
    assert desc["engine"] == JFS
    assert desc == doc["snapshot"]
    assert ref.descriptor_checksum(desc)[0] == desc["descriptor_checksum"]
    snap = snapshot_dir(root, sid)
    assert tree(snap) == tree(main)
    assert os.path.exists(os.path.join(snap, ".READY"))
    assert not os.path.exists(os.path.join(main, ".READY"))
    assert_verified(repo)
    assert repo.call("verify", ref=sid)["ok"]


def test_snapshot_after_change_restore_fork_create(jfs_repo, juicefs_mount, ref):
    repo, root, main, files = jfs_repo
    first = repo.call("snapshot", note="first")
    assert_engine(first, JFS, "first snapshot")
    s1 = first["snapshot"]["snapshot_id"]
    t1 = tree(main)

    changed = one_percent(files) + files[5:7]
    rewrite(main, changed, seed=3)
    os.remove(os.path.join(main, files[8]))
    with open(os.path.join(main, "added.txt"), "w") as f:
        f.write("added\n")
    second = repo.call("snapshot", note="second")
    assert_engine(second, JFS, "snapshot after a change")
    # O(changed): the clone is not re-read except for what changed (the stat cache vouches for the rest)
    assert second["stats"]["files_hashed"] <= len(changed) + 1, second["stats"]
    s2 = second["snapshot"]["snapshot_id"]
    assert second["snapshot"]["parent_id"] == s1
    t2 = tree(main)
    assert tree(snapshot_dir(root, s2)) == t2
    assert tree(snapshot_dir(root, s1)) == t1  # the first snapshot did not change underneath

    doc = repo.call("restore", ref=s1)
    # In-place restore rewrites only the differing files; it may clone them or copy them, but it must
    # name what ran, and a clone that fell back must say so.
    assert doc.get("engine") in (JFS, "copy"), doc
    assert_engine(doc, doc["engine"], "restore")
    assert tree(main) == t1
    assert not os.path.exists(os.path.join(main, "added.txt"))

    bucket0 = du_bytes(juicefs_mount.bucket)
    fork = repo.call("worktree_fork", **{"from": s2, "name": "jf"})
    assert_engine(fork, JFS, "worktree_fork")
    assert fork["stats"]["bytes_written"] == 0, fork["stats"]
    grown = du_bytes(juicefs_mount.bucket) - bucket0
    assert grown < 0.1 * du_bytes(main), f"a cloned fork stores no data blocks, yet the bucket grew by {grown} bytes"
    assert tree(fork["worktree"]["path"]) == t2
    assert fork["worktree"]["head_snapshot_id"] == s2

    made = repo.call("worktree_create", name="jc", **{"from": s1})
    assert_engine(made, JFS, "worktree_create --from")
    assert tree(made["worktree"]["path"]) == t1

    with open(os.path.join(fork["worktree"]["path"], "in-fork.txt"), "w") as f:
        f.write("fork\n")
    in_fork = repo.call("snapshot", worktree="jf", note="in fork")
    assert_engine(in_fork, JFS, "snapshot in the fork")
    # the fork's stat cache came from the snapshot's manifest: only the new file is read
    assert in_fork["stats"]["files_hashed"] <= 1, in_fork["stats"]
    assert in_fork["snapshot"]["parent_id"] == s2

    # the repository is consistent: every descriptor on disk keeps the Go checksum and verifies
    ids = {s1, s2, in_fork["snapshot"]["snapshot_id"]}
    on_disk = {n[:-5] for n in os.listdir(os.path.join(root, ".jvs", "descriptors")) if n.endswith(".json")}
    assert on_disk == ids
    assert set(os.listdir(os.path.join(root, ".jvs", "snapshots"))) == ids
    for i in ids:
        d = descriptor_file(root, i)
        assert d["engine"] == JFS
        assert ref.descriptor_checksum(d)[0] == d["descriptor_checksum"], i
    wts = {w["name"]: w for w in repo.call("worktree_list")["worktrees"]}
    assert set(wts) == {"main", "jf", "jc"}
    hist = repo.call("history", all=True)
    assert {d["snapshot_id"] for d in hist["snapshots"]} == ids
    v = assert_verified(repo)
    assert len(v["results"]) == 3


def test_snapshot_while_the_tree_is_not_settled(jfs_repo, ref):
    """An entry stamped after the clone began (here: an mtime in the future) makes the snapshot scan
    the clone too; only that file is hashed again, the tree is exactly the worktree's, all verifies."""
    repo, root, main, files = jfs_repo
    repo.call("snapshot", note="first")
    future = os.path.join(main, files[3])
    os.utime(future, (os.stat(future).st_atime, os.stat(future).st_mtime + 3600))
    doc = repo.call("snapshot", note="unsettled")
    assert_engine(doc, JFS, "snapshot with an unsettled file")
    assert 1 <= doc["stats"]["files_hashed"] <= 2, doc["stats"]
    snap = snapshot_dir(root, doc["snapshot"]["snapshot_id"])
    assert tree(snap) == tree(main)
    for rel in files[:10]:  # the clone keeps file modes and mtimes, which the manifest records
        a, b = os.lstat(os.path.join(main, rel)), os.lstat(os.path.join(snap, rel))
        assert (a.st_mode, a.st_mtime_ns, a.st_size) == (b.st_mode, b.st_mtime_ns, b.st_size), rel
    assert_verified(repo)


def test_special_file_fails_the_snapshot_and_leaves_nothing(jfs_repo):
    """The JuiceFS snapshot scans after its clone: a FIFO still fails it with E_SPECIAL_FILE, and no
    staging directory, snapshot, descriptor or intent is left behind."""
    repo, root, main, files = jfs_repo
    os.mkfifo(os.path.join(main, "d0", "pipe"))
    with pytest.raises(JvsError) as e:
        repo.call("snapshot", note="fifo")
    assert e.value.code == "E_SPECIAL_FILE", e.value
    jvs = os.path.join(root, ".jvs")
    for d in ("snapshots", "descriptors", "intents"):
        left = os.listdir(os.path.join(jvs, d)) if os.path.isdir(os.path.join(jvs, d)) else []
        assert not left, f"{d}: {left}"
    os.remove(os.path.join(main, "d0", "pipe"))
    assert_engine(repo.call("snapshot", note="after"), JFS, "snapshot once the FIFO is gone")
    assert_verified(repo)


def test_juicefs_without_the_binary_copies_and_says_why(lib, juicefs_mount, monkeypatch):
    """On JuiceFS with no `juicefs` on PATH, jvs copies, and every result that wrote files says why."""
    monkeypatch.setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
    repo, root, main = new_repo(lib, juicefs_mount.path)
    try:
        files = populate(main, n_files=5)
        info = repo.call("info")
        assert info["engine"] == "copy" and "not on PATH" in info["engine_detail"], info
        doc = repo.call("snapshot", note="no binary")
        why = [d for d in doc["degradations"] if d["kind"] == "clone_fallback"]
        assert doc["engine"] == "copy" and why and "not on PATH" in why[0]["detail"], doc
        sid = doc["snapshot"]["snapshot_id"]
        rewrite(main, files[:1], seed=4)
        r = repo.call("restore", ref=sid)
        assert r["engine"] == "copy" and [d for d in r["degradations"] if d["kind"] == "clone_fallback"], r
        w = repo.call("worktree_fork", **{"from": sid, "name": "nb"})
        assert w["engine"] == "copy" and [d for d in w["degradations"] if d["kind"] == "clone_fallback"], w
        assert tree(w["worktree"]["path"]) == tree(snapshot_dir(root, sid))
        assert_verified(repo)
    finally:
        repo.close()


def test_read_only_commands_write_nothing_on_juicefs(lib, juicefs_mount):
    repo, root, main = new_repo(lib, juicefs_mount.path)
    scope = os.path.dirname(root)
    try:
        populate(main, n_files=10)
        before = fs_state(scope)
        repo.call("info")
        repo.call("verify")
        assert not diff_states(before, fs_state(scope))
        repo.call("snapshot", note="one")
        before = fs_state(scope)
        for _ in range(2):
            repo.call("info")
            repo.call("history")
            repo.call("verify")
        changes = diff_states(before, fs_state(scope))
        assert not changes, f"read-only commands changed the tree: {changes[:5]}"
    finally:
        repo.close()


def test_env_copy_on_juicefs(lib, juicefs_mount, monkeypatch):
    monkeypatch.setenv("JVS_ENGINE", "copy")
    repo, root, main = new_repo(lib, juicefs_mount.path)
    try:
        populate(main, n_files=5)
        doc = repo.call("snapshot", note="copy")
        assert_engine(doc, "copy", "snapshot with JVS_ENGINE=copy on JuiceFS")
        info = repo.call("info")
        assert (info["engine"], info["engine_source"]) == ("copy", "env")
        assert_verified(repo)
    finally:
        repo.close()


def test_path_prefix_of_a_mount_is_not_juicefs(lib, juicefs_mount):
    """A directory whose path merely starts with the mount point's string (`<mnt>-other`) is on the
    filesystem below, not on JuiceFS (the Go tool's plain prefix match got this wrong)."""
    other = juicefs_mount.path + "-other"
    os.makedirs(other, exist_ok=True)
    assert fsmounts.fstype(other) != "fuse.juicefs"
    repo, root, main = new_repo(lib, other)
    try:
        info = repo.call("info")
        assert info["engine"] != JFS, info
        populate(main, n_files=5)
        doc = repo.call("snapshot", note="beside the mount")
        assert doc["engine"] != JFS and doc["snapshot"]["engine"] != JFS, doc["engine"]
        assert not [d for d in fallbacks(doc) if d["kind"] == "clone_fallback"], doc["degradations"]
        assert_verified(repo)
    finally:
        repo.close()


@pytest.mark.parametrize("value", ["juicefs", "juicefs-clone"])
def test_juicefs_requested_off_juicefs_falls_back_loudly(lib, tmp_path, monkeypatch, value):
    """JVS_ENGINE=juicefs where there is no JuiceFS: it works, as a copy, and says so."""
    if fsmounts.fstype(tmp_path) == "fuse.juicefs":
        pytest.skip("the test tmp directory is on JuiceFS")
    monkeypatch.setenv("JVS_ENGINE", value)
    repo, root, main = new_repo(lib, str(tmp_path))
    try:
        populate(main, n_files=5)
        doc = repo.call("snapshot", note="juicefs requested")
        fb = fallbacks(doc)
        assert doc["snapshot"]["engine"] == doc["engine"]
        if doc["engine"] == JFS:
            pytest.fail(f"engine says juicefs-clone off JuiceFS: {json.dumps(doc)[:800]}")
        assert fb, f"JVS_ENGINE=juicefs off JuiceFS ran {doc['engine']} silently: {doc.get('degradations')}"
        assert all(d["kind"] == "clone_fallback" and d.get("detail") for d in fb), fb
        assert tree(snapshot_dir(root, doc["snapshot"]["snapshot_id"])) == tree(main)
        assert_verified(repo)
    finally:
        repo.close()


@pytest.mark.parametrize("value", ["juicefs", "juicefs-clone"])
def test_env_juicefs_on_juicefs(lib, juicefs_mount, monkeypatch, value):
    monkeypatch.setenv("JVS_ENGINE", value)
    repo, root, main = new_repo(lib, juicefs_mount.path)
    try:
        populate(main, n_files=5)
        assert_engine(repo.call("snapshot", note=value), JFS, f"snapshot with JVS_ENGINE={value}")
        info = repo.call("info")
        assert (info["engine"], info["engine_source"]) == (JFS, "env"), info
    finally:
        repo.close()


def test_reflink_requested_on_juicefs_falls_back_loudly(lib, juicefs_mount, monkeypatch):
    """FUSE has no FICLONE: JVS_ENGINE=reflink on JuiceFS works, as a copy, and says so."""
    monkeypatch.setenv("JVS_ENGINE", "reflink")
    repo, root, main = new_repo(lib, juicefs_mount.path)
    try:
        files = populate(main, n_files=5)
        doc = repo.call("snapshot", note="reflink on juicefs")
        assert_fallback_reported(doc, files, "snapshot with JVS_ENGINE=reflink on JuiceFS")
        assert tree(snapshot_dir(root, doc["snapshot"]["snapshot_id"])) == tree(main)
        assert_verified(repo)
    finally:
        repo.close()


@pytest.mark.parametrize("pick", ["file", "dir", "file+symlink"])
def test_partial_snapshot_on_juicefs(jfs_repo, ref, pick):
    """Partial snapshots clone path by path; whatever ran is named, a fallback is said, the tree is right."""
    repo, root, main, files = jfs_repo
    nested = next(f for f in files if f.count("/") == 3)
    paths = {"file": [nested], "dir": [os.path.dirname(nested)], "file+symlink": ["big.bin", "dangling"]}[pick]
    doc = repo.call("snapshot", note=f"partial {pick}", paths=paths)
    if pick != "file+symlink":
        assert_engine(doc, JFS, f"partial snapshot of {paths}")
    elif doc["engine"] != JFS:  # `juicefs clone` cannot clone a dangling symlink: a copy is fine, said aloud
        assert doc["engine"] == "copy" and [d for d in fallbacks(doc) if d["kind"] == "clone_fallback"], doc
    assert doc["snapshot"]["partial_paths"] == sorted(paths)
    snap = snapshot_dir(root, doc["snapshot"]["snapshot_id"])
    want = {k: v for k, v in tree(main).items()
            if any(k == p or k.startswith(p + "/") or p.startswith(k + "/") for p in paths)}
    assert tree(snap) == want
    assert ref.descriptor_checksum(descriptor_file(root, doc["snapshot"]["snapshot_id"]))[0] == \
        doc["snapshot"]["descriptor_checksum"]
    assert_verified(repo)
