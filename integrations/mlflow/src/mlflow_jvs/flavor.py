"""A pyfunc model that carries its workspace: the ``jvs`` flavour.

:func:`log_model` logs a :class:`mlflow.pyfunc.PythonModel` exactly as ``mlflow.pyfunc.log_model``
does (same pickling, signature, requirements...) with a reference to a jvs snapshot of the
workspace it was trained on. ``mlflow.pyfunc.load_model(model_uri)`` then restores that snapshot
(or forks it) **before** the model's ``load_context`` runs, so ``predict`` sees the exact files.

How: the model's ``MLmodel`` names this module as the pyfunc ``loader_module``; its
:func:`_load_pyfunc` gets the workspace ready and hands over to the loader MLflow itself chose
when saving (``mlflow.pyfunc.model`` for a plain ``PythonModel``), recorded in the ``jvs``
flavour. That loader's ``_load_pyfunc(path, model_config)`` is MLflow's loader-module contract,
which every saved pyfunc model depends on.

``model_config`` keys (logged with the model; any can be overridden at load time with
``mlflow.pyfunc.load_model(uri, model_config={...})``):

- ``jvs_snapshot_id``: the snapshot.
- ``jvs_workspace``: the workspace to restore into / fork from (where it was when logged).
- ``jvs_on_load``: ``"restore"`` (default: restore the workspace in place), ``"fork"`` (fork the
  snapshot into the worktree ``jvs_into``, default ``model-<8 hex of the id>``; loading again
  reuses it, restored to the snapshot) or ``"none"`` (leave the files alone).
- ``jvs_into``: the fork's worktree name (``""``: the default).

The model's ``load_context(context)`` and ``predict`` find the directory holding the snapshot's
files in ``context.model_config["jvs_path"]``.
"""

from __future__ import annotations

import importlib
import json
import os
from typing import TYPE_CHECKING, Any, Dict, Optional, Union

from mlflow.models import Model
from mlflow.models.model import ModelInfo
from mlflow.pyfunc import save_model as pyfunc_save_model

from . import _workspace
from .errors import MlflowJvsError

if TYPE_CHECKING:
    import jvs

FLAVOR_NAME = "jvs"
RECORD_FILE = "jvs_snapshot.json"
ON_LOAD = ("restore", "fork", "none")

# The model_config keys this flavour adds.
CFG_SNAPSHOT = "jvs_snapshot_id"
CFG_WORKSPACE = "jvs_workspace"
CFG_ON_LOAD = "jvs_on_load"
CFG_INTO = "jvs_into"
CFG_PATH = "jvs_path"  # set at load time only

_PYFUNC = "python_function"
_LOADER_KEY = "loader_module"


def _check_on_load(on_load: str) -> None:
    if on_load not in ON_LOAD:
        raise MlflowJvsError("on_load must be one of %s, not %r" % (", ".join(ON_LOAD), on_load))


def _snapshot_and_record(workspace_path: Union[str, "os.PathLike[str]"], snapshot: Optional[Any],
                         name: str) -> Dict[str, Any]:
    with _workspace.open_workspace(workspace_path) as ws:
        if snapshot is not None:
            snap = _workspace.resolve(ws, snapshot)
        else:
            snap = _workspace.take_snapshot(ws, "mlflow model %s" % name)
        return _workspace.snapshot_record(ws, snap, taken=snapshot is None)


def log_model(name: str, python_model: Any, workspace_path: Union[str, "os.PathLike[str]"],
              snapshot: Optional[Union[str, "jvs.Snapshot"]] = None, *, on_load: str = "restore",
              into: Optional[str] = None, **kwargs: Any) -> ModelInfo:
    """Log a pyfunc model that restores (or forks) its workspace snapshot when loaded.

    Args:
        name: the model's name (MLflow 3 ``log_model(name=...)``).
        python_model: a :class:`mlflow.pyfunc.PythonModel` (or anything
            ``mlflow.pyfunc.log_model`` accepts as ``python_model``).
        workspace_path: a path inside the jvs worktree the model was trained on.
        snapshot: the snapshot to reference (id, tag, ``"HEAD"``, ``jvs.Snapshot``); default:
            take a new one now (note ``"mlflow model <name>"``).
        on_load: what loading does by default: ``"restore"``, ``"fork"`` or ``"none"``.
        into: the worktree name for ``"fork"`` (default ``model-<8 hex of the snapshot id>``).
        **kwargs: everything else ``mlflow.pyfunc.log_model`` takes (``pip_requirements``,
            ``signature``, ``input_example``, ``registered_model_name``, ``model_config``,
            ``tags``, ``params``, ...).

    Returns:
        MLflow's ``ModelInfo``. The LoggedModel also gets the tags ``jvs.snapshot_id``,
        ``jvs.worktree``, ``jvs.repo_root`` and the param ``jvs_snapshot_id``; the model
        directory holds ``jvs_snapshot.json``.
    """
    _check_on_load(on_load)
    record = _snapshot_and_record(workspace_path, snapshot, name)
    tags = dict(kwargs.pop("tags", None) or {})
    tags.update({"jvs.snapshot_id": record["snapshot_id"], "jvs.worktree": record["worktree"],
                 "jvs.repo_root": record["repo_root"]})
    params = dict(kwargs.pop("params", None) or {})
    params.setdefault("jvs_snapshot_id", record["snapshot_id"])
    # While logging, MLflow may load the model (input example validation): leave the files alone.
    with _workspace.LOGGING_MODEL.raised():
        info: ModelInfo = Model.log(
            artifact_path=None, name=name, flavor=importlib.import_module(__name__),
            python_model=python_model, jvs_record=record, on_load=on_load, into=into,
            tags=tags, params=params, **kwargs)
    return info


