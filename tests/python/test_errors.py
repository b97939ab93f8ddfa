"""Every exception family, each produced by the real library (or the SDK where noted)."""

from __future__ import annotations

import fcntl
import os
import pickle
import shutil
from pathlib import Path

import pytest
from conftest import many_files, write

import jvs
from jvs.errors import CODE_TO_ERROR, error_from_document


def _check(e: jvs.JVSError, cls: type, code: str) -> None:
    assert type(e) is cls, (type(e), e.code, e)
    assert e.code == code, (e.code, e)
    assert e.message
    assert isinstance(e.hint, str)
    assert isinstance(e.details, dict)
    assert e.status < 0 and e.status_name
    assert e.document.get("kind") == "error" and e.document.get("schema") == 1
    assert code in str(e)


def test_not_found_not_repo(tmp_path: Path) -> None:
    with pytest.raises(jvs.NotFound) as ei:
        jvs.Workspace(tmp_path)
    _check(ei.value, jvs.NotFound, "E_NOT_REPO")
    assert ei.value.status_name == "JVS_E_NOT_FOUND"
    assert ei.value.status == -3


def test_not_found_ref_and_worktree(ws: jvs.Workspace) -> None:
    with pytest.raises(jvs.NotFound) as ei:
        ws.resolve("HEAD")
    _check(ei.value, jvs.NotFound, "E_NO_SNAPSHOTS")
    ws.snapshot("s")
    with pytest.raises(jvs.NotFound) as ei:
        ws.restore("no-such-ref")
    _check(ei.value, jvs.NotFound, "E_REF_NOT_FOUND")
    assert ei.value.op == "restore"
    with pytest.raises(jvs.NotFound) as ei:
        ws.remove_worktree("ghost")
    _check(ei.value, jvs.NotFound, "E_WORKTREE_NOT_FOUND")
    with pytest.raises(jvs.NotFound) as ei:
        ws.snapshot("partial", paths=["does/not/exist"])
    _check(ei.value, jvs.NotFound, "E_PATH_NOT_FOUND")


def test_already_exists(ws: jvs.Workspace) -> None:
    with pytest.raises(jvs.AlreadyExists) as ei:
        jvs.Workspace.init(ws.repo_root)
    _check(ei.value, jvs.AlreadyExists, "E_REPO_EXISTS")
    ws.snapshot("s")
    ws.fork("twin").close()
    with pytest.raises(jvs.AlreadyExists) as ei:
        ws.fork("twin")
    _check(ei.value, jvs.AlreadyExists, "E_WORKTREE_EXISTS")


def test_invalid_name(ws: jvs.Workspace) -> None:
    ws.snapshot("s")
    with pytest.raises(jvs.InvalidName) as ei:
        ws.fork("bad/name")
    _check(ei.value, jvs.InvalidName, "E_NAME_INVALID")
    assert isinstance(ei.value, jvs.InvalidArgument)
    with pytest.raises(jvs.InvalidName) as ei:
        ws.snapshot("t", tags=["bad tag with spaces\n"])
    _check(ei.value, jvs.InvalidName, "E_TAG_INVALID")


def test_invalid_argument(ws: jvs.Workspace) -> None:
    with pytest.raises(jvs.InvalidArgument) as ei:
        ws.snapshot("s", paths=["../outside"])
    _check(ei.value, jvs.InvalidArgument, "E_PATH_INVALID")
    with pytest.raises(jvs.InvalidArgument) as ei:
        ws.snapshot("nul \x00 in note")
    _check(ei.value, jvs.InvalidArgument, "E_NOTE_INVALID")
    with pytest.raises(jvs.InvalidArgument) as ei:
        ws.history(limit=-1)
    _check(ei.value, jvs.InvalidArgument, "E_OPTION_INVALID")
    with pytest.raises(jvs.InvalidArgument) as ei:
        ws.call("history", {"limit": "ten"})
    _check(ei.value, jvs.InvalidArgument, "E_OPTION_INVALID")


