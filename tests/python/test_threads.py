"""One Workspace shared by many threads; the GIL is released during library calls."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, List, Tuple

import pytest
from conftest import many_files, write

import jvs


def _hold_lock(ws: jvs.Workspace, worktree: str = "main") -> int:
    lock = ws.repo_root / ".jvs" / "locks" / ("wt-%s.lock" % worktree)
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def test_gil_released_during_library_call(ws: jvs.Workspace) -> None:
    """While a library call waits inside libjvs, other Python threads keep running."""
    fd = _hold_lock(ws)
    done = threading.Event()
    result: List[object] = []

    def blocked() -> None:
        result.append(ws.snapshot("waits", lock_timeout_ms=20000))
        done.set()

    t = threading.Thread(target=blocked)
    t.start()
    try:
        time.sleep(0.1)
        count = 0
        t0 = time.monotonic()
        while time.monotonic() - t0 < 0.5:
            count += 1  # pure Python work: needs the GIL
        assert not done.is_set()  # the snapshot is still inside the library
        assert count > 10000, "Python barely ran while libjvs was called: %d" % count
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    t.join(20)
    assert done.is_set() and isinstance(result[0], jvs.Snapshot)


@pytest.mark.slow
def test_100_threads_fork_and_snapshot(ws: jvs.Workspace) -> None:
    for i in range(20):
        write(ws.path, "src/m%02d.py" % i, "print(%d)\n" % i * 20)
    base = ws.snapshot("baseline", tags=["baseline"])
    # (thread, time) of every progress event: an event of thread B between two events of
    # thread A's *same* library call proves B ran Python while A was inside libjvs.
    calls: List[List[Tuple[int, float]]] = []
    lock = threading.Lock()

    def recorder() -> "Callable[[jvs.ProgressEvent], None]":
        mine: List[Tuple[int, float]] = []
        with lock:
            calls.append(mine)
        tid = threading.get_ident()
        return lambda _e: mine.append((tid, time.monotonic()))

    def job(i: int) -> Tuple[str, str, str]:
        with ws.fork("exp-%03d" % i, from_="baseline", progress=recorder()) as exp:
            write(exp.path, "result.txt", "seed %d\n" % i)
            snap = exp.snapshot("seed %d" % i, tags=["run"], progress=recorder())
            assert exp.history(limit=2) == [snap, base]
            return (exp.worktree_name, snap.id, (exp.path / "result.txt").read_text())

    t_start = time.monotonic()
    with ThreadPoolExecutor(max_workers=100) as pool:
        results = list(pool.map(job, range(100)))
    elapsed = time.monotonic() - t_start

    names = [r[0] for r in results]
    assert names == ["exp-%03d" % i for i in range(100)]
    assert len({r[1] for r in results}) == 100
    assert all(r[2] == "seed %d\n" % i for i, r in enumerate(results))
    assert len(ws.worktrees()) == 101
    assert len(ws.history(all=True, tag="run")) == 100
    assert ws.verify().ok

    everything = sorted(ev for c in calls for ev in c)
    overlapped = 0
    for c in calls:
        if len(c) < 2:
            continue
        tid, first, last = c[0][0], c[0][1], c[-1][1]
        if any(other != tid and first < t < last for other, t in everything):
            overlapped += 1
    assert overlapped >= 5, "only %d library calls saw another thread run meanwhile" % overlapped
    print("100 fork+snapshot jobs in %.2fs; %d of %d calls overlapped another thread"
          % (elapsed, overlapped, len(calls)))


def test_threads_snapshot_same_worktree_serialise(ws: jvs.Workspace) -> None:
    n = 12

    def job(i: int) -> jvs.Snapshot:
        return ws.snapshot("concurrent %d" % i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        snaps = list(pool.map(job, range(n)))
    hist = ws.history()
    assert set(hist) == set(snaps) and len(hist) == n
    # a single line: each parent is the previous snapshot
    for newer, older in zip(hist, hist[1:]):
        assert newer.parent_id == older.id


def test_readers_and_writers_share_a_handle(ws: jvs.Workspace) -> None:
    ws.snapshot("first")
    stop = threading.Event()
    errors: List[BaseException] = []

    def reader() -> None:
        try:
            while not stop.is_set():
                assert ws.history(limit=1)
                ws.info()
                ws.worktrees()
        except BaseException as e:  # noqa: B902
            errors.append(e)

    readers = [threading.Thread(target=reader) for _ in range(8)]
    for t in readers:
        t.start()
    try:
        for i in range(10):
            write(ws.path, "w.txt", str(i))
            ws.snapshot("w%d" % i)
    finally:
        stop.set()
        for t in readers:
            t.join()
    assert not errors, errors
    assert len(ws.history()) == 11


def test_close_waits_for_running_calls(ws: jvs.Workspace) -> None:
    fd = _hold_lock(ws)
    started = threading.Event()
    outcome: List[object] = []

    def blocked() -> None:
        started.set()
        try:
            outcome.append(ws.snapshot("waits", lock_timeout_ms=20000))
        except BaseException as e:  # noqa: B902
            outcome.append(e)

    t = threading.Thread(target=blocked)
    t.start()
    started.wait()
    time.sleep(0.2)
    closer = threading.Thread(target=ws.close)
    closer.start()
    time.sleep(0.2)
    assert closer.is_alive()  # close() waits for the snapshot
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)
    t.join(20)
    closer.join(20)
    assert isinstance(outcome[0], jvs.Snapshot)
    assert ws.closed


def test_close_cancel_interrupts_running_calls(ws: jvs.Workspace) -> None:
    many_files(ws.path)
    outcome: List[object] = []

    def big() -> None:
        try:
            outcome.append(ws.snapshot("big"))
        except BaseException as e:  # noqa: B902
            outcome.append(e)

    t = threading.Thread(target=big)
    t.start()
    time.sleep(0.3)
    t0 = time.monotonic()
    ws.close(cancel=True)
    assert time.monotonic() - t0 < 5
    t.join(10)
    assert isinstance(outcome[0], jvs.Cancelled), outcome
    assert ws.closed
