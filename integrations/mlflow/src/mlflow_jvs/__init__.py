"""mlflow-jvs: record the exact workspace state (data + code + config) of an MLflow run with jvs,
and get it back from the run.

::

    import mlflow, mlflow_jvs

    with mlflow.start_run() as run:
        mlflow.log_jvs_snapshot("/data/repo/main", note="baseline")   # params, tags, jvs_snapshot.json
        train()
    mlflow.load_jvs_snapshot(run.info.run_id, "/data/repo/main")      # the files of that run, back

Public API (each documented where it is defined):

- :func:`log_jvs_snapshot`, :func:`load_jvs_snapshot`, :func:`run_snapshot_id` (``tracking``);
- :func:`log_model`, :func:`save_model`: a pyfunc model that restores or forks its snapshot
  before ``load_context`` (``flavor``);
- :func:`from_jvs`, :class:`JvsDatasetSource`: jvs-versioned datasets for ``mlflow.log_input``
  (``dataset``);
- :class:`JvsRunContextProvider`: tags every run started in a workspace (``context``);
- the errors in :mod:`mlflow_jvs.errors`.

Importing this package makes ``mlflow.log_jvs_snapshot`` and ``mlflow.load_jvs_snapshot``
available. MLflow imports it itself through the plugin's entry points, while ``mlflow`` is
still being imported: so everything here is loaded lazily (PEP 562), and nothing loads libjvs
until a workspace is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "1.0.0"

_LAZY = {
    "log_jvs_snapshot": "tracking",
    "load_jvs_snapshot": "tracking",
    "run_snapshot_id": "tracking",
    "log_model": "flavor",
    "save_model": "flavor",
    "from_jvs": "dataset",
    "JvsDatasetSource": "dataset",
    "JvsRunContextProvider": "context",
    "MlflowJvsError": "errors",
    "WorkspaceNotFound": "errors",
    "SnapshotNotFound": "errors",
    "NoSnapshotInRun": "errors",
    "SnapshotConflict": "errors",
}

__all__ = [
    "JvsDatasetSource",
    "JvsRunContextProvider",
    "MlflowJvsError",
    "NoSnapshotInRun",
    "SnapshotConflict",
    "SnapshotNotFound",
    "WorkspaceNotFound",
    "__version__",
    "from_jvs",
    "load_jvs_snapshot",
    "log_jvs_snapshot",
    "log_model",
    "run_snapshot_id",
    "save_model",
]

if TYPE_CHECKING:  # what __getattr__ returns, for type checkers and IDEs
    from .context import JvsRunContextProvider as JvsRunContextProvider
    from .dataset import JvsDatasetSource as JvsDatasetSource
    from .dataset import from_jvs as from_jvs
    from .errors import MlflowJvsError as MlflowJvsError
    from .errors import NoSnapshotInRun as NoSnapshotInRun
    from .errors import SnapshotConflict as SnapshotConflict
    from .errors import SnapshotNotFound as SnapshotNotFound
    from .errors import WorkspaceNotFound as WorkspaceNotFound
    from .flavor import log_model as log_model
    from .flavor import save_model as save_model
    from .tracking import load_jvs_snapshot as load_jvs_snapshot
    from .tracking import log_jvs_snapshot as log_jvs_snapshot
    from .tracking import run_snapshot_id as run_snapshot_id


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError("module 'mlflow_jvs' has no attribute %r" % name)
    value = getattr(importlib.import_module("." + module, __name__), name)
    globals()[name] = value
    return value


def _attach_one_liners() -> None:
    """``mlflow.log_jvs_snapshot(...)`` / ``mlflow.load_jvs_snapshot(...)``, as the plan has them.

    Thin forwarders, so that attaching them imports nothing heavy (``mlflow`` may be half
    imported at this point: set attributes only).
    """
    import mlflow

    def log_jvs_snapshot(*args: Any, **kwargs: Any) -> Any:
        from .tracking import log_jvs_snapshot as impl

        return impl(*args, **kwargs)

    def load_jvs_snapshot(*args: Any, **kwargs: Any) -> Any:
        from .tracking import load_jvs_snapshot as impl

        return impl(*args, **kwargs)

    for fn, doc_of in ((log_jvs_snapshot, "log_jvs_snapshot"), (load_jvs_snapshot, "load_jvs_snapshot")):
        fn.__doc__ = "Same as mlflow_jvs.%s (added to mlflow by the mlflow-jvs plugin)." % doc_of
        fn.__module__ = "mlflow_jvs"
        if not hasattr(mlflow, fn.__name__):
            setattr(mlflow, fn.__name__, fn)


_attach_one_liners()
