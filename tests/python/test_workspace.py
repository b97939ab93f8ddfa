"""Every Workspace method, against the real library."""

from __future__ import annotations

import json
import os
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import tree, write

import jvs


# ---- library-level ------------------------------------------------------------------------

def test_library_version_and_abi() -> None:
    assert jvs.library_abi_version() == jvs.ABI_VERSION == 1
    v = jvs.library_version()
    assert v.count(".") == 2
    assert os.path.exists(jvs.library_path()) or jvs._ffi.LIBRARY_SOURCE == "system"


def test_build_info_and_status_names() -> None:
    info = jvs.build_info()
    assert info["schema"] == 1 and info["kind"] == "build_info"
    assert info["abi_version"] == 1
    ops = {o["name"] for o in info["operations"]}
    assert {"snapshot", "restore", "history", "worktree_fork", "verify", "info"} <= ops
    assert jvs.status_name(0) == "JVS_OK"
    assert jvs.status_name(-5) == "JVS_E_LOCKED"


# ---- init / open / info -------------------------------------------------------------------

def test_init_layout_and_info(tmp_path: Path) -> None:
    with jvs.Workspace.init(tmp_path / "r") as ws:
        assert ws.repo_root == (tmp_path / "r").resolve() or ws.repo_root == tmp_path / "r"
        assert ws.path.is_dir()
        assert ws.path == ws.repo_root / "main"
        assert (ws.repo_root / ".jvs").is_dir()
        assert ws.worktree_name == "main"
        info = ws.info()
        assert info.format_version == 1
        assert info.repo_id and info.repo_id == ws.repo_id
        assert info.total_snapshots == 0
        assert info.total_worktrees == 1
        assert info.version == jvs.library_version()
        assert info.raw["kind"] == "info"
        assert "Workspace" in repr(ws)


def test_init_with_name(tmp_path: Path) -> None:
    with jvs.Workspace.init(tmp_path / "named", name="my-repo") as ws:
        assert ws.path.is_dir()


def test_open_from_inside_worktree(ws: jvs.Workspace) -> None:
    write(ws.path, "deep/er/c.txt")
    for p in (ws.path, ws.path / "deep" / "er", ws.repo_root):
        with jvs.Workspace(p) as other:
            assert other.repo_id == ws.repo_id
            assert other.worktree_name == "main"
            assert other.path == ws.path
    with jvs.Workspace.open(str(ws.path)) as other:
        assert other.repo_id == ws.repo_id


def test_open_by_worktree_name(ws: jvs.Workspace) -> None:
    ws.snapshot("s")
    ws.fork("side").close()
    with jvs.Workspace(ws.repo_root, worktree="side") as side:
        assert side.worktree_name == "side"
        assert side.path == ws.worktree_path("side")


# ---- snapshot -----------------------------------------------------------------------------

def test_snapshot_fields(ws: jvs.Workspace) -> None:
    before = datetime.now(timezone.utc)
    s1 = ws.snapshot("first", tags=["v1", "baseline"])
    assert isinstance(s1, jvs.Snapshot)
    assert s1.note == "first"
    assert s1.tags == ["v1", "baseline"]
    assert s1.parent_id is None
    assert s1.worktree == "main"
    assert s1.engine
    assert s1.payload_root_hash
    assert s1.created_at.tzinfo is not None
    assert before - timedelta(seconds=5) <= s1.created_at <= datetime.now(timezone.utc) + timedelta(seconds=5)
    assert s1.stats is not None and s1.stats["files"] == 2
    assert str(s1) == s1.id and s1.short_id and s1.id.endswith(s1.short_id)
    s2 = ws.snapshot("second", tags="v2")
    assert s2.parent_id == s1.id
    assert s2.tags == ["v2"]
    assert s2 != s1


def test_snapshot_default_note_and_unicode(ws: jvs.Workspace) -> None:
    write(ws.path, "données/é.txt", "ü")
    s = ws.snapshot()
    assert s.note == ""
    s2 = ws.snapshot("nöte ✓ 日本")
    assert s2.note == "nöte ✓ 日本"
    assert ws.resolve(s2.id).note == "nöte ✓ 日本"


def test_partial_snapshot(ws: jvs.Workspace) -> None:
    ws.snapshot("full")
    s = ws.snapshot("only a", paths=["a.txt"])
    assert s.partial_paths == ["a.txt"] and s.is_partial
    s_abs = ws.snapshot("only b", paths=[ws.path / "dir" / "b.txt"])
    assert s_abs.partial_paths == ["dir/b.txt"]