def test_path_escape(ws: jvs.Workspace, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    write(outside, "secret.txt")
    os.symlink(outside, ws.path / "link")
    with pytest.raises(jvs.InvalidArgument) as ei:
        ws.snapshot("s", paths=["link/secret.txt"])
    _check(ei.value, jvs.InvalidArgument, "E_PATH_ESCAPE")


def test_ambiguous_ref(ws: jvs.Workspace) -> None:
    ws.snapshot("experiment one")
    ws.snapshot("experiment two")
    with pytest.raises(jvs.AmbiguousRef) as ei:
        ws.restore("experiment")
    _check(ei.value, jvs.AmbiguousRef, "E_REF_AMBIGUOUS")
    assert isinstance(ei.value, jvs.InvalidArgument)
    assert len(ei.value.details.get("candidates", [])) == 2


def test_unsupported(ws: jvs.Workspace) -> None:
    with pytest.raises(jvs.Unsupported) as ei:
        ws.call("history", {"no_such_option": 1})
    _check(ei.value, jvs.Unsupported, "E_OPTION_UNKNOWN")
    os.mkfifo(ws.path / "pipe")
    with pytest.raises(jvs.Unsupported) as ei:
        ws.snapshot("with a fifo")
    _check(ei.value, jvs.Unsupported, "E_SPECIAL_FILE")
    assert ws.history() == []  # nothing was written


def test_conflict_and_detached(ws: jvs.Workspace) -> None:
    s1 = ws.snapshot("one")
    ws.snapshot("two")
    with pytest.raises(jvs.Conflict) as ei:
        ws.remove_worktree("main")
    _check(ei.value, jvs.Conflict, "E_WORKTREE_MAIN")
    with pytest.raises(jvs.Conflict) as ei:
        ws.rename_worktree("main", "primary")
    _check(ei.value, jvs.Conflict, "E_WORKTREE_MAIN")
    ws.restore(s1)
    with pytest.raises(jvs.Detached) as ei:
        ws.snapshot("while detached")
    _check(ei.value, jvs.Detached, "E_DETACHED")
    assert isinstance(ei.value, jvs.Conflict)
    assert ei.value.hint  # tells the user what to do


def test_locked(ws: jvs.Workspace) -> None:
    lock = ws.repo_root / ".jvs" / "locks" / "wt-main.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(jvs.Locked) as ei:
            ws.snapshot("blocked", lock_timeout_ms=0)
        _check(ei.value, jvs.Locked, "E_LOCKED")
        assert ei.value.status == -5
        with pytest.raises(jvs.Locked):
            ws.snapshot("blocked", lock_timeout_ms=150)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    assert ws.snapshot("free again").note == "free again"


def test_corrupt(ws: jvs.Workspace) -> None:
    s = ws.snapshot("s")
    desc = ws.repo_root / ".jvs" / "descriptors" / (s.id + ".json")
    text = desc.read_text()
    desc.write_text(text.replace('"note": "s"', '"note": "forged"'))
    with pytest.raises(jvs.Corrupt) as ei:
        ws.restore(s.id)
    _check(ei.value, jvs.Corrupt, "E_CHECKSUM_MISMATCH")
    desc.write_text("{ not json")
    with pytest.raises(jvs.Corrupt) as ei:
        ws.restore(s.id)
    _check(ei.value, jvs.Corrupt, "E_DESCRIPTOR_CORRUPT")


def test_corrupt_config(ws: jvs.Workspace) -> None:
    (ws.repo_root / ".jvs" / "format_version").write_text("garbage")
    with pytest.raises(jvs.Corrupt) as ei:
        jvs.Workspace(ws.path)
    _check(ei.value, jvs.Corrupt, "E_CONFIG_CORRUPT")


def test_format_unsupported(ws: jvs.Workspace) -> None:
    (ws.repo_root / ".jvs" / "format_version").write_text("99\n")
    with pytest.raises(jvs.Unsupported) as ei:
        jvs.Workspace(ws.path)
    _check(ei.value, jvs.Unsupported, "E_FORMAT_UNSUPPORTED")


def test_io_failure(ws: jvs.Workspace) -> None:
    ws.snapshot("s")
    snaps = ws.repo_root / ".jvs" / "snapshots"
    shutil.rmtree(snaps)
    snaps.write_text("a file where a directory should be")
    with pytest.raises(jvs.IOFailure) as ei:
        ws.snapshot("cannot write")
    _check(ei.value, jvs.IOFailure, "E_IO")
    assert ei.value.details["call"] and ei.value.details["errno"] and ei.value.details["path"]


def _interrupt_while(ws: jvs.Workspace, call: "object", delay: float) -> BaseException:
    import threading
    import time

    errors: list = []

    def run() -> None:
        try:
            call()  # type: ignore[operator]
        except BaseException as e:  # noqa: B902
            errors.append(e)

    t = threading.Thread(target=run)
    t.start()
    time.sleep(delay)
    t0 = time.monotonic()
    ws.interrupt()
    t.join(30)
    assert not t.is_alive()
    assert time.monotonic() - t0 < 5
    assert len(errors) == 1, "the call was not cancelled"
    return errors[0]


def test_cancelled_by_interrupt(ws: jvs.Workspace) -> None:
    many_files(ws.path)
    e = _interrupt_while(ws, lambda: ws.snapshot("big"), 0.3)
    _check(e, jvs.Cancelled, "E_CANCELLED")
    assert ws.history() == []
    assert ws.snapshot("afterwards").note == "afterwards"


def test_cancelled_by_interrupt_while_waiting_for_lock(ws: jvs.Workspace) -> None:
    lock = ws.repo_root / ".jvs" / "locks" / "wt-main.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        e = _interrupt_while(ws, lambda: ws.snapshot("waits", lock_timeout_ms=8000), 0.3)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    _check(e, jvs.Cancelled, "E_CANCELLED")


# ---- mapping (SDK side) -------------------------------------------------------------------

def test_every_library_code_is_mapped() -> None:
    codes = jvs.build_info()["error_codes"]
    assert codes, "build_info lists no error codes"
    missing = [c for c in codes if c not in CODE_TO_ERROR]
    assert not missing, "library error codes without an SDK family: %s" % missing


def test_unknown_code_maps_to_base_class() -> None:
    doc = {"schema": 1, "kind": "error",
           "error": {"status": -1, "status_name": "ERROR", "code": "E_FROM_THE_FUTURE",
                     "message": "new", "hint": "upgrade", "op": "x", "details": {"k": 1}}}
    e = error_from_document(doc, -1)
    assert type(e) is jvs.JVSError
    assert (e.code, e.message, e.hint, e.details, e.op) == ("E_FROM_THE_FUTURE", "new", "upgrade", {"k": 1}, "x")
    internal = error_from_document({"schema": 1, "kind": "error",
                                    "error": {"status": -12, "code": "E_INTERNAL", "message": "bug"}})
    assert type(internal) is jvs.InternalError
    nomem = error_from_document(None, -11)
    assert isinstance(nomem, jvs.OutOfMemory) and isinstance(nomem, MemoryError)


def test_errors_pickle(ws: jvs.Workspace) -> None:
    with pytest.raises(jvs.NotFound) as ei:
        ws.restore("nothing")
    e2 = pickle.loads(pickle.dumps(ei.value))
    assert type(e2) is type(ei.value)
    assert (e2.code, e2.message, e2.hint, e2.details) == (ei.value.code, ei.value.message,
                                                         ei.value.hint, ei.value.details)


def test_sdk_side_errors(ws: jvs.Workspace) -> None:
    with pytest.raises(TypeError):
        ws.restore(42)  # type: ignore[arg-type]
    with pytest.raises(jvs.InvalidArgument) as ei:
        ws.snapshot("bad surrogate \udcff")
    assert ei.value.code == "E_JSON_INVALID"
