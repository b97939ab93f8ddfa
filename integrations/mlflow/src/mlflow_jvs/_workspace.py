"""What the plugin does with a workspace, on top of the jvs SDK (the only way it reaches libjvs).

Opening with a clear error, resolving a reference, restoring or forking a snapshot, and the
``jvs_snapshot.json`` document. ``jvs`` is imported lazily: MLflow imports this package while
it is itself being imported (entry points), and a process that never touches a workspace
should not load libjvs.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, Iterator, Optional, Union

from .errors import MlflowJvsError, SnapshotConflict, SnapshotNotFound, WorkspaceNotFound

if TYPE_CHECKING:
    import jvs

PathLike = Union[str, "os.PathLike[str]"]

#: Version of this plugin (also recorded in every jvs_snapshot.json).
PLUGIN_VERSION = "1.0.0"

#: Kind of the jvs_snapshot.json document.
RECORD_KIND = "mlflow_jvs_snapshot"


def sdk() -> Any:
    """The ``jvs`` module (imported on first use: loading libjvs is not free)."""
    import jvs as _jvs

    return _jvs


def find_repo_root(start: PathLike) -> Optional[Path]:
    """The nearest directory at or above ``start`` holding a ``.jvs`` directory, or None.

    Only ``stat`` calls: this is how the run-context provider stays free outside a workspace.
    """
    p = Path(os.path.abspath(os.fspath(start)))
    for d in (p, *p.parents):
        if os.path.isdir(os.path.join(d, ".jvs")):
            return d
    return None


def open_workspace(path: PathLike, worktree: Optional[str] = None) -> "jvs.Workspace":
    """``jvs.Workspace(path)``, raising :class:`WorkspaceNotFound` with the reason."""
    j = sdk()
    try:
        return j.Workspace(os.fspath(path), worktree=worktree)  # type: ignore[no-any-return]
    except j.JVSError as e:
        raise WorkspaceNotFound("no jvs workspace at %s: %s (%s)" % (os.fspath(path), e, e.code)) from e


def describe_repo(ws: "jvs.Workspace") -> str:
    return "the jvs repository %s (worktree %s)" % (ws.repo_root, ws.worktree_name)


def resolve(ws: "jvs.Workspace", ref: Any, *, run_id: Optional[str] = None,
            run_repo: Optional[str] = None) -> "jvs.Snapshot":
    """The snapshot ``ref`` names in ``ws``'s repository.

    A reference matching nothing raises :class:`SnapshotNotFound` naming the repository and,
    when the reference came from a run, the run and the repository that run was logged from.
    """
    j = sdk()
    try:
        return ws.resolve(ref)
    except j.NotFound as e:
        if run_id is not None:
            where = " (the run was logged from %s)" % run_repo if run_repo else ""
            msg = "snapshot %s recorded by MLflow run %s is not in %s%s" % (
                ref, run_id, describe_repo(ws), where)
        else:
            msg = "snapshot %r is not in %s" % (str(ref), describe_repo(ws))
        raise SnapshotNotFound("%s: %s" % (msg, e)) from e
    except j.JVSError as e:
        raise MlflowJvsError("cannot resolve snapshot %r in %s: %s (%s)" % (
            str(ref), describe_repo(ws), e, e.code)) from e


def take_snapshot(ws: "jvs.Workspace", note: str, tags: Any = None) -> "jvs.Snapshot":
    """A new snapshot of ``ws``, with errors that say what to do."""
    j = sdk()
    try:
        return ws.snapshot(note, tags=tags)
    except j.Detached as e:
        raise MlflowJvsError(
            "cannot snapshot %s: the worktree is detached (restored to an older snapshot). Record "
            "what its files are with snapshot='HEAD', or restore 'HEAD' / fork first." % describe_repo(ws)
        ) from e
    except j.JVSError as e:
        raise MlflowJvsError("cannot snapshot %s: %s (%s)" % (describe_repo(ws), e, e.code)) from e


def restore(ws: "jvs.Workspace", snapshot_id: str) -> Path:
    """Make ``ws``'s files those of the snapshot, in place; returns the worktree path."""
    j = sdk()
    try:
        ws.restore(snapshot_id)
    except j.JVSError as e:
        raise MlflowJvsError("cannot restore snapshot %s into %s: %s (%s)" % (
            snapshot_id, describe_repo(ws), e, e.code)) from e
    return ws.path


def fork(ws: "jvs.Workspace", snapshot_id: str, name: str, *, reuse: bool) -> Path:
    """A worktree ``name`` holding the snapshot's files; returns its path.

    With ``reuse``, a worktree of that name already forked from this snapshot is restored to
    it (exact files again, edits discarded) instead of being refused: loading a model or a
    dataset twice must work. Any other existing worktree of that name is a
    :class:`SnapshotConflict`.
    """
    j = sdk()
    existing = {wt.name: wt for wt in ws.worktrees()}
    if name in existing:
        wt = existing[name]
        if reuse and wt.base_snapshot_id == snapshot_id:
            with open_workspace(ws.repo_root, worktree=name) as other:
                return restore(other, snapshot_id)
        raise SnapshotConflict(
            "worktree %r already exists in the jvs repository %s (forked from %s, not %s): "
            "choose another name" % (name, ws.repo_root, wt.base_snapshot_id or "nothing", snapshot_id))
    try:
        with ws.fork(name, from_=snapshot_id) as forked:
            return forked.path
    except j.JVSError as e:
        raise MlflowJvsError("cannot fork snapshot %s of the jvs repository %s into worktree %r: %s (%s)" % (
            snapshot_id, ws.repo_root, name, e, e.code)) from e


def short(snapshot_id: str) -> str:
    """The random part of a snapshot id (what default fork names use)."""
    return snapshot_id.rsplit("-", 1)[-1]


def snapshot_record(ws: "jvs.Workspace", snap: "jvs.Snapshot", *, taken: bool) -> Dict[str, Any]:
    """The ``jvs_snapshot.json`` document: the snapshot's descriptor plus where it lives.

    ``taken`` tells whether the snapshot was taken for this record (then the library's
    statistics and degradations are included) or an existing one was recorded.
    """
    j = sdk()
    info = ws.info()
    rec: Dict[str, Any] = {
        "schema": 1,
        "kind": RECORD_KIND,
        "snapshot_id": snap.id,
        "snapshot": snap.to_dict(),
        "taken": taken,
        "repo_root": str(ws.repo_root),
        "repo_id": info.repo_id,
        "worktree": ws.worktree_name,
        "worktree_path": str(ws.path),
        "engine": snap.engine or info.engine,
        "repo_engine": info.engine,
        "library_version": j.library_version(),
        "mlflow_jvs_version": PLUGIN_VERSION,
        "reproduce": {
            "restore": "jvs restore %s" % snap.id,
            "fork": "jvs worktree fork %s <name>" % snap.id,
        },
    }
    if taken and snap.stats is not None:
        rec["stats"] = snap.stats
    if taken and snap.degradations:
        rec["degradations"] = snap.degradations
    return rec


class ThreadFlag:
    """A per-thread boolean, true inside ``with flag.raised():`` blocks (nesting restores it)."""

    def __init__(self) -> None:
        self._local = threading.local()

    @contextmanager
    def raised(self) -> Iterator[None]:
        prev = bool(self)
        self._local.on = True
        try:
            yield
        finally:
            self._local.on = prev

    def __bool__(self) -> bool:
        return bool(getattr(self._local, "on", False))


#: Raised while mlflow_jvs itself logs a model: MLflow may load it then (input-example
#: validation), and the loader must leave the workspace alone.
LOGGING_MODEL = ThreadFlag()
