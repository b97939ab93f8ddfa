"""The reflink engine on real reflink filesystems (XFS reflink=1 and btrfs on loop devices), the copy
override, the fallback on a filesystem without reflink, and read-only commands that write nothing.

Behaviour, not just success: a snapshot/restore/fork file must share its data extents (FIEMAP
`FIEMAP_EXTENT_SHARED`, same physical blocks) with the file it came from; `JVS_ENGINE=copy` must not."""
import json
import os

import pytest

import fsmounts
from cowtest import (assert_engine, assert_fallback_reported, assert_verified, data_files_under, descriptor_file,
                     diff_states, fs_state, new_repo, one_percent, populate, rewrite, snapshot_dir, tree)
from libjvs_driver import JvsError

REFLINK = "reflink-copy"


@pytest.fixture
def cow_repo(lib, cow_mount):
    repo, root, main = new_repo(lib, cow_mount.path)
    files = populate(main)
    yield repo, root, main, files
    repo.close()


def not_shared(a, b):
    return not fsmounts.shares_extents(a, b)


# ---- snapshot --------------------------------------------------------------------------------------

def test_first_snapshot_reflinks_every_file(cow_repo):
    repo, root, main, files = cow_repo
    doc = repo.call("snapshot", note="first")
    assert_engine(doc, REFLINK, "snapshot")
    st = doc["stats"]
    assert st["files_cloned"] == st["files"] and st["files_copied"] == 0 and st["bytes_copied"] == 0, st
    sid = doc["snapshot"]["snapshot_id"]
    assert descriptor_file(root, sid)["engine"] == REFLINK
    snap = snapshot_dir(root, sid)
    assert tree(snap) == tree(main)
    unshared = [f for f in files if not fsmounts.shares_extents(os.path.join(main, f), os.path.join(snap, f))]
    assert not unshared, f"{len(unshared)}/{len(files)} snapshot files share no extents with the workspace: {unshared[:5]}"
    assert os.readlink(os.path.join(snap, "dangling")) == "does/not/exist"
    assert os.stat(os.path.join(snap, "run.sh")).st_mode & 0o777 == 0o755
    assert_verified(repo)


def test_snapshot_after_one_percent_change(cow_repo):
    repo, root, main, files = cow_repo
    first = repo.call("snapshot", note="first")["snapshot"]["snapshot_id"]
    changed = one_percent(files)
    rewrite(main, changed, seed=11)
    doc = repo.call("snapshot", note="second")
    assert_engine(doc, REFLINK, "second snapshot")
    second = doc["snapshot"]["snapshot_id"]
    st = doc["stats"]
    assert st["files_cloned"] + st["files_linked"] == st["files"] and st["bytes_copied"] == 0, st
    assert st["files_cloned"] <= len(changed) + 2, f"more than the changed files were cloned again: {st}"
    assert doc["snapshot"]["parent_id"] == first
    s1, s2 = snapshot_dir(root, first), snapshot_dir(root, second)
    assert tree(s2) == tree(main)
    for f in changed:  # new content, cloned from the workspace
        assert fsmounts.shares_extents(os.path.join(main, f), os.path.join(s2, f)), f
        assert not_shared(os.path.join(s1, f), os.path.join(s2, f)), f
    bad = []
    for f in sorted(set(files) - set(changed)):  # unchanged: hard-linked to the parent's copy, or shared
        a, b = os.path.join(s1, f), os.path.join(s2, f)
        if os.stat(a).st_ino != os.stat(b).st_ino and not fsmounts.shares_extents(a, b):
            bad.append(f)
    assert not bad, f"unchanged files neither linked nor sharing extents with the parent snapshot: {bad[:5]}"
    assert_verified(repo)


