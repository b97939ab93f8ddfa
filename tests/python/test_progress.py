"""Progress events, cancellation by raising, tqdm, Ctrl-C, interrupt()."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import List

import pytest
from conftest import many_files, require_module, subprocess_env, tree, write

import jvs
from jvs.progress import EventLog, cancel_after, tqdm_progress


class Stop(Exception):
    pass


def _populate(ws: jvs.Workspace, n: int = 40) -> None:
    for i in range(n):
        write(ws.path, "data/f%03d.bin" % i, "payload %d\n" % i * 50)


def _assert_events(events: List[jvs.ProgressEvent], op: str) -> None:
    assert events, "no progress events for %s" % op
    for e in events:
        assert isinstance(e, jvs.ProgressEvent)
        assert e.kind == "progress"
        assert e.op == op
        assert e.phase
        assert e.done >= 0 and e.total >= 0
        assert e.raw["schema"] == 1
        f = e.fraction
        assert f is None or 0.0 <= f <= 1.0


@pytest.mark.parametrize("on_main_thread", [True, False])
def test_events_for_every_long_call(ws: jvs.Workspace, on_main_thread: bool) -> None:
    _populate(ws)
    caller: List[int] = []
    seen_threads: set = set()

    def run() -> None:
        caller.append(threading.get_ident())
        log = EventLog()

        def cb(e: jvs.ProgressEvent) -> None:
            seen_threads.add(threading.get_ident())
            log(e)

        s = ws.snapshot("s", progress=cb)
        _assert_events(log.events, "snapshot")
        log.events.clear()
        write(ws.path, "data/f000.bin", "changed")
        ws.restore(s, progress=cb)
        _assert_events(log.events, "restore")
        log.events.clear()
        ws.fork("f", progress=cb).close()
        _assert_events(log.events, "worktree_fork")
        log.events.clear()
        ws.create_worktree("c", from_=s, progress=cb).close()
        _assert_events(log.events, "worktree_create")
        log.events.clear()
        assert ws.verify(progress=cb).ok
        _assert_events(log.events, "verify")

    if on_main_thread:
        run()
    else:
        t = threading.Thread(target=run)
        t.start()
        t.join()
    # callbacks run on the thread that made the call
    assert seen_threads == {caller[0]}


@pytest.mark.parametrize("at_event", [1, 2])
def test_raising_cancels_snapshot_cleanly(ws: jvs.Workspace, at_event: int) -> None:
    _populate(ws)
    first = ws.snapshot("first")
    write(ws.path, "new.txt")
    snapdir = ws.repo_root / ".jvs" / "snapshots"
    before = sorted(os.listdir(snapdir))
    err = Stop("user said stop")
    with pytest.raises(Stop) as ei:
        ws.snapshot("cancelled", progress=cancel_after(at_event, err))
    assert ei.value is err
    assert ws.history() == [first]
    assert ws.current_snapshot == first
    assert sorted(os.listdir(snapdir)) == before  # no leftover .tmp directory
    assert ws.snapshot("after cancel").parent_id == first.id


def test_raising_cancels_restore_cleanly(ws: jvs.Workspace) -> None:
    _populate(ws)
    s = ws.snapshot("s")
    write(ws.path, "data/f001.bin", "edited")
    write(ws.path, "extra.txt", "extra")
    before = tree(ws.path)
    with pytest.raises(Stop):
        ws.restore(s, progress=cancel_after(1, Stop()))
    assert tree(ws.path) == before
    assert ws.current_snapshot == s


def test_restore_cancelled_while_writing_keeps_every_file_whole(ws: jvs.Workspace) -> None:
    """jvs.h: a cancelled restore may have rewritten some files, each one whole, and does not
    move the worktree's head. Restoring again finishes the job."""
    many_files(ws.path, 20000)
    old = ws.snapshot("old")
    old_tree = tree(ws.path)
    many_files(ws.path, 20000, content=b"changed")
    new = ws.snapshot("new")
    new_tree = tree(ws.path)

    def cb(e: jvs.ProgressEvent) -> None:
        if e.phase == "write" and e.done > 1000:
            raise Stop()

    with pytest.raises(Stop):
        ws.restore(old, progress=cb)
    after = tree(ws.path)
    assert set(after) == set(new_tree)  # nothing missing, nothing extra
    torn = [k for k in after if after[k] not in (old_tree[k], new_tree[k])]
    assert torn == [], "%d files are neither old nor new" % len(torn)
    assert any(after[k] != new_tree[k] for k in after), "cancelled before writing anything"
    assert ws.current_snapshot == new and not ws.detached  # head did not move
    ws.restore(old)
    assert tree(ws.path) == old_tree and ws.current_snapshot == old


