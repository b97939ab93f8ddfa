"""Recording a workspace snapshot on an MLflow run, and getting it back from the run.

- :func:`log_jvs_snapshot` snapshots a workspace (or records an existing snapshot) on the active
  run: params ``jvs_snapshot_id``, ``jvs_snapshot_note``, ``jvs_snapshot_tags``, tags
  ``jvs.snapshot_id``, ``jvs.worktree``, ``jvs.repo_root`` and the artifact ``jvs_snapshot.json``.
- :func:`load_jvs_snapshot` restores a workspace to a snapshot (given by id, or by the run that
  recorded it), or forks it into a new worktree.
- :func:`run_snapshot_id` reads the snapshot a run records.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, Iterable, Optional, Union

import mlflow
from mlflow.entities import Param, RunTag
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import RESOURCE_DOES_NOT_EXIST, ErrorCode

from . import _workspace
from .context import AUTOSNAPSHOT_SUPPRESSED
from .errors import MlflowJvsError, NoSnapshotInRun, SnapshotConflict, SnapshotNotFound

if TYPE_CHECKING:
    import jvs
    from mlflow.entities import Run

#: The run params this plugin logs.
PARAM_ID = "jvs_snapshot_id"
PARAM_NOTE = "jvs_snapshot_note"
PARAM_TAGS = "jvs_snapshot_tags"
#: The run tags this plugin logs (the context provider adds jvs.head and jvs.dirty).
TAG_ID = "jvs.snapshot_id"
TAG_WORKTREE = "jvs.worktree"
TAG_REPO = "jvs.repo_root"
TAG_HEAD = "jvs.head"
TAG_DIRTY = "jvs.dirty"

DEFAULT_ARTIFACT = "jvs_snapshot"
_PARAM_MAX = 6000  # MLflow's limit for a param value
_RUN_ID = re.compile(r"[0-9a-f]{32}")

SnapshotRef = Union[str, "jvs.Snapshot"]


def _artifact_file(artifact_path: str) -> str:
    """``artifact_path`` names the document without its extension (``jvs_snapshot`` ->
    ``jvs_snapshot.json`` at the run's artifact root, ``jvs/input`` -> ``jvs/input.json``)."""
    p = artifact_path.strip("/")
    if not p:
        raise MlflowJvsError("artifact_path must not be empty")
    return p if p.endswith(".json") else p + ".json"


def log_jvs_snapshot(workspace_path: Union[str, "os.PathLike[str]"], note: Optional[str] = None,
                     tags: Optional[Union[str, Iterable[str]]] = None,
                     artifact_path: str = DEFAULT_ARTIFACT, *,
                     snapshot: Optional[SnapshotRef] = None) -> str:
    """Snapshot the workspace and record the snapshot on the active MLflow run; return its id.

    Starts a run when none is active, as ``mlflow.log_param`` does. On the run it logs

    - params ``jvs_snapshot_id``, ``jvs_snapshot_note`` (cut to MLflow's 6000 characters) and
      ``jvs_snapshot_tags`` (comma-separated),
    - tags ``jvs.snapshot_id``, ``jvs.worktree`` and ``jvs.repo_root``,
    - the artifact ``<artifact_path>.json`` (default ``jvs_snapshot.json``): the snapshot's
      descriptor plus the repository path and id, worktree, engine and library version.

    Args:
        workspace_path: a path inside the jvs worktree to snapshot.
        note: the snapshot's note (default: ``"mlflow run <run id>"``).
        tags: jvs tags for the snapshot (a str is one tag).
        artifact_path: where the document goes among the run's artifacts, without ``.json``.
        snapshot: record this existing snapshot (an id, tag, ``"HEAD"``... or a ``jvs.Snapshot``)
            instead of taking a new one; ``note`` and ``tags`` must then be omitted.

    Raises:
        WorkspaceNotFound: ``workspace_path`` is not in a jvs workspace.
        SnapshotNotFound: ``snapshot`` names nothing in the repository.
        SnapshotConflict: the run already records another snapshot (a param cannot change).
        MlflowJvsError: the snapshot failed (e.g. the worktree is detached).
    """
    if snapshot is not None and (note is not None or tags is not None):
        raise MlflowJvsError("note and tags describe a new snapshot: omit them when recording an "
                             "existing one with snapshot=")
    artifact_file = _artifact_file(artifact_path)
    with _workspace.open_workspace(workspace_path) as ws:
        existing = _workspace.resolve(ws, snapshot) if snapshot is not None else None
        run_id = _active_or_new_run_id()
        _check_run_accepts(run_id, existing.id if existing is not None else None)
        snap = existing or _workspace.take_snapshot(
            ws, note if note is not None else "mlflow run %s" % run_id, tags)
        record = _workspace.snapshot_record(ws, snap, taken=existing is None)
    log_record(run_id, record, artifact_file)
    return snap.id


def log_record(run_id: str, record: Dict[str, Any], artifact_file: str = DEFAULT_ARTIFACT + ".json") -> None:
    """Log a :func:`~mlflow_jvs._workspace.snapshot_record` document on a run: params, tags and
    the artifact (one ``log_batch`` for params and tags, so they land together)."""
    desc = record["snapshot"]
    params = {
        PARAM_ID: record["snapshot_id"],
        PARAM_NOTE: str(desc.get("note", ""))[:_PARAM_MAX],
        PARAM_TAGS: ",".join(desc.get("tags") or []),
    }
    tags = {TAG_ID: record["snapshot_id"], TAG_WORKTREE: record["worktree"], TAG_REPO: record["repo_root"]}
    client = mlflow.MlflowClient()
    client.log_batch(run_id, params=[Param(k, v) for k, v in params.items()],
                     tags=[RunTag(k, v) for k, v in tags.items()])
    client.log_dict(run_id, record, artifact_file)


def _active_or_new_run_id() -> str:
    run = mlflow.active_run()
    if run is None:
        with AUTOSNAPSHOT_SUPPRESSED.raised():  # this call snapshots anyway
            run = mlflow.start_run()
    return str(run.info.run_id)


def _check_run_accepts(run_id: str, snapshot_id: Optional[str]) -> None:
    """Refuse before snapshotting when the run already records another snapshot: MLflow never
    changes a logged param, and a snapshot taken for nothing would be left behind."""
    logged = mlflow.MlflowClient().get_run(run_id).data.params.get(PARAM_ID)
    if logged is not None and logged != snapshot_id:
        raise SnapshotConflict(
            "MLflow run %s already records jvs snapshot %s (param %s) and a run's params cannot "
            "change: log the new snapshot in another run (e.g. a nested one)" % (run_id, logged, PARAM_ID))


def _get_run(run_id: str) -> Optional["Run"]:
    try:
        return mlflow.MlflowClient().get_run(run_id)
    except MlflowException as e:
        if e.error_code == ErrorCode.Name(RESOURCE_DOES_NOT_EXIST):
            return None
        raise


def run_snapshot_id(run: Union[str, "Run"]) -> str:
    """The snapshot an MLflow run records: its ``jvs_snapshot_id`` param, else its
    ``jvs.snapshot_id`` tag, else - when the run started in a clean workspace
    (``jvs.dirty=false``) - its ``jvs.head`` tag.

    Raises:
        NoSnapshotInRun: the run records none (or only a ``jvs.head`` with unsaved changes).
    """
    if isinstance(run, str):
        found = _get_run(run)
        if found is None:
            raise MlflowJvsError("MLflow run %s does not exist (tracking URI %s)" % (run, mlflow.get_tracking_uri()))
        run = found
    data = run.data
    sid = data.params.get(PARAM_ID) or data.tags.get(TAG_ID)
    if sid:
        return str(sid)
    head = data.tags.get(TAG_HEAD)
    if head and data.tags.get(TAG_DIRTY) == "false":
        return str(head)
    if head:
        raise NoSnapshotInRun(
            "MLflow run %s started at jvs snapshot %s with unsaved changes (%s=true): its exact files "
            "were not snapshotted. Log them with mlflow_jvs.log_jvs_snapshot() or set "
            "MLFLOW_JVS_AUTOSNAPSHOT=1" % (run.info.run_id, head, TAG_DIRTY))
    raise NoSnapshotInRun(
        "MLflow run %s records no jvs snapshot: it has no %s param and no %s tag (log one with "
        "mlflow_jvs.log_jvs_snapshot())" % (run.info.run_id, PARAM_ID, TAG_ID))


def _snapshot_for(ws: "jvs.Workspace", ref: SnapshotRef) -> "jvs.Snapshot":
    """Resolve a snapshot reference or a run id (``<32 hex>`` or ``runs:/<id>``) in ``ws``."""
    if not isinstance(ref, str):
        return _workspace.resolve(ws, ref)
    run_id: Optional[str] = None
    if ref.startswith("runs:/"):
        run_id = ref[len("runs:/"):].split("/", 1)[0]
    elif _RUN_ID.fullmatch(ref):
        run_id = ref
    if run_id is None:
        return _workspace.resolve(ws, ref)
    run = _get_run(run_id)
    if run is None:
        if ref.startswith("runs:/"):
            raise MlflowJvsError("MLflow run %s does not exist (tracking URI %s)" % (run_id, mlflow.get_tracking_uri()))
        try:  # 32 hex digits may also be a jvs tag or note prefix
            return _workspace.resolve(ws, ref)
        except SnapshotNotFound as e:
            raise SnapshotNotFound(
                "%r is neither an MLflow run (tracking URI %s) nor a snapshot in %s" % (
                    ref, mlflow.get_tracking_uri(), _workspace.describe_repo(ws))) from e
    return _workspace.resolve(ws, run_snapshot_id(run), run_id=run_id, run_repo=run.data.tags.get(TAG_REPO))


def load_jvs_snapshot(snapshot_id_or_run_id: SnapshotRef, workspace_path: Union[str, "os.PathLike[str]"], *,
                      into: Optional[str] = None) -> Path:
    """Get a snapshot's files back: restore the workspace in place, or fork a new worktree.

    Args:
        snapshot_id_or_run_id: a snapshot reference (id, tag, prefix, ``jvs.Snapshot``) or an
            MLflow run id (also ``runs:/<id>``): the run's recorded snapshot is used
            (see :func:`run_snapshot_id`).
        workspace_path: a path inside a worktree of the repository holding the snapshot.
        into: fork the snapshot into a new worktree of this name instead of restoring the
            workspace (which is then left untouched).

    Returns:
        The directory now holding the snapshot's files: the workspace (restored in place; it is
        *detached* when the snapshot is not its latest), or the new worktree.

    Raises:
        WorkspaceNotFound, NoSnapshotInRun, SnapshotNotFound (naming the run and repository),
        SnapshotConflict (``into`` names an existing worktree), MlflowJvsError.

    Restoring overwrites unsnapshotted changes in the workspace (jvs ``restore`` semantics).
    """
    with _workspace.open_workspace(workspace_path) as ws:
        snap = _snapshot_for(ws, snapshot_id_or_run_id)
        if into is None:
            return _workspace.restore(ws, snap.id)
        return _workspace.fork(ws, snap.id, into, reuse=False)
