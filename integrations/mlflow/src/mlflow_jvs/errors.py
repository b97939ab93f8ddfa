"""The plugin's errors: MlflowExceptions that name the run, the snapshot and the repository.

They subclass :class:`mlflow.exceptions.MlflowException`, so MLflow's own handling (and a
``except MlflowException``) applies; the jvs error that caused one, if any, is its ``__cause__``
(with ``.code`` such as ``E_REF_NOT_FOUND``).
"""

from __future__ import annotations

from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE, INVALID_STATE, RESOURCE_DOES_NOT_EXIST


class MlflowJvsError(MlflowException):
    """Base class of every error raised by ``mlflow_jvs``."""

    def __init__(self, message: str, error_code: int = INVALID_PARAMETER_VALUE) -> None:
        super().__init__(message, error_code=error_code)


class WorkspaceNotFound(MlflowJvsError):
    """The path is not inside a jvs workspace (or the repository cannot be opened)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, RESOURCE_DOES_NOT_EXIST)


class SnapshotNotFound(MlflowJvsError):
    """The snapshot (given, or recorded by a run) is not in the repository."""

    def __init__(self, message: str) -> None:
        super().__init__(message, RESOURCE_DOES_NOT_EXIST)


class NoSnapshotInRun(MlflowJvsError):
    """The run records no jvs snapshot (no ``jvs_snapshot_id`` param nor ``jvs.snapshot_id`` tag)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, RESOURCE_DOES_NOT_EXIST)


class SnapshotConflict(MlflowJvsError):
    """The run already records a different snapshot (MLflow params cannot change), or a
    worktree named for a fork already exists at another snapshot."""

    def __init__(self, message: str) -> None:
        super().__init__(message, INVALID_STATE)