def test_snapshot_value_semantics(ws: jvs.Workspace) -> None:
    s = ws.snapshot("v", tags=["t"])
    h = ws.history(limit=1)[0]
    assert h == s and hash(h) == hash(s) and h is not s
    assert len({s, h}) == 1
    d = s.to_dict()
    assert d["snapshot_id"] == s.id and d["note"] == "v" and d["tags"] == ["t"]
    assert {"snapshot_id", "worktree_name", "created_at", "engine", "payload_root_hash",
            "descriptor_checksum", "integrity_state"} <= set(d)
    d["note"] = "mutated"
    assert s.note == "v" and s.to_dict()["note"] == "v"  # to_dict is a copy
    assert json.loads(s.to_json()) == s.to_dict()
    assert json.loads(s.to_json(indent=2)) == s.to_dict()
    assert jvs.Snapshot.from_dict(s.to_dict()) == s
    assert s != "not a snapshot"
    import pickle

    p = pickle.loads(pickle.dumps(s))
    assert p == s and p.note == "v" and p.created_at == s.created_at and p.stats == s.stats
    with pytest.raises(AttributeError):
        s.note = "x"  # type: ignore[misc]
    assert "Snapshot(id=" in repr(s)


# ---- history ------------------------------------------------------------------------------

def test_history_filters(ws: jvs.Workspace) -> None:
    assert ws.history() == []
    a = ws.snapshot("train run alpha", tags=["exp"])
    b = ws.snapshot("eval beta")
    c = ws.snapshot("train run gamma", tags=["exp", "best"])
    assert ws.history() == [c, b, a]  # newest first
    assert ws.history(limit=1) == [c]
    assert ws.history(limit=0) == [c, b, a]
    assert ws.history(grep="train") == [c, a]
    assert ws.history(tag="exp") == [c, a]
    assert ws.history(tag="best") == [c]
    with ws.fork("other") as other:
        d = other.snapshot("in the fork")
        assert d in other.history()
        assert d not in ws.history()
        everything = ws.history(all=True)
        assert {a, b, c, d} <= set(everything)


def test_history_limit_reads_only_what_it_returns(ws: jvs.Workspace) -> None:
    """The lineage walk stops at ``limit``: a damaged old snapshot does not concern limit=1."""
    a = ws.snapshot("a")
    b = ws.snapshot("b")
    c = ws.snapshot("c")
    (ws.repo_root / ".jvs" / "descriptors" / (a.id + ".json")).unlink()
    short = ws.call("history", {"limit": 2})
    assert [d["snapshot_id"] for d in short["snapshots"]] == [c.id, b.id]
    assert "truncated" not in short  # the walk never reached the missing one
    full = ws.call("history", {})
    assert [d["snapshot_id"] for d in full["snapshots"]] == [c.id, b.id]
    assert a.id in full["truncated"]


# ---- current snapshot, resolve ------------------------------------------------------------

def test_current_snapshot_and_resolve(ws: jvs.Workspace) -> None:
    assert ws.current_snapshot is None
    s1 = ws.snapshot("one", tags=["first"])
    s2 = ws.snapshot("two")
    assert ws.current_snapshot == s2
    assert ws.resolve("HEAD") == s2
    assert ws.resolve("HEAD~1") == s1
    assert ws.resolve(s1.id) == s1
    assert ws.resolve(s1) == s1
    assert ws.resolve("first") == s1
    assert ws.resolve(s1.id[:-3]) == s1 or s1.id[:-3] == s2.id[:-3]
    assert ws.resolve("tw") == s2  # unique note prefix
    ws.restore(s1)
    assert ws.current_snapshot == s1


# ---- restore ------------------------------------------------------------------------------

def test_restore_in_place(ws: jvs.Workspace) -> None:
    s1 = ws.snapshot("one")
    original = tree(ws.path)
    root_ino = os.stat(ws.path).st_ino
    write(ws.path, "a.txt", "changed\n")
    (ws.path / "dir" / "b.txt").unlink()
    write(ws.path, "new/created.txt", "new\n")
    os.chmod(ws.path / "a.txt", 0o600)
    res = ws.restore(s1)
    assert isinstance(res, jvs.RestoreResult)
    assert res.snapshot_id == s1.id and res.worktree == "main"
    assert not res.dry_run and not res.partial
    assert tree(ws.path) == original
    assert not (ws.path / "new").exists()
    assert os.stat(ws.path).st_ino == root_ino  # the worktree directory is kept
    actions = {c.path: c.action for c in res.changes}
    # a removed directory tree may be reported as one "rmdir" of its top
    assert actions.get("new/created.txt") == "delete" or actions.get("new") == "rmdir", actions
    assert actions.get("dir/b.txt") == "create", actions
    assert actions.get("a.txt") == "update", actions
    assert res.stats["deleted"] >= 1 and res.stats["created"] >= 1