def test_cached_hashes_are_not_recomputed(cow_repo):
    """A file the stat cache vouches for is cloned without being read again, even where it cannot be
    linked to the parent's copy (here: a parent without a manifest, as the Go tool writes them)."""
    repo, root, main, files = cow_repo
    first = repo.call("snapshot", note="first")["snapshot"]["snapshot_id"]
    os.remove(os.path.join(root, ".jvs", "manifests", first))
    changed = one_percent(files, seed=5)
    rewrite(main, changed, seed=6)
    doc = repo.call("snapshot", note="second")
    assert_engine(doc, REFLINK, "snapshot after a change, parent without manifest")
    st = doc["stats"]
    assert st["files_linked"] == 0 and st["files_cloned"] == st["files"], st
    assert st["files_hashed"] == len(changed), f"only the {len(changed)} changed file(s) may be read: {st}"
    snap = snapshot_dir(root, doc["snapshot"]["snapshot_id"])
    assert tree(snap) == tree(main)
    for f in files[:20] + changed:
        assert fsmounts.shares_extents(os.path.join(main, f), os.path.join(snap, f)), f
    assert_verified(repo)


# ---- restore ---------------------------------------------------------------------------------------

def test_restore_after_one_percent_change_reflinks(cow_repo):
    repo, root, main, files = cow_repo
    sid = repo.call("snapshot", note="first")["snapshot"]["snapshot_id"]
    snap = snapshot_dir(root, sid)
    expected = tree(main)
    changed = one_percent(files, seed=3)
    others = [f for f in files if f not in changed]
    changed.append(others[0])
    gone, untouched = others[1], others[2]
    rewrite(main, changed, seed=5)
    os.remove(os.path.join(main, gone))
    with open(os.path.join(main, "new.txt"), "w") as f:
        f.write("not in the snapshot\n")
    ino = os.stat(os.path.join(main, untouched)).st_ino
    doc = repo.call("restore", ref=sid)
    assert_engine(doc, REFLINK, "restore")
    assert doc["stats"]["files_cloned"] == len(changed) + 1 and doc["stats"]["bytes_written"] == 0, doc["stats"]
    assert tree(main) == expected
    for f in changed + [gone]:
        assert fsmounts.shares_extents(os.path.join(snap, f), os.path.join(main, f)), f"restored {f} is not a reflink"
    assert os.stat(os.path.join(main, untouched)).st_ino == ino  # in place: only what differs is rewritten
    assert doc["stats"]["deleted"] == 1 and doc["stats"]["created"] >= 1
    assert_verified(repo)


# ---- fork and worktree create --------------------------------------------------------------------

def _assert_worktree_reflinked(root, sid, wt_doc, what):
    snap = snapshot_dir(root, sid)
    path = wt_doc["worktree"]["path"]
    assert tree(path) == tree(snap)
    files = data_files_under(snap)
    unshared = [f for f in files if not fsmounts.shares_extents(os.path.join(snap, f), os.path.join(path, f))]
    assert not unshared, f"{what}: {len(unshared)}/{len(files)} files share no extents with the snapshot: {unshared[:5]}"
    return path


def test_fork_shares_extents_with_the_snapshot(cow_repo):
    repo, root, main, files = cow_repo
    sid = repo.call("snapshot", note="first")["snapshot"]["snapshot_id"]
    rewrite(main, one_percent(files), seed=9)  # the fork comes from the snapshot, not the workspace
    doc = repo.call("worktree_fork", **{"from": sid, "name": "fk"})
    assert_engine(doc, REFLINK, "worktree_fork")
    assert doc["stats"]["bytes_written"] == 0 and doc["stats"]["files_cloned"] > 0, doc["stats"]
    w = doc["worktree"]
    assert w["base_snapshot_id"] == w["head_snapshot_id"] == sid
    _assert_worktree_reflinked(root, sid, doc, "fork")
    assert_verified(repo)


def test_worktree_create_from_shares_extents(cow_repo):
    repo, root, main, files = cow_repo
    sid = repo.call("snapshot", note="first")["snapshot"]["snapshot_id"]
    doc = repo.call("worktree_create", name="made", **{"from": sid})
    assert_engine(doc, REFLINK, "worktree_create")
    path = _assert_worktree_reflinked(root, sid, doc, "worktree_create --from")
    # a snapshot in the new worktree is again a reflink snapshot and verifies
    rewrite(path, one_percent(files, seed=2), seed=4)
    doc2 = repo.call("snapshot", worktree="made", note="in made")
    assert_engine(doc2, REFLINK, "snapshot in created worktree")
    assert doc2["snapshot"]["parent_id"] == sid
    assert_verified(repo)