def save_model(path: Union[str, "os.PathLike[str]"], python_model: Any, jvs_record: Dict[str, Any],
               on_load: str = "restore", into: Optional[str] = None,
               mlflow_model: Optional[Model] = None, model_config: Optional[Dict[str, Any]] = None,
               **kwargs: Any) -> None:
    """Save like ``mlflow.pyfunc.save_model``, then add the ``jvs`` flavour (the flavour contract
    ``Model.log`` calls; use :func:`log_model`, which takes the snapshot and builds ``jvs_record``)."""
    _check_on_load(on_load)
    if model_config is not None and not isinstance(model_config, dict):
        raise MlflowJvsError("model_config must be a dict for a jvs model (it carries the jvs_* keys)")
    config = dict(model_config or {})
    config.update({CFG_SNAPSHOT: jvs_record["snapshot_id"], CFG_WORKSPACE: jvs_record["worktree_path"],
                   CFG_ON_LOAD: on_load, CFG_INTO: into or ""})
    _require_plugin(kwargs)
    model = mlflow_model if mlflow_model is not None else Model()
    pyfunc_save_model(os.fspath(path), python_model=python_model, mlflow_model=model,
                             model_config=config, **kwargs)
    pyfunc_conf = model.flavors[_PYFUNC]
    model.add_flavor(FLAVOR_NAME, snapshot_id=jvs_record["snapshot_id"], repo_root=jvs_record["repo_root"],
                     repo_id=jvs_record["repo_id"], worktree=jvs_record["worktree"],
                     workspace=jvs_record["worktree_path"], on_load=on_load, record=RECORD_FILE,
                     pyfunc_loader_module=pyfunc_conf[_LOADER_KEY],
                     mlflow_jvs_version=_workspace.PLUGIN_VERSION)
    pyfunc_conf[_LOADER_KEY] = __name__
    with open(os.path.join(os.fspath(path), RECORD_FILE), "w", encoding="utf-8") as f:
        json.dump(jvs_record, f, indent=2, sort_keys=True)
    model.save(os.path.join(os.fspath(path), "MLmodel"))


def _require_plugin(kwargs: Dict[str, Any]) -> None:
    """Add ``mlflow-jvs`` to the model's pip requirements (the loader module lives here):
    appended to an explicit ``pip_requirements`` list, else to ``extra_pip_requirements`` so
    MLflow still infers the rest. Left alone with a requirements file or a ``conda_env``."""
    req = "mlflow-jvs==%s" % _workspace.PLUGIN_VERSION
    pip = kwargs.get("pip_requirements")
    if isinstance(pip, (list, tuple)):
        kwargs["pip_requirements"] = [*pip, req]
    elif pip is None and kwargs.get("conda_env") is None:
        extra = kwargs.get("extra_pip_requirements")
        if extra is None or isinstance(extra, (list, tuple)):
            kwargs["extra_pip_requirements"] = [*(extra or []), req]


def _materialize(config: Dict[str, Any], model_path: str) -> str:
    """Restore or fork the snapshot as ``config`` says; the directory holding its files."""
    on_load = str(config.get(CFG_ON_LOAD) or "restore")
    _check_on_load(on_load)
    workspace = str(config[CFG_WORKSPACE])
    snapshot_id = str(config[CFG_SNAPSHOT])
    if on_load == "none" or _workspace.LOGGING_MODEL:
        return workspace
    try:
        ws = _workspace.open_workspace(workspace)
    except MlflowJvsError as e:
        raise type(e)("the jvs model at %s needs snapshot %s from %s; pass model_config={%r: <a path in "
                      "that repository here>} to mlflow.pyfunc.load_model. %s" % (
                          model_path, snapshot_id, workspace, CFG_WORKSPACE, e)) from e
    with ws:
        snap = _workspace.resolve(ws, snapshot_id)
        if on_load == "restore":
            return str(_workspace.restore(ws, snap.id))
        name = str(config.get(CFG_INTO) or "model-%s" % _workspace.short(snap.id))
        return str(_workspace.fork(ws, snap.id, name, reuse=True))


def _load_pyfunc(path: str, model_config: Optional[Dict[str, Any]] = None) -> Any:
    """The pyfunc loader named in the MLmodel: get the workspace ready, then load the model with
    the loader MLflow chose when saving it (its ``load_context`` sees ``jvs_path``)."""
    meta = Model.load(os.path.join(path, "MLmodel"))
    flavor = meta.flavors[FLAVOR_NAME]
    config = dict(model_config or {})
    for key, default in ((CFG_SNAPSHOT, flavor["snapshot_id"]), (CFG_WORKSPACE, flavor["workspace"]),
                         (CFG_ON_LOAD, flavor["on_load"])):
        config.setdefault(key, default)
    config[CFG_PATH] = _materialize(config, path)
    loader = importlib.import_module(str(flavor["pyfunc_loader_module"]))
    return loader._load_pyfunc(path, config)