def test_restore_dry_run_touches_nothing(ws: jvs.Workspace) -> None:
    s1 = ws.snapshot("one")
    write(ws.path, "extra.txt", "e")
    before = tree(ws.path)
    res = ws.restore(s1, dry_run=True)
    assert res.dry_run
    assert tree(ws.path) == before
    assert any(c.path == "extra.txt" and c.action == "delete" for c in res.changes), res.changes
    assert ws.current_snapshot == s1


@pytest.mark.parametrize("kind", ["id", "tag", "prefix", "snapshot", "note_prefix", "relative"])
def test_restore_reference_kinds(ws: jvs.Workspace, kind: str) -> None:
    s1 = ws.snapshot("unique-note-one", tags=["golden"])
    write(ws.path, "a.txt", "v2")
    s2 = ws.snapshot("two")
    ref = {"id": s1.id, "tag": "golden", "prefix": s1.id[: len(s1.id) - 4],
           "snapshot": s1, "note_prefix": "unique-note", "relative": "HEAD~1"}[kind]
    if kind == "prefix" and s2.id.startswith(ref):  # same millisecond: make it unambiguous
        ref = s1.id
    res = ws.restore(ref)
    assert res.snapshot_id == s1.id
    assert (ws.path / "a.txt").read_text() == "alpha\n"
    assert res.detached and ws.detached
    res = ws.restore("HEAD")  # HEAD in restore = the latest
    assert res.snapshot_id == s2.id and not res.detached
    assert (ws.path / "a.txt").read_text() == "v2"
    assert not ws.detached


# ---- fork / worktrees ---------------------------------------------------------------------

def test_fork(ws: jvs.Workspace) -> None:
    s1 = ws.snapshot("one")
    write(ws.path, "a.txt", "main only")
    ws.snapshot("two")
    with ws.fork("exp-1") as f:
        assert isinstance(f, jvs.Workspace)
        assert f.worktree_name == "exp-1"
        assert f.repo_id == ws.repo_id
        assert f.path != ws.path and f.path.is_dir()
        assert (f.path / "a.txt").read_text() == "main only"  # from the head
        write(f.path, "fork.txt", "f")
        fs = f.snapshot("fork work")
        assert fs.worktree == "exp-1"
        assert not (ws.path / "fork.txt").exists()
    with ws.fork("exp-old", from_=s1) as old:
        assert (old.path / "a.txt").read_text() == "alpha\n"
        assert old.current_snapshot == s1
    with ws.fork() as auto:
        assert auto.worktree_name.startswith("fork-")
    names = {w.name for w in ws.worktrees()}
    assert {"main", "exp-1", "exp-old", auto.worktree_name} <= names


def test_worktree_management(ws: jvs.Workspace) -> None:
    s = ws.snapshot("s")
    with ws.create_worktree("empty") as e:
        assert list(e.path.iterdir()) == []
        assert e.current_snapshot is None
    with ws.create_worktree("filled", from_=s) as f:
        assert (f.path / "a.txt").exists()
    wts = {w.name: w for w in ws.worktrees()}
    assert wts["main"].latest_snapshot_id == s.id == wts["main"].head_snapshot_id
    assert wts["main"].path == str(ws.path)
    assert isinstance(wts["main"].created_at, datetime)
    assert wts["filled"].base_snapshot_id == s.id
    assert not wts["main"].detached
    assert ws.worktree.name == "main"
    assert ws.worktree_path() == ws.path
    assert ws.worktree_path("filled") == Path(wts["filled"].path)
    renamed = ws.rename_worktree("filled", "renamed")
    assert renamed.name == "renamed"
    assert {w.name for w in ws.worktrees()} == {"main", "empty", "renamed"}
    ws.remove_worktree("renamed")
    ws.remove_worktree("empty")
    assert [w.name for w in ws.worktrees()] == ["main"]
    assert ws.history() == [s]  # snapshots survive their worktree


# ---- verify -------------------------------------------------------------------------------

def test_verify(ws: jvs.Workspace) -> None:
    s1 = ws.snapshot("one")
    write(ws.path, "a.txt", "two")
    s2 = ws.snapshot("two")
    res = ws.verify()
    assert res and res.ok and res.failures == []
    assert {r.snapshot_id for r in res.results} == {s1.id, s2.id}
    assert all(r.checksum_valid and r.payload_hash_valid and not r.tamper_detected for r in res.results)
    one = ws.verify(s1)
    assert [r.snapshot_id for r in one.results] == [s1.id]
    assert ws.verify(s1.id, payload=False).ok
    # tamper with the stored payload of s1
    stored = ws.repo_root / ".jvs" / "snapshots" / s1.id / "a.txt"
    os.chmod(stored, 0o644)
    stored.write_text("tampered")
    bad = ws.verify()
    assert not bad and not bad.ok
    assert [f.snapshot_id for f in bad.failures] == [s1.id]
    assert not bad.failures[0].payload_hash_valid
    assert ws.verify(s1, payload=False).ok  # descriptor checksum alone still fine