@pytest.mark.parametrize("pick", ["file", "dir", "file+symlink"])
def test_partial_snapshot_reflinks(cow_repo, pick):
    repo, root, main, files = cow_repo
    nested = next(f for f in files if f.count("/") == 3)
    paths = {"file": [nested], "dir": [os.path.dirname(nested)], "file+symlink": ["big.bin", "dangling"]}[pick]
    doc = repo.call("snapshot", note=f"partial {pick}", paths=paths)
    assert_engine(doc, REFLINK, f"partial snapshot of {paths}")
    assert doc["snapshot"]["partial_paths"] == sorted(paths)
    snap = snapshot_dir(root, doc["snapshot"]["snapshot_id"])
    whole = tree(main)
    want = {k: v for k, v in whole.items()
            if any(k == p or k.startswith(p + "/") or p.startswith(k + "/") for p in paths)}
    assert tree(snap) == want
    for f in data_files_under(snap):
        assert fsmounts.shares_extents(os.path.join(main, f), os.path.join(snap, f)), f
    assert_verified(repo)


def test_worktree_create_without_from_reports_engine(lib, cow_mount):
    repo, root, main = new_repo(lib, cow_mount.path)
    try:
        doc = repo.call("worktree_create", name="blank")
        assert doc.get("engine") in ("copy", REFLINK, "juicefs-clone"), \
            f"worktree_create (no `from`) reports no engine: {doc}"
        assert os.listdir(doc["worktree"]["path"]) == []
    finally:
        repo.close()


def test_xattrs_kept_by_snapshot_restore_and_fork(cow_repo):
    """User xattrs travel with the clone: into the snapshot, back by restore, into a fork."""
    repo, root, main, files = cow_repo
    f, d = files[0], os.path.dirname(files[1])
    os.setxattr(os.path.join(main, f), "user.jvs.test", b"file-value")
    os.setxattr(os.path.join(main, d), "user.jvs.dir", b"dir-value")
    doc = repo.call("snapshot", note="xattrs")
    assert_engine(doc, REFLINK, "snapshot with xattrs")
    assert not [x for x in doc["degradations"] if x["kind"] == "xattr_dropped"], doc["degradations"]
    sid = doc["snapshot"]["snapshot_id"]
    snap = snapshot_dir(root, sid)
    assert os.getxattr(os.path.join(snap, f), "user.jvs.test") == b"file-value"
    assert os.getxattr(os.path.join(snap, d), "user.jvs.dir") == b"dir-value"
    rewrite(main, [f], seed=8)
    os.removexattr(os.path.join(main, f), "user.jvs.test")
    r = repo.call("restore", ref=sid)
    assert_engine(r, REFLINK, "restore with xattrs")
    assert os.getxattr(os.path.join(main, f), "user.jvs.test") == b"file-value"
    w = repo.call("worktree_fork", **{"from": sid, "name": "xa"})
    path = w["worktree"]["path"]
    assert os.getxattr(os.path.join(path, f), "user.jvs.test") == b"file-value"
    assert os.getxattr(os.path.join(path, d), "user.jvs.dir") == b"dir-value"
    assert_verified(repo)


# ---- engine selection ----------------------------------------------------------------------------

def test_info_reports_the_engine_the_next_snapshot_uses(lib, cow_mount):
    """`info` names the effective engine, also on a fresh repository (before any write could have cached
    a detection result), and the first snapshot then runs exactly that engine."""
    repo, root, main = new_repo(lib, cow_mount.path)
    try:
        info = repo.call("info")
        populate(main, n_files=5)
        doc = repo.call("snapshot", note="first")
        after = repo.call("info")
        assert doc["engine"] == REFLINK, doc["engine"]
        assert (info["engine"], info["engine_source"]) == (REFLINK, "detected"), \
            f"info before the first snapshot: {info['engine']}/{info['engine_source']}, snapshot ran {doc['engine']}"
        assert (after["engine"], after["engine_source"]) == (REFLINK, "detected"), after
    finally:
        repo.close()


