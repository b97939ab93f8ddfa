"""jvs_repo_init with `adopt`: an existing folder becomes the main worktree in place.

Files keep their paths and inodes; `.jvs` is never snapshotted, restored over or deleted; what the
repository stores stays format 1 (the oracle checks the Go hashes of an adopted repository's
snapshot); refusals (nested repositories, a file, a bad option) write nothing.
"""
import json
import os

import pytest

from libjvs_driver import JvsError, snap, tree_listing


def _project(root):
    (root / "src").mkdir(parents=True)
    (root / "src" / "a.txt").write_text("alpha\n")
    (root / "b.bin").write_bytes(b"\0\1\2")
    os.symlink("b.bin", root / "link")
    return root


def _inodes(root):
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        if dirpath == str(root) and ".jvs" in dirnames:
            dirnames.remove(".jvs")
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            out[os.path.relpath(p, root)] = os.lstat(p).st_ino
    return out


def test_adopt_keeps_paths_and_inodes(lib, tmp_path):
    proj = _project(tmp_path / "proj")
    before = _inodes(proj)
    r, doc = lib.open(proj, init=True, adopt=True)
    try:
        assert doc["layout"] == "adopted" and doc["worktree"] == "main"
        assert doc["worktree_path"] == str(proj)
        assert _inodes(proj) == before
        assert json.loads((proj / ".jvs" / "layout.json").read_text())["main"] == "."
        assert (proj / ".jvs" / "format_version").read_text() == "1\n"
        assert not (proj / "main").exists() and not (proj / "worktrees").exists()
        sid = snap(r, note="adopted")
        assert _inodes(proj) == before  # a snapshot never rewrites the folder
        assert sorted(os.listdir(proj / ".jvs" / "snapshots" / sid)) == [".READY", "b.bin", "link", "src"]
    finally:
        r.close()


def test_auto_adopts_only_a_folder_with_files(lib, tmp_path):
    r, doc = lib.open(tmp_path / "new", init=True)
    r.close()
    assert doc["layout"] == "standard" and (tmp_path / "new" / "main").is_dir()
    r, doc = lib.open(_project(tmp_path / "proj"), init=True)
    r.close()
    assert doc["layout"] == "adopted"
    r, doc = lib.open(_project(tmp_path / "go"), init=True, adopt=False)
    r.close()
    assert doc["layout"] == "standard" and (tmp_path / "go" / "main").is_dir()


def test_open_from_inside_binds_main(lib, tmp_path):
    proj = _project(tmp_path / "proj")
    lib.open(proj, init=True)[0].close()
    for where in (proj, proj / "src"):
        r, doc = lib.open(where)
        r.close()
        assert doc["worktree"] == "main" and doc["layout"] == "adopted"
    r, doc = lib.open(proj / ".jvs" / "snapshots")
    r.close()
    assert "worktree" not in doc


def test_snapshot_restore_round_trip_and_go_hashes(lib, ref, tmp_path):
    proj = _project(tmp_path / "proj")
    r, _ = lib.open(proj, init=True)
    try:
        s1 = snap(r, note="one", tags=["v1"])
        desc = json.loads((proj / ".jvs" / "descriptors" / (s1 + ".json")).read_text())
        assert ref.descriptor_checksum(desc)[0] == desc["descriptor_checksum"]
        # the payload hash is that of the folder without .jvs (a copy of it, hashed by the oracle)
        assert ref.payload_root_hash(str(proj / ".jvs" / "snapshots" / s1))[0] == desc["payload_root_hash"]
        (proj / "src" / "a.txt").write_text("changed\n")
        (proj / "extra").mkdir()
        (proj / "extra" / "x").write_text("x")
        (proj / "b.bin").unlink()
        assert r.call("diff", stat=True)["totals"] == {"added": 2, "removed": 1, "modified": 1}
        control = tree_listing(proj / ".jvs" / "snapshots")
        r.call("restore", ref="v1")
        assert (proj / "src" / "a.txt").read_text() == "alpha\n" and (proj / "b.bin").exists()
        assert not (proj / "extra").exists()
        assert tree_listing(proj / ".jvs" / "snapshots") == control  # restore leaves .jvs alone
        assert r.call("verify", all=True)["ok"] is True
        assert r.call("doctor", strict=True)["healthy"] is True
    finally:
        r.close()