def test_raising_cancels_fork_cleanly(ws: jvs.Workspace) -> None:
    _populate(ws)
    ws.snapshot("s")
    with pytest.raises(Stop):
        ws.fork("never", progress=cancel_after(1, Stop()))
    assert [w.name for w in ws.worktrees()] == ["main"]
    assert not (ws.repo_root / "worktrees" / "never").exists()
    ws.fork("never").close()  # the name is free


def test_raising_cancels_verify(ws: jvs.Workspace) -> None:
    _populate(ws)
    ws.snapshot("s")
    with pytest.raises(Stop):
        ws.verify(progress=cancel_after(1, Stop()))


def test_default_cancel_after_raises_cancelled(ws: jvs.Workspace) -> None:
    _populate(ws)
    with pytest.raises(jvs.Cancelled):
        ws.snapshot("s", progress=cancel_after(1))


def test_callback_must_not_reenter(ws: jvs.Workspace) -> None:
    _populate(ws)

    def cb(_e: jvs.ProgressEvent) -> None:
        ws.history()

    with pytest.raises(jvs.JVSError) as ei:
        ws.snapshot("s", progress=cb)
    assert ei.value.code == "E_REENTRANT"
    assert ws.history() == []
    with pytest.raises(jvs.JVSError) as ei:
        ws.snapshot("s", progress=lambda e: ws.close())
    assert ei.value.code == "E_REENTRANT" and not ws.closed
    interrupted: list = []

    def stop(_e: jvs.ProgressEvent) -> None:  # interrupt() is the one call allowed
        interrupted.append(1)
        ws.interrupt()

    with pytest.raises(jvs.Cancelled):
        ws.snapshot("s", progress=stop)
    assert interrupted


def test_tqdm_adapter(ws: jvs.Workspace) -> None:
    require_module("tqdm", "tqdm>=4")
    _populate(ws)
    out = io.StringIO()
    with tqdm_progress(file=out, mininterval=0) as bar:
        ws.snapshot("with a bar", progress=bar)
        ws.verify(progress=bar)
    assert bar.bars_opened >= 2
    text = out.getvalue()
    assert "snapshot:" in text and "verify:" in text


_CTRL_C_SCRIPT = textwrap.dedent(
    """
    import fcntl, os, sys, time
    import jvs
    repo, mode, how = sys.argv[1:4]
    ws = jvs.Workspace.init(repo)
    open(os.path.join(ws.path, "f.txt"), "w").write("x")
    ws.snapshot("base")
    if how == "lock":   # another owner holds the worktree lock: the snapshot waits inside libjvs
        lock = os.path.join(ws.repo_root, ".jvs", "locks", "wt-main.lock")
        os.makedirs(os.path.dirname(lock), exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
    else:               # 20000 files: the snapshot works inside libjvs for about a second
        for i in range(20000):
            d = os.path.join(ws.path, "d%03d" % (i // 500))
            if i % 500 == 0:
                os.makedirs(d)
            with open(os.path.join(d, "f%05d" % i), "w") as fh:
                fh.write(str(i))
    started = []
    def progress(e):
        if not started:
            started.append(1)
            print("STARTED", flush=True)
    print("READY", flush=True)
    t0 = time.monotonic()
    try:
        ws.snapshot("long", lock_timeout_ms=6000 if how == "lock" else 60000,
                    progress=progress if mode == "progress" else None)
        print("NOT INTERRUPTED", flush=True)
    except KeyboardInterrupt:
        print("INTERRUPTED %.2f" % (time.monotonic() - t0), flush=True)
    if how == "lock":
        fcntl.flock(fd, fcntl.LOCK_UN)
    print("HISTORY %d" % len(ws.history()), flush=True)
    ws.snapshot("works after")
    print("DONE", flush=True)
    """
)