# ---- generic call ------------------------------------------------------------------------

def test_generic_call(ws: jvs.Workspace) -> None:
    s = ws.snapshot("s")
    doc = ws.call("history", {"limit": 1})
    assert doc["kind"] == "history" and doc["snapshots"][0]["snapshot_id"] == s.id
    doc = ws.call("snapshot", {"note": "via call"}, progress=lambda e: None)
    assert doc["kind"] == "snapshot" and doc["snapshot"]["note"] == "via call"


# ---- lifecycle ----------------------------------------------------------------------------

def test_close_and_context_manager(tmp_path: Path) -> None:
    ws = jvs.Workspace.init(tmp_path / "r")
    with ws as same:
        assert same is ws
        same.snapshot("x")
    assert ws.closed
    with pytest.raises(jvs.WorkspaceClosed) as ei:
        ws.history()
    assert ei.value.code == "E_CLOSED"
    with pytest.raises(jvs.JVSError):
        ws.snapshot("after close")
    ws.close()  # idempotent
    ws.interrupt()  # no-op when closed
    assert "closed" in repr(ws)
    assert os.fspath(ws) == str(ws.path)


def test_many_handles_same_repo(ws: jvs.Workspace) -> None:
    handles = [jvs.Workspace(ws.path) for _ in range(20)]
    handles[3].snapshot("from handle 3")
    for h in handles:
        assert h.history(limit=1)[0].note == "from handle 3"
        h.close()


def test_garbage_collected_handle_is_closed(tmp_path: Path) -> None:
    import gc

    for i in range(20):
        jvs.Workspace.init(tmp_path / ("r%d" % i)).snapshot("x")
    gc.collect()  # ffi.gc closes the handles; nothing to assert but no crash / leak of fds
    time.sleep(0)


def test_result_warnings_become_python_warnings(ws: jvs.Workspace) -> None:
    ws.snapshot("first")
    audit = ws.repo_root / ".jvs" / "audit" / "audit.jsonl"
    audit.unlink()
    audit.mkdir()  # the audit log cannot be appended: the snapshot succeeds with a warning
    with pytest.warns(jvs.JVSWarning, match="audit") as rec:
        s = ws.snapshot("second")
    assert rec[0].filename == __file__  # attributed to the caller, not to jvs internals
    assert ws.history(limit=1) == [s]


def test_progress_event_model() -> None:
    ev = jvs.ProgressEvent.from_dict({"schema": 1, "kind": "progress", "op": "snapshot",
                                      "phase": "copy", "done": 5, "total": 10,
                                      "bytes_done": 50, "bytes_total": 200})
    assert ev.fraction == 0.25 and ev.message is None
    warn = jvs.ProgressEvent.from_dict({"schema": 1, "kind": "warning", "op": "restore",
                                        "message": "kept a hard link as a copy"})
    assert warn.kind == "warning" and warn.message == "kept a hard link as a copy"
    assert warn.fraction is None


def test_init_adopts_an_existing_folder(tmp_path: Path) -> None:
    proj = tmp_path / "project"
    write(proj, "src/a.txt", "alpha")
    write(proj, "src/b.txt", "kept")
    inode = (proj / "src" / "b.txt").stat().st_ino
    with jvs.Workspace.init(proj) as ws:  # a folder with files: adopted (adopt=None)
        assert ws.path == proj.resolve() and ws.repo_root == proj.resolve()
        assert ws.info().layout == "adopted" and ws.worktree.name == "main"
        s = ws.snapshot("adopted")
        write(proj, "src/a.txt", "changed")
        write(proj, "new.txt", "new")
        ws.restore(s)
        assert (proj / "src" / "a.txt").read_text() == "alpha" and not (proj / "new.txt").exists()
        assert (proj / ".jvs" / "layout.json").exists()
    assert jvs.Workspace(proj / "src").path == proj.resolve()
    with pytest.raises(jvs.AlreadyExists):
        jvs.Workspace.init(proj / "src")  # inside a repository: refused
    other = tmp_path / "other"
    write(other, "f.txt")
    with jvs.Workspace.init(other, adopt=False) as ws:
        assert ws.path == (other / "main").resolve() and ws.info().layout == "standard"
    with jvs.Workspace.init(tmp_path / "empty", adopt=True) as ws:
        assert ws.path == (tmp_path / "empty").resolve()
    assert (proj / "src" / "b.txt").stat().st_ino == inode  # adopted, snapshotted, restored: never moved
