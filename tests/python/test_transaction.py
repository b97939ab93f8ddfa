"""jvs.transaction: success, exception, nesting, decorator, detached worktrees, clean worktrees."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import tree, write

import jvs


class Boom(Exception):
    pass


def test_success_takes_baseline_and_after(ws: jvs.Workspace) -> None:
    with jvs.transaction(ws, note="agent step", tags=["agent"]) as tx:  # no head yet: a baseline is taken
        assert tx.baseline is not None and tx.baseline.note == "before: agent step"
        assert tx.baseline_taken
        assert ws.current_snapshot == tx.baseline
        write(ws.path, "result.txt", "42")
    assert tx.after is not None and not tx.rolled_back
    assert tx.after.note == "agent step" and tx.after.tags == ["agent"]
    assert tx.after.parent_id == tx.baseline.id
    assert ws.history(limit=2) == [tx.after, tx.baseline]
    assert (ws.path / "result.txt").read_text() == "42"
    assert not ws.detached


def test_exception_restores_baseline_and_reraises(ws: jvs.Workspace) -> None:
    write(ws.path, "a.txt", "unsaved\n")
    ws.snapshot("start")
    write(ws.path, "a.txt", "changed since the head\n")  # dirty: the transaction takes its baseline
    before = tree(ws.path)
    err = Boom("agent crashed")
    with pytest.raises(Boom) as ei:
        with jvs.transaction(ws, note="risky") as tx:
            write(ws.path, "a.txt", "overwritten")           # changed
            (ws.path / "dir" / "b.txt").unlink()              # deleted
            write(ws.path, "created/deep/new.txt", "new")     # created (with directories)
            write(ws.path, "top-level-new.bin", "x")
            raise err
    assert ei.value is err  # the very same exception object
    assert tx.rolled_back and tx.after is None
    assert tx.restore_result is not None and tx.restore_result.snapshot_id == tx.baseline.id
    assert tree(ws.path) == before
    assert not (ws.path / "created").exists()
    assert ws.history(limit=1) == [tx.baseline]  # no "after" snapshot
    assert not ws.detached  # the block took no snapshot: still attached
    ws.snapshot("can continue")


def test_first_transaction_on_empty_worktree(tmp_path: Path) -> None:
    with jvs.Workspace.init(tmp_path / "r") as ws:
        with pytest.raises(Boom):
            with jvs.transaction(ws, note="first ever"):
                write(ws.path, "x.txt")
                raise Boom()
        assert list(ws.path.iterdir()) == []


def test_keyboard_interrupt_in_block_rolls_back(ws: jvs.Workspace) -> None:
    before = tree(ws.path)
    with pytest.raises(KeyboardInterrupt):
        with jvs.transaction(ws, note="interrupted"):
            write(ws.path, "half.txt")
            raise KeyboardInterrupt
    assert tree(ws.path) == before


def test_nested_inner_failure_caught(ws: jvs.Workspace) -> None:
    with jvs.transaction(ws, note="outer") as outer:
        write(ws.path, "outer.txt", "kept")
        with pytest.raises(Boom):
            with jvs.transaction(ws, note="inner") as inner:
                write(ws.path, "inner.txt", "dropped")
                write(ws.path, "outer.txt", "inner edit dropped")
                raise Boom()
        assert inner.rolled_back
        assert not (ws.path / "inner.txt").exists()
        assert (ws.path / "outer.txt").read_text() == "kept"
        write(ws.path, "outer2.txt", "also kept")
    assert outer.after is not None
    assert (ws.path / "outer.txt").read_text() == "kept"
    assert (ws.path / "outer2.txt").exists() and not (ws.path / "inner.txt").exists()
    notes = [s.note for s in ws.history()]
    assert notes == ["outer", "before: inner", "before: outer"]


def test_nested_failure_propagates_to_outer(ws: jvs.Workspace) -> None:
    before = tree(ws.path)
    with pytest.raises(Boom):
        with jvs.transaction(ws, note="outer") as outer:
            write(ws.path, "outer.txt")
            with jvs.transaction(ws, note="inner") as inner:
                write(ws.path, "inner.txt")
                raise Boom()
    assert inner.rolled_back and outer.rolled_back
    assert tree(ws.path) == before
    # the inner baseline snapshot was taken inside the outer block, so the outer rollback
    # leaves the worktree detached (documented): HEAD goes forward again
    assert ws.detached
    assert ws.current_snapshot == outer.baseline
    ws.restore("HEAD")
    assert not ws.detached


def test_rollback_after_inner_commit_leaves_detached(ws: jvs.Workspace) -> None:
    with pytest.raises(Boom):
        with jvs.transaction(ws, note="outer") as outer:
            with jvs.transaction(ws, note="inner") as inner:
                write(ws.path, "inner.txt")
            raise Boom()
    assert not (ws.path / "inner.txt").exists()
    assert ws.detached
    with pytest.raises(jvs.Detached):
        ws.snapshot("refused while detached")
    ws.restore("HEAD")
    assert ws.current_snapshot == inner.after
    assert (ws.path / "inner.txt").exists()
    assert outer.baseline is not None


def test_detached_on_entry_raises_before_block(ws: jvs.Workspace) -> None:
    s1 = ws.snapshot("one")
    ws.snapshot("two")
    ws.restore(s1)
    ran = []
    with pytest.raises(jvs.Detached):
        with jvs.transaction(ws, note="never runs"):
            ran.append(True)
    assert ran == []
    assert ws.current_snapshot == s1 and len(ws.history(all=True)) == 2


def test_decorator(ws: jvs.Workspace) -> None:
    calls = []

    @jvs.transaction(ws, note="decorated")
    def step(name: str, fail: bool = False) -> str:
        calls.append(name)
        write(ws.path, name + ".txt")
        if fail:
            raise Boom(name)
        return name.upper()

    assert step("one") == "ONE"
    assert step("two") == "TWO"
    with pytest.raises(Boom):
        step("three", fail=True)
    assert calls == ["one", "two", "three"]
    assert (ws.path / "one.txt").exists() and (ws.path / "two.txt").exists()
    assert not (ws.path / "three.txt").exists()
    notes = [s.note for s in ws.history()]
    # the first call had no head to start from; the later ones start clean from the previous "after"
    assert notes == ["decorated", "decorated", "before: decorated"]
    assert step.__name__ == "step"


def test_transaction_object_single_use(ws: jvs.Workspace) -> None:
    tx = jvs.transaction(ws, note="once")
    with tx:
        pass
    with pytest.raises(RuntimeError):
        with tx:
            pass


def test_rollback_failure_raises_rollback_error(ws: jvs.Workspace) -> None:
    with pytest.raises(jvs.RollbackError) as ei:
        with jvs.transaction(ws, note="doomed") as tx:
            write(ws.path, "x.txt")
            ws.close()  # the rollback cannot run on a closed handle
            raise Boom("block failed")
    e = ei.value
    assert isinstance(e.original, Boom)
    assert isinstance(e.__cause__, jvs.WorkspaceClosed)
    assert e.baseline_id == tx.baseline.id and e.code == "E_ROLLBACK"


def test_progress_passed_through(ws: jvs.Workspace) -> None:
    events: list = []
    with pytest.raises(Boom):
        with jvs.transaction(ws, note="p", progress=events.append):
            write(ws.path, "x")
            raise Boom()
    ops = {e.op for e in events}
    assert "snapshot" in ops and "restore" in ops


def test_async_with(ws: jvs.Workspace) -> None:
    import asyncio

    async def work() -> jvs.Transaction:
        async with jvs.transaction(ws, note="async ok") as tx:
            write(ws.path, "async.txt", "a")
        with pytest.raises(ValueError):
            async with jvs.transaction(ws, note="async fail") as failed:
                write(ws.path, "junk.txt", "j")
                await asyncio.sleep(0)
                raise ValueError("boom")
        assert failed.rolled_back and failed.after is None
        return tx

    tx = asyncio.run(work())
    assert tx.after is not None and tx.after.note == "async ok"
    assert (ws.path / "async.txt").exists() and not (ws.path / "junk.txt").exists()
    assert not ws.detached


def test_clean_worktree_uses_head_as_baseline(ws: jvs.Workspace) -> None:
    head = ws.snapshot("start")
    before = tree(ws.path)
    with jvs.transaction(ws, note="clean step") as tx:
        assert tx.baseline == head and not tx.baseline_taken
        write(ws.path, "result.txt", "42")
    assert tx.after is not None and tx.after.parent_id == head.id
    assert [s.note for s in ws.history()] == ["clean step", "start"]  # no "before:" entry

    with pytest.raises(Boom):
        with jvs.transaction(ws, note="failing step") as tx2:
            write(ws.path, "a.txt", "scribbled")
            write(ws.path, "junk/new.txt", "x")
            raise Boom()
    assert tx2.rolled_back and not tx2.baseline_taken and tx2.baseline == tx.after
    assert [s.note for s in ws.history()] == ["clean step", "start"]  # the rollback added nothing
    assert not ws.detached
    assert tree(ws.path) == {**before, "result.txt": b"42"}


def test_mode_change_counts_as_a_change(ws: jvs.Workspace) -> None:
    ws.snapshot("start")
    (ws.path / "a.txt").chmod(0o600)  # same bytes, other mode: a restore would change it back
    with jvs.transaction(ws, note="step") as tx:
        pass
    assert tx.baseline_taken and tx.baseline.note == "before: step"


def test_partial_head_is_not_a_baseline(ws: jvs.Workspace) -> None:
    ws.snapshot("only a", paths=["a.txt"])  # restoring it would not roll back dir/
    with pytest.raises(Boom):
        with jvs.transaction(ws, note="step") as tx:
            write(ws.path, "dir/b.txt", "changed")
            raise Boom()
    assert tx.baseline_taken
    assert (ws.path / "dir" / "b.txt").read_text() == "beta\n"