def _ctrl_c(tmp_path: Path, mode: str, how: str) -> None:
    script = tmp_path / "ctrl_c.py"
    script.write_text(_CTRL_C_SCRIPT)
    p = subprocess.Popen([sys.executable, str(script), str(tmp_path / "repo"), mode, how],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=subprocess_env())
    try:
        assert p.stdout is not None
        line = p.stdout.readline()
        assert line.strip() == "READY", line
        if mode == "progress" and how == "files":
            line = p.stdout.readline()
            assert line.strip() == "STARTED", line
            time.sleep(0.1)
        else:
            time.sleep(0.3)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=90)
    finally:
        if p.poll() is None:
            p.kill()
    lines = out.split("\n")
    assert any(ln.startswith("INTERRUPTED") for ln in lines), out + err
    secs = float(next(ln for ln in lines if ln.startswith("INTERRUPTED")).split()[1])
    assert secs < 4, "interrupt took %.1fs" % secs
    assert "HISTORY 1" in lines, out + err  # nothing was snapshotted
    assert "DONE" in lines, out + err
    assert p.returncode == 0, err


@pytest.mark.parametrize("mode", ["plain", "progress"])
def test_ctrl_c_interrupts_long_call(tmp_path: Path, mode: str) -> None:
    _ctrl_c(tmp_path, mode, "files")


def test_ctrl_c_interrupts_lock_wait(tmp_path: Path) -> None:
    _ctrl_c(tmp_path, "plain", "lock")


_SIGNAL_STATE_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys, threading, time
    import jvs
    sys.path.insert(0, sys.argv[2])
    from conftest import many_files
    ws = jvs.Workspace.init(sys.argv[1])
    many_files(ws.path, 20000)

    def ctrl_c_soon():
        time.sleep(0.3)
        os.kill(os.getpid(), signal.SIGINT)

    # 1. someone else's wakeup fd (asyncio installs one) still hears the signal, and is restored
    r, w = os.pipe()
    os.set_blocking(w, False)
    signal.set_wakeup_fd(w)
    threading.Thread(target=ctrl_c_soon).start()
    try:
        ws.snapshot("big")
        print("NOT INTERRUPTED")
    except KeyboardInterrupt:
        print("INTERRUPTED")
    os.set_blocking(r, False)
    print("FORWARDED", signal.SIGINT in os.read(r, 64))
    print("WAKEUP RESTORED", signal.set_wakeup_fd(-1) == w)
    print("HANDLER RESTORED", signal.getsignal(signal.SIGINT) is signal.default_int_handler)

    # 2. a handler of the application's own runs (once, after the call), the call is cancelled
    seen = []
    signal.signal(signal.SIGINT, lambda n, f: seen.append(n))
    threading.Thread(target=ctrl_c_soon).start()
    try:
        ws.snapshot("big")
        print("NOT CANCELLED")
    except jvs.Cancelled:
        print("CANCELLED", seen == [signal.SIGINT])
    print("HISTORY", len(ws.history()))
    """
)


def test_ctrl_c_leaves_signal_state_as_it_was(tmp_path: Path) -> None:
    script = tmp_path / "signal_state.py"
    script.write_text(_SIGNAL_STATE_SCRIPT)
    r = subprocess.run([sys.executable, str(script), str(tmp_path / "repo"), str(Path(__file__).parent)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=subprocess_env(),
                       timeout=180)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.split("\n")[:6] == ["INTERRUPTED", "FORWARDED True", "WAKEUP RESTORED True",
                                        "HANDLER RESTORED True", "CANCELLED True", "HISTORY 0"], r.stdout
