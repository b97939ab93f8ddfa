"""``transaction``: snapshot before a block, snapshot after it, or roll back on failure."""

from __future__ import annotations

import functools
from types import TracebackType
from typing import Any, Callable, Iterable, Optional, Type, TypeVar, Union, cast

from ._native import ProgressCallback
from .errors import RollbackError
from .models import RestoreResult, Snapshot
from .workspace import Workspace

__all__ = ["transaction", "Transaction"]

_F = TypeVar("_F", bound=Callable[..., Any])


class Transaction:
    """Context manager (and decorator) returned by :func:`transaction`.

    Attributes:
        baseline: what a rollback restores (None before entry): the worktree's head when it
            had no change since it on entry, else the snapshot taken on entry.
        baseline_taken: True when entry took a ``before:`` snapshot (the worktree had changes
            since its head, or no head yet), False when the head served as the baseline.
        after: the snapshot taken on a clean exit (None otherwise).
        rolled_back: True once a failure restored the baseline.
        restore_result: what the rollback restore did (None unless rolled back).
    """

    def __init__(self, workspace: Workspace, note: str = "transaction", *,
                 tags: Optional[Union[str, Iterable[str]]] = None,
                 baseline_note: Optional[str] = None,
                 progress: Optional[ProgressCallback] = None) -> None:
        self.workspace = workspace
        self.note = note
        self.tags = tags
        self.baseline_note = baseline_note if baseline_note is not None else "before: " + note
        self.progress = progress
        self.baseline: Optional[Snapshot] = None
        self.baseline_taken = False
        self.after: Optional[Snapshot] = None
        self.rolled_back = False
        self.restore_result: Optional[RestoreResult] = None

    def _fresh(self) -> "Transaction":
        return Transaction(self.workspace, self.note, tags=self.tags,
                           baseline_note=self.baseline_note, progress=self.progress)

    def __enter__(self) -> "Transaction":
        if self.baseline is not None:
            raise RuntimeError("a Transaction object can be entered only once; call transaction() again")
        self.baseline = self._clean_head()
        if self.baseline is None:
            # Raises Detached (before the block runs, changing nothing) if the worktree is detached.
            self.baseline = self.workspace.snapshot(self.baseline_note, progress=self.progress)
            self.baseline_taken = True
        return self

    def _clean_head(self) -> Optional[Snapshot]:
        """The head, when restoring it would give back exactly the files there are now: the
        worktree is attached (a detached one must still raise Detached), its head is a full
        snapshot (a partial one would not roll back the paths outside it), and a diff against
        the live files finds nothing (the library answers from its stat cache, hashing only
        files whose size or times changed)."""
        ws = self.workspace
        wt = ws.worktree
        if wt.detached or not wt.head_snapshot_id:
            return None
        head = ws.resolve(wt.head_snapshot_id)
        if head.is_partial or ws.diff(head, stat=True, progress=self.progress):
            return None
        return head

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> None:
        assert self.baseline is not None
        if exc_type is None:
            self.after = self.workspace.snapshot(self.note, self.tags, progress=self.progress)
            return
        try:
            self.restore_result = self.workspace.restore(self.baseline, progress=self.progress)
        except BaseException as rb:  # noqa: B902
            err = RollbackError(
                "rolling back to baseline %s failed (%s) after the block raised %s: %s"
                % (self.baseline.id, rb, exc_type.__name__, exc),
                code="E_ROLLBACK",
                hint="inspect the worktree, then restore(%r) by hand" % self.baseline.id,
                details={"baseline_id": self.baseline.id,
                         "rollback_code": getattr(rb, "code", type(rb).__name__)},
                op="transaction",
            )
            err.original = exc
            err.baseline_id = self.baseline.id
            raise err from rb
        self.rolled_back = True
        # returning None re-raises the block's exception unchanged

    async def __aenter__(self) -> "Transaction":
        # The library calls block: run them on a worker thread so the event loop keeps going.
        # (asyncio is imported here, not at module level: `import jvs` stays light.)
        import asyncio

        return await asyncio.to_thread(self.__enter__)

    async def __aexit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                        tb: Optional[TracebackType]) -> None:
        import asyncio

        await asyncio.to_thread(self.__exit__, exc_type, exc, tb)

    def __call__(self, func: _F) -> _F:
        """Use as a decorator: every call of ``func`` runs in its own transaction."""

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self._fresh():
                return func(*args, **kwargs)

        return cast(_F, wrapper)


def transaction(workspace: Workspace, note: str = "transaction", *,
                tags: Optional[Union[str, Iterable[str]]] = None,
                baseline_note: Optional[str] = None,
                progress: Optional[ProgressCallback] = None) -> Transaction:
    """Run a block against a baseline snapshot, keeping its result or undoing it.

    ::

        with jvs.transaction(ws, note="agent run") as tx:
            run_agent(ws.path)          # may write, change and delete files
        print(tx.baseline.id, tx.after.id)

        @jvs.transaction(ws, note="nightly cleanup")
        def cleanup() -> None: ...

    * **Entry** fixes the baseline. A worktree with no change since its head (a cheap check:
      ``diff(stat=True)``, answered from the stat cache) uses the head itself, and no snapshot
      is taken (``tx.baseline_taken`` is False). Otherwise (changes, no snapshot yet, or a
      partial head) entry takes the baseline snapshot (note ``"before: <note>"`` unless
      ``baseline_note``).
    * **Clean exit** takes the "after" snapshot (``note``, ``tags``), available as ``tx.after``.
    * **Exception** (any ``BaseException``, including ``KeyboardInterrupt``): restores the
      baseline - files the block created are removed, changed and deleted ones come back -
      then re-raises the exception unchanged. ``tx.rolled_back`` is True. If the restore itself
      fails, :class:`~jvs.RollbackError` is raised instead (``.original`` holds the block's
      exception, ``__cause__`` the restore error).
    * **Nesting** works: an inner failure rolls back to the inner baseline; if the exception
      keeps propagating, the outer transaction then rolls back to the outer baseline.
    * **Decorator**: each call of the decorated function is its own transaction.
    * **async**: ``async with jvs.transaction(ws, ...)`` does the same; the snapshot and the
      restore run on a worker thread (``asyncio.to_thread``), so the event loop is not blocked.

    **Detached worktrees.** A transaction needs an attached worktree, because the baseline is a
    new snapshot. If the worktree is detached on entry (``restore()`` of an older snapshot put
    it there), entering raises :class:`~jvs.Detached` before the block runs and nothing is
    changed. ``ws.restore("HEAD")`` first, or ``ws.fork()`` and run the transaction in the fork.
    For the same reason: if the block took snapshots of its own (or an inner transaction
    committed) and then fails, the rollback makes the files equal to the baseline again but the
    block's snapshots remain the worktree's latest, so the worktree is *detached* afterwards
    (visible in ``ws.detached``): ``restore("HEAD")`` returns to the block's last snapshot,
    ``fork()`` continues from the baseline. When the block took no snapshot, the baseline is
    still the latest snapshot and the worktree stays attached. So a clean worktree leaves one
    snapshot per committed transaction and none per rolled-back one.

    Transactions on one worktree are not isolated from other writers: another thread or process
    writing the same worktree during the block sees its files rolled back too. Give each
    concurrent job its own worktree (``fork``).
    """
    return Transaction(workspace, note, tags=tags, baseline_note=baseline_note, progress=progress)
