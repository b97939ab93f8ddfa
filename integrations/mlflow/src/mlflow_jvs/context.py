"""The ``mlflow.run_context_provider`` entry point: tags every new run started in a jvs workspace.

MLflow calls :meth:`JvsRunContextProvider.in_context` for every run it creates (and every
LoggedModel); when the current directory - or ``$JVS_WORKSPACE`` - is inside a jvs workspace,
:meth:`~JvsRunContextProvider.tags` adds

- ``jvs.head``: the snapshot the worktree's files correspond to (omitted before the first one),
- ``jvs.dirty``: ``"true"`` when the files differ from ``jvs.head`` (the library's ``diff``),
- ``jvs.worktree`` and ``jvs.repo_root``.

Outside a workspace it costs a few ``stat`` calls: neither libjvs nor the SDK is loaded.
``MLFLOW_JVS_DISABLE=1`` turns the provider off.

With ``MLFLOW_JVS_AUTOSNAPSHOT=1`` each run start (not LoggedModel creation) also takes a
snapshot: the run is created with ``jvs.head`` = ``jvs.snapshot_id`` = the new snapshot and
``jvs.dirty=false``, and as soon as ``mlflow.start_run`` returns the params and the
``jvs_snapshot.json`` artifact of :func:`mlflow_jvs.log_jvs_snapshot` are logged to it.
MLflow's provider contract has no "run created" hook (``tags()`` runs before the run exists),
so the provider arms a one-shot profile hook on the calling thread that fires when that
``start_run`` call returns, then removes itself. If another profiler is active, the hook is
not armed and only the tags are set (a warning says so).

Errors never break ``start_run``: they are logged as warnings and the run starts without the
jvs tags (or, when only the snapshot failed, with the plain context tags).
"""

from __future__ import annotations

import inspect
import logging
import os
import sys
from types import FrameType
from typing import Any, Callable, Dict, Optional

from mlflow.tracking.context.abstract_context import RunContextProvider

from . import _workspace

_logger = logging.getLogger(__name__)

ENV_WORKSPACE = "JVS_WORKSPACE"
ENV_AUTOSNAPSHOT = "MLFLOW_JVS_AUTOSNAPSHOT"
ENV_DISABLE = "MLFLOW_JVS_DISABLE"

AUTOSNAPSHOT_NOTE = "MLflow run start (MLFLOW_JVS_AUTOSNAPSHOT)"


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def workspace_path() -> str:
    """Where the provider looks for a workspace: ``$JVS_WORKSPACE``, else the current directory."""
    return os.environ.get(ENV_WORKSPACE) or os.getcwd()


#: Raised while :func:`mlflow_jvs.log_jvs_snapshot` starts a run itself: it snapshots anyway,
#: so the runs started meanwhile on this thread take no autosnapshot.
AUTOSNAPSHOT_SUPPRESSED = _workspace.ThreadFlag()


class JvsRunContextProvider(RunContextProvider):
    """Tags runs started inside a jvs workspace (see the module documentation)."""

    def in_context(self) -> bool:
        if _truthy(ENV_DISABLE):
            return False
        return _workspace.find_repo_root(workspace_path()) is not None

    def tags(self) -> Dict[str, str]:
        path = workspace_path()
        j = _workspace.sdk()
        try:
            ws = j.Workspace(path)
        except j.JVSError as e:
            _logger.warning("mlflow-jvs: %s is not usable as a jvs workspace (%s): no jvs tags", path, e)
            return {}
        with ws:
            tags = {"jvs.worktree": ws.worktree_name, "jvs.repo_root": str(ws.repo_root)}
            autosnapshot = _truthy(ENV_AUTOSNAPSHOT) and not AUTOSNAPSHOT_SUPPRESSED
            start_frame = _start_run_frame() if autosnapshot else None
            if start_frame is not None:
                try:
                    snap = ws.snapshot(AUTOSNAPSHOT_NOTE)
                except j.JVSError as e:
                    _logger.warning("mlflow-jvs: %s=1 but the snapshot of %s failed: %s (%s)",
                                    ENV_AUTOSNAPSHOT, ws.path, e, e.code)
                else:
                    record = _workspace.snapshot_record(ws, snap, taken=True)
                    tags.update({"jvs.head": snap.id, "jvs.dirty": "false", "jvs.snapshot_id": snap.id})
                    _after_return(start_frame, lambda active_run: _log_autosnapshot(active_run, record))
                    return tags
            tags.update(_head_and_dirty(ws))
        return tags


def _head_and_dirty(ws: Any) -> Dict[str, str]:
    head = ws.current_snapshot
    if head is None:  # nothing snapshotted yet: dirty as soon as the worktree holds anything
        with os.scandir(ws.path) as it:
            return {"jvs.dirty": "true" if any(True for _ in it) else "false"}
    return {"jvs.head": head.id, "jvs.dirty": "true" if ws.diff(stat=True) else "false"}


def _log_autosnapshot(active_run: Any, record: Dict[str, Any]) -> None:
    from .tracking import log_record  # the same logging as log_jvs_snapshot

    log_record(active_run.info.run_id, record)


def _start_run_frame() -> Optional[FrameType]:
    """The frame of the ``mlflow.start_run`` call that is creating a run, if that is why
    ``tags()`` runs (it also runs when a LoggedModel is created)."""
    import mlflow.tracking.fluent as fluent

    code = inspect.unwrap(fluent.start_run).__code__
    f: Optional[FrameType] = sys._getframe(1)
    while f is not None:
        if f.f_code is code:
            return f
        f = f.f_back
    return None


def _after_return(frame: FrameType, callback: Callable[[Any], None]) -> None:
    """Call ``callback(return value)`` once ``frame``'s function returns, on this thread.

    A profile hook (``sys.setprofile``) that only looks at ``return`` events of that one frame
    and removes itself there, or when the frame unwinds with an exception (return value None:
    the callback is skipped). Not armed when another profiler is active.
    """
    previous = sys.getprofile()
    if previous is not None:
        _logger.warning("mlflow-jvs: a profiler is active; the autosnapshot is tagged on the run "
                        "but its params and jvs_snapshot.json are not logged")
        return

    def hook(f: FrameType, event: str, arg: Any) -> None:
        if event != "return" or f is not frame:
            return
        sys.setprofile(None)
        if arg is None:
            return
        try:
            callback(arg)
        except Exception as e:  # never break start_run's caller
            _logger.warning("mlflow-jvs: logging the autosnapshot failed: %s", e)

    sys.setprofile(hook)