def test_detection_is_cached_and_recheckable(lib, xfs_mount):
    """The first writer caches what it detected in .jvs/cache/engine.json (with device and filesystem
    type); later operations use the cache; deleting it makes jvs detect again."""
    repo, root, main = new_repo(lib, xfs_mount.path)
    try:
        populate(main, n_files=3)
        assert repo.call("snapshot", note="one")["engine"] == REFLINK
        cache = os.path.join(root, ".jvs", "cache", "engine.json")
        with open(cache) as f:
            c = json.load(f)
        assert c["reflink"] is True and c["engine"] == REFLINK and c["device"] == os.stat(root).st_dev, c
        c["reflink"] = False  # pretend an earlier detection found no reflink here: the cache is trusted
        with open(cache, "w") as f:
            json.dump(c, f)
        assert repo.call("info")["engine"] == "copy"
        assert repo.call("snapshot", note="two")["engine"] == "copy"
        os.remove(cache)  # re-check
        assert (repo.call("info")["engine"], repo.call("info")["engine_source"]) == (REFLINK, "detected")
        assert repo.call("snapshot", note="three")["engine"] == REFLINK
        assert os.path.exists(cache)
        assert_verified(repo)
    finally:
        repo.close()


@pytest.mark.parametrize("value,engine,sources", [
    ("reflink", REFLINK, ("env",)), ("reflink-copy", REFLINK, ("env",)), ("copy", "copy", ("env",)),
    ("auto", REFLINK, ("detected", "env")),
])
def test_env_override_in_info(lib, xfs_mount, monkeypatch, value, engine, sources):
    monkeypatch.setenv("JVS_ENGINE", value)
    repo, root, main = new_repo(lib, xfs_mount.path)
    try:
        populate(main, n_files=3)
        doc = repo.call("snapshot", note=value)
        assert_engine(doc, engine, f"snapshot with JVS_ENGINE={value}")
        info = repo.call("info")
        assert info["engine"] == engine and info["engine_source"] in sources, info
    finally:
        repo.close()


def test_env_engine_invalid_value_is_an_error(lib, xfs_mount, monkeypatch):
    monkeypatch.setenv("JVS_ENGINE", "bogus")
    repo, root, main = new_repo(lib, xfs_mount.path)
    try:
        populate(main, n_files=2)
        with pytest.raises(JvsError) as e:
            repo.call("snapshot", note="bogus")
        assert e.value.code == "E_OPTION_INVALID"
    finally:
        repo.close()


@pytest.fixture
def copy_forced(lib, cow_mount, monkeypatch):
    """JVS_ENGINE=copy on a reflink filesystem, one snapshot taken. A copy_file_range on XFS/btrfs
    silently reflinks, so "no shared extents" is a real check of what the copy engine does."""
    monkeypatch.setenv("JVS_ENGINE", "copy")
    repo, root, main = new_repo(lib, cow_mount.path)
    files = populate(main)
    doc = repo.call("snapshot", note="copy")
    yield repo, root, main, files, doc
    repo.close()


def _shared(base, files):
    return [f for f in files if fsmounts.is_shared(os.path.join(base, f))]


def test_env_copy_snapshot_has_no_shared_extents(copy_forced):
    repo, root, main, files, doc = copy_forced
    assert repo.call("info")["engine"] == "copy" and repo.call("info")["engine_source"] == "env"
    assert_engine(doc, "copy", "snapshot with JVS_ENGINE=copy")
    sid = doc["snapshot"]["snapshot_id"]
    assert descriptor_file(root, sid)["engine"] == "copy"
    shared = _shared(snapshot_dir(root, sid), files)
    assert not shared, f"JVS_ENGINE=copy: {len(shared)}/{len(files)} snapshot files have shared extents"
    changed = one_percent(files) + files[3:5]
    rewrite(main, changed, seed=1)
    doc2 = repo.call("snapshot", note="copy 2")
    assert_engine(doc2, "copy", "second snapshot with JVS_ENGINE=copy")
    shared = _shared(snapshot_dir(root, doc2["snapshot"]["snapshot_id"]), changed)
    assert not shared, f"JVS_ENGINE=copy: changed files in the second snapshot have shared extents: {shared}"
    assert_verified(repo)


