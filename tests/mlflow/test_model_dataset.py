"""The pyfunc flavour that carries its workspace, and the jvs dataset source. Real MLflow."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, List

import mlflow
import mlflow.pyfunc
import numpy as np
import pytest
from conftest import write_files
from mlflow.models import Model

import jvs
import mlflow_jvs
from mlflow_jvs.dataset import JvsDatasetSource
from mlflow_jvs.errors import MlflowJvsError, SnapshotConflict, WorkspaceNotFound


class WeightsModel(mlflow.pyfunc.PythonModel):
    """Reads its weights from the workspace when loaded: what predict sees is the files'."""

    def load_context(self, context: Any) -> None:
        self.root = Path(context.model_config["jvs_path"])
        self.weights = np.loadtxt(self.root / "weights.txt")

    def predict(self, context: Any, model_input: List[List[float]], params: Any = None) -> List[float]:
        return [float(v) for v in np.asarray(model_input, dtype=float) @ self.weights]


def test_pyfunc_model_restores_or_forks_its_snapshot(ws: jvs.Workspace, experiment: str) -> None:
    write_files(ws.path, {"weights.txt": "1 2\n"})
    with mlflow.start_run() as run:
        info = mlflow_jvs.log_model("linear", WeightsModel(), ws.path, pip_requirements=["numpy"],
                                    input_example=[[1.0, 1.0]])
    sid = mlflow.get_logged_model(info.model_id).tags["jvs.snapshot_id"]
    snap = ws.resolve(sid)
    assert snap.note == "mlflow model linear"
    assert info.name == "linear" and info.model_uri == "models:/%s" % info.model_id
    assert info.run_id == run.info.run_id
    logged = mlflow.get_logged_model(info.model_id)
    assert logged.tags["jvs.worktree"] == "main" and logged.tags["jvs.repo_root"] == str(ws.repo_root)
    assert logged.params["jvs_snapshot_id"] == sid

    # the MLmodel carries the jvs flavour; the model directory the snapshot document
    local = Path(mlflow.artifacts.download_artifacts(info.model_uri))
    meta = Model.load(str(local / "MLmodel"))
    assert meta.flavors["jvs"]["snapshot_id"] == sid and meta.flavors["jvs"]["on_load"] == "restore"
    assert meta.flavors["python_function"]["loader_module"] == "mlflow_jvs.flavor"
    assert meta.flavors["jvs"]["pyfunc_loader_module"] == "mlflow.pyfunc.model"
    assert json.loads((local / "jvs_snapshot.json").read_text())["snapshot_id"] == sid
    assert "mlflow-jvs==1.0.0" in (local / "requirements.txt").read_text()
    # logging validated the input example by loading the model: the workspace was not touched
    assert ws.current_snapshot == snap and not ws.detached

    # the files change; loading restores them before load_context runs
    write_files(ws.path, {"weights.txt": "5 5\n", "junk.txt": "x"})
    ws.snapshot("retrained")
    write_files(ws.path, {"weights.txt": "7 7\n"})
    model = mlflow.pyfunc.load_model(info.model_uri)
    assert model.predict([[1.0, 1.0]]) == [3.0]
    assert (ws.path / "weights.txt").read_text() == "1 2\n" and not (ws.path / "junk.txt").exists()
    assert ws.current_snapshot == snap

    # fork, by option at load time: the workspace stays as it is
    ws.restore("HEAD")
    model = mlflow.pyfunc.load_model(info.model_uri, model_config={"jvs_on_load": "fork", "jvs_into": "serving"})
    assert model.predict([[2.0, 0.0]]) == [2.0]
    assert model.unwrap_python_model().root == ws.repo_root / "worktrees" / "serving"
    assert (ws.path / "weights.txt").read_text() == "5 5\n"
    # loading again reuses the fork (restored to the snapshot); a foreign worktree is refused
    (ws.repo_root / "worktrees" / "serving" / "weights.txt").write_text("0 0\n")
    model = mlflow.pyfunc.load_model(info.model_uri, model_config={"jvs_on_load": "fork", "jvs_into": "serving"})
    assert model.predict([[1.0, 1.0]]) == [3.0]
    ws.fork("taken")
    with pytest.raises(SnapshotConflict, match="taken"):
        mlflow.pyfunc.load_model(info.model_uri, model_config={"jvs_on_load": "fork", "jvs_into": "taken"})

    # "none" leaves the files alone; a workspace that moved is named in the error
    model = mlflow.pyfunc.load_model(info.model_uri, model_config={"jvs_on_load": "none"})
    assert model.predict([[1.0, 1.0]]) == [10.0]
    with pytest.raises(WorkspaceNotFound, match="needs snapshot %s" % sid):
        mlflow.pyfunc.load_model(info.model_uri, model_config={"jvs_workspace": "/nonexistent/repo"})