def test_control_dir_is_never_a_path(lib, tmp_path):
    proj = _project(tmp_path / "proj")
    r, _ = lib.open(proj, init=True)
    try:
        before = tree_listing(proj)
        for paths in ([".jvs"], [".jvs/format_version"]):
            with pytest.raises(JvsError) as e:
                r.call("snapshot", paths=paths)
            assert e.value.code == "E_PATH_INVALID"
        assert tree_listing(proj) == before
    finally:
        r.close()


def test_fork_of_adopted_repo(lib, tmp_path):
    proj = _project(tmp_path / "proj")
    r, _ = lib.open(proj, init=True)
    try:
        sid = snap(r)
        doc = r.call("worktree_fork", name="exp", **{"from": sid})
        path = doc["worktree"]["path"]
        assert path == str(proj / ".jvs" / "worktree-payloads" / "exp")
        assert (proj / ".jvs" / "worktree-payloads" / "exp" / "src" / "a.txt").read_text() == "alpha\n"
        r2, d2 = lib.open(path)
        r2.close()
        assert d2["worktree"] == "exp"
        r.call("worktree_rename", name="exp", new_name="exp2")
        assert (proj / ".jvs" / "worktree-payloads" / "exp2").is_dir()
        r.call("worktree_remove", name="exp2")
        assert os.listdir(proj / ".jvs" / "worktree-payloads") == []
    finally:
        r.close()


@pytest.mark.parametrize("nested", ["src", "src/new/deeper", "."])
def test_init_inside_a_repository_refuses(lib, tmp_path, nested):
    proj = _project(tmp_path / "proj")
    lib.open(proj, init=True)[0].close()
    before = tree_listing(proj)
    for adopt in (True, False, None):
        opts = {} if adopt is None else {"adopt": adopt}
        with pytest.raises(JvsError) as e:
            lib.open(proj / nested, init=True, **opts)
        assert e.value.code == "E_REPO_EXISTS"
    assert tree_listing(proj) == before


def test_init_refusals_write_nothing(lib, tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(JvsError) as e:
        lib.open(tmp_path / "file", init=True, adopt=True)
    assert e.value.code == "E_PATH_CONFLICT"
    with pytest.raises(JvsError) as e:
        lib.open(tmp_path / "d", init=True, adopt="yes")
    assert e.value.code == "E_OPTION_INVALID"
    assert sorted(os.listdir(tmp_path)) == ["file"]


def test_corrupt_layout_file(lib, tmp_path):
    proj = _project(tmp_path / "proj")
    lib.open(proj, init=True)[0].close()
    (proj / ".jvs" / "layout.json").write_text('{"main":"elsewhere"}')
    with pytest.raises(JvsError) as e:
        lib.open(proj)
    assert e.value.code == "E_CONFIG_CORRUPT"


def test_adopting_a_folder_that_holds_a_repository_refuses(lib, tmp_path):
    outer = tmp_path / "projects"
    lib.open(_project(outer / "game" / "deep"), init=True)[0].close()  # adopted: game/deep/.jvs
    (outer / "notes.txt").write_text("n")
    before = tree_listing(outer)
    with pytest.raises(JvsError) as e:
        lib.open(outer, init=True)
    assert e.value.code == "E_REPO_EXISTS"
    assert e.value.doc["error"]["details"]["nested_repo"] == str(outer / "game" / "deep")
    assert tree_listing(outer) == before
    r, doc = lib.open(tmp_path / "fresh", init=True, adopt=False)  # a new standard repository is fine
    r.close()