def test_env_copy_restore_has_no_shared_extents(copy_forced):
    repo, root, main, files, doc = copy_forced
    sid = doc["snapshot"]["snapshot_id"]
    changed = one_percent(files) + files[3:5]
    rewrite(main, changed, seed=1)
    r = repo.call("restore", ref=sid)
    assert_engine(r, "copy", "restore with JVS_ENGINE=copy")
    assert tree(main) == tree(snapshot_dir(root, sid))
    shared = _shared(main, changed)
    assert not shared, f"JVS_ENGINE=copy: restored files share extents with the snapshot: {shared}"


@pytest.mark.parametrize("op", ["worktree_fork", "worktree_create"])
def test_env_copy_fork_and_create_have_no_shared_extents(copy_forced, op):
    repo, root, main, files, doc = copy_forced
    sid = doc["snapshot"]["snapshot_id"]
    w = repo.call(op, name="cp", **{"from": sid})
    assert_engine(w, "copy", f"{op} with JVS_ENGINE=copy")
    path = w["worktree"]["path"]
    assert tree(path) == tree(snapshot_dir(root, sid))
    shared = _shared(path, files)
    assert not shared, f"JVS_ENGINE=copy: {op}: {len(shared)}/{len(files)} files share extents with the snapshot"


@pytest.mark.parametrize("value", ["juicefs", "juicefs-clone"])
def test_env_juicefs_off_juicefs_copies_for_real(lib, cow_mount, monkeypatch, value):
    """JVS_ENGINE=juicefs on XFS/btrfs: the clone cannot run, the copy it falls back to says so and is
    a real copy (a copy_file_range there would share extents behind the word "copy")."""
    monkeypatch.setenv("JVS_ENGINE", value)
    repo, root, main = new_repo(lib, cow_mount.path)
    try:
        files = populate(main, n_files=20)
        doc = repo.call("snapshot", note=value)
        assert doc["engine"] == "copy" and [d for d in doc["degradations"] if d["kind"] == "clone_fallback"], doc
        sid = doc["snapshot"]["snapshot_id"]
        w = repo.call("worktree_fork", **{"from": sid, "name": "jf"})
        assert w["engine"] == "copy", w
        assert not _shared(w["worktree"]["path"], files), "a fallback copy shares extents"
        assert_verified(repo)
    finally:
        repo.close()


def test_config_default_engine(lib, xfs_mount):
    """`default_engine` in .jvs/config.yaml (the Go tool's config file) selects the engine."""
    repo, root, main = new_repo(lib, xfs_mount.path)
    try:
        with open(os.path.join(root, ".jvs", "config.yaml"), "w") as f:
            f.write("default_engine: copy\n")
        info = repo.call("info")
        assert info["engine"] == "copy" and info["engine_source"] == "config", info
        populate(main, n_files=10)
        assert_engine(repo.call("snapshot", note="cfg"), "copy", "snapshot with default_engine=copy")
    finally:
        repo.close()


def _plain_tmp_or_skip(path):
    kind = fsmounts.fstype(path)
    if kind in ("xfs", "btrfs", "bcachefs", "ocfs2", "zfs"):
        pytest.skip(f"the test tmp directory is on {kind}, which may support reflink")
    return kind


def test_reflink_requested_without_reflink_falls_back_loudly(lib, tmp_path, monkeypatch):
    kind = _plain_tmp_or_skip(tmp_path)
    monkeypatch.setenv("JVS_ENGINE", "reflink")
    repo, root, main = new_repo(lib, str(tmp_path))
    try:
        files = populate(main, n_files=20)
        doc = repo.call("snapshot", note=f"reflink on {kind}")
        assert_fallback_reported(doc, files, f"snapshot on {kind}")
        sid = doc["snapshot"]["snapshot_id"]
        assert descriptor_file(root, sid)["engine"] == doc["engine"]
        assert tree(snapshot_dir(root, sid)) == tree(main)

        rewrite(main, files[:3], seed=2)
        doc = repo.call("restore", ref=sid)
        assert_fallback_reported(doc, files[:3], f"restore on {kind}")
        assert tree(main) == tree(snapshot_dir(root, sid))

        doc = repo.call("worktree_fork", **{"from": sid, "name": "fb"})
        assert_fallback_reported(doc, files, f"fork on {kind}")
        assert tree(doc["worktree"]["path"]) == tree(snapshot_dir(root, sid))
        assert_verified(repo)
    finally:
        repo.close()