def test_pyfunc_model_of_an_existing_snapshot_loads_as_fork_by_default(ws: jvs.Workspace, experiment: str) -> None:
    write_files(ws.path, {"weights.txt": "3 4\n"})
    s = ws.snapshot("trained on this")
    count = len(ws.history())
    info = mlflow_jvs.log_model("m", WeightsModel(), ws.path, snapshot=s.id, on_load="fork",
                                pip_requirements=["numpy"])
    mlflow.end_run()
    assert len(ws.history()) == count
    write_files(ws.path, {"weights.txt": "0 0\n"})
    model = mlflow.pyfunc.load_model(info.model_uri)
    assert model.predict([[1.0, 1.0]]) == [7.0]
    assert model.unwrap_python_model().root == ws.repo_root / "worktrees" / ("model-%s" % s.short_id)
    assert (ws.path / "weights.txt").read_text() == "0 0\n"
    with pytest.raises(MlflowJvsError, match="on_load"):
        mlflow_jvs.log_model("m", WeightsModel(), ws.path, on_load="sometimes")


def test_dataset_source(ws: jvs.Workspace, experiment: str) -> None:
    with mlflow.start_run() as run:
        sid = mlflow_jvs.log_jvs_snapshot(ws.path)
        ds = mlflow.data.from_jvs(ws.path, "data/", snapshot=sid)  # type: ignore[attr-defined]
        mlflow.log_input(ds, context="training")
    snap = ws.resolve(sid)
    inputs: List[Any] = mlflow.get_run(run.info.run_id).inputs.dataset_inputs
    assert len(inputs) == 1
    d = inputs[0].dataset
    assert (d.name, d.source_type, d.digest) == ("data", "jvs", snap.payload_root_hash[:12])
    uri = "jvs://%s?snapshot=%s&path=data/" % (ws.repo_root, sid)
    assert json.loads(d.source) == {"uri": uri, "repo": str(ws.repo_root), "snapshot_id": sid, "path": "data/"}
    assert [(t.key, t.value) for t in inputs[0].tags] == [("mlflow.data.context", "training")]

    # MLflow resolves the logged source (and a bare URI) to the plugin's class
    source = mlflow.data.get_source(inputs[0])
    assert isinstance(source, JvsDatasetSource) and source.snapshot_id == sid
    from mlflow.data.dataset_source_registry import resolve_dataset_source

    assert isinstance(resolve_dataset_source(uri), JvsDatasetSource)

    write_files(ws.path, {"data/train.csv": "changed\n", "data/new.csv": "new\n"})
    path = Path(source.load())  # fork (default): the workspace is not touched
    assert path == ws.repo_root / "worktrees" / ("dataset-%s" % snap.short_id) / "data"
    assert sorted(p.name for p in path.iterdir()) == ["train.csv"]
    assert (path / "train.csv").read_text() == "x,y\n1,3\n2,5\n"
    assert (ws.path / "data" / "train.csv").read_text() == "changed\n"
    assert Path(source.load()) == path  # again: the fork is reused
    assert Path(source.load(restore=True)) == ws.path / "data"  # in place
    assert (ws.path / "data" / "train.csv").read_text() == "x,y\n1,3\n2,5\n" and not (ws.path / "data" / "new.csv").exists()
    with pytest.raises(MlflowJvsError, match="not a jvs dataset URI"):
        JvsDatasetSource("s3://bucket/x")