def test_auto_on_plain_tmp_is_copy(lib, tmp_path):
    kind = _plain_tmp_or_skip(tmp_path)
    repo, root, main = new_repo(lib, str(tmp_path))
    try:
        info = repo.call("info")
        assert info["engine"] == "copy" and info["engine_source"] in ("detected", "default"), info
        populate(main, n_files=5)
        doc = repo.call("snapshot", note=kind)
        assert_engine(doc, "copy", f"auto snapshot on {kind}")
    finally:
        repo.close()


# ---- read-only commands write nothing ------------------------------------------------------------

def _read_only_roundtrip(lib, parent, monkeypatch, env=None):
    if env:
        monkeypatch.setenv("JVS_ENGINE", env)
    repo, root, main = new_repo(lib, parent)
    scope = os.path.dirname(root)  # the repository and the directory around it
    try:
        populate(main, n_files=10)
        before = fs_state(scope)  # a fresh repository: nothing detected or cached yet
        repo.call("info")
        repo.call("verify")
        changes = diff_states(before, fs_state(scope))
        assert not changes, f"info/verify on a fresh repository changed the tree: {changes[:5]}"
        repo.call("snapshot", note="one")
        before = fs_state(scope)
        for _ in range(2):
            repo.call("info")
            repo.call("history")
            repo.call("verify")
        fresh, _ = lib.open(main)  # a fresh handle detects afresh
        try:
            fresh.call("info")
            fresh.call("history", all=True)
            fresh.call("verify", payload=True)
        finally:
            fresh.close()
        changes = diff_states(before, fs_state(scope))
        assert not changes, f"read-only commands changed the tree: {changes[:5]}"
    finally:
        repo.close()


@pytest.mark.parametrize("env", [None, "auto", "reflink"])
def test_read_only_commands_write_nothing_on_cow(lib, cow_mount, monkeypatch, env):
    _read_only_roundtrip(lib, cow_mount.path, monkeypatch, env)


def test_read_only_commands_write_nothing_on_plain_tmp(lib, tmp_path, monkeypatch):
    _read_only_roundtrip(lib, str(tmp_path), monkeypatch)


# ---- a file rewritten during the snapshot ------------------------------------------------------------

GENERATIONS = """
import os, sys
path, stop, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
fd = os.open(path, os.O_WRONLY)
gen = 0
while not os.path.exists(stop):
    gen += 1
    os.pwrite(fd, bytes([gen % 251]) * size, 0)  # one write per generation: atomic against FICLONE
"""


def test_a_clone_is_taken_atomically_while_the_file_is_rewritten(cow_repo, tmp_path):
    """FICLONE holds the source's inode lock, so a file rewritten whole (one write per generation)
    while it is snapshotted is stored as exactly one generation; if it changed around every one of
    the (three) clones, the result also says so (changed_while_read)."""
    import subprocess
    import sys
    repo, root, main, files = cow_repo
    size = 8 << 20
    path = os.path.join(main, "hot.bin")
    with open(path, "wb") as f:
        f.write(b"\0" * size)
    stop = tmp_path / "stop"
    writer = subprocess.Popen([sys.executable, "-c", GENERATIONS, path, str(stop), str(size)])
    try:
        docs = [repo.call("snapshot", note=f"hot {i}") for i in range(3)]
    finally:
        stop.touch()
        writer.wait(timeout=60)
    for doc in docs:
        assert_engine(doc, REFLINK, "snapshot during writes")
        stored = open(os.path.join(snapshot_dir(root, doc["snapshot"]["snapshot_id"]), "hot.bin"), "rb").read()
        assert len(set(stored)) == 1, "the clone mixes writer generations"
    assert_verified(repo)
    changed = sum(1 for doc in docs for d in doc["degradations"] if d["kind"] == "changed_while_read")
    print(f"\natomic clones: 3 snapshots during whole-file rewrites, each one generation; "
          f"{changed} reported changed_while_read")
