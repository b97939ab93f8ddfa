"""Typical user code, type-checked with mypy --strict by test_tracking.py::test_mypy_strict."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import mlflow
from mlflow.data.meta_dataset import MetaDataset
from mlflow.models.model import ModelInfo
from mlflow.pyfunc.model import PythonModel

import mlflow_jvs
from mlflow_jvs.errors import MlflowJvsError


class Model(PythonModel):
    def load_context(self, context: Any) -> None:
        self.root = Path(context.model_config["jvs_path"])

    def predict(self, context: Any, model_input: Any, params: Optional[Any] = None) -> Any:
        return model_input


def experiment(workspace: Path) -> Optional[Path]:
    with mlflow.start_run() as run:
        snapshot_id: str = mlflow_jvs.log_jvs_snapshot(workspace, note="baseline", tags=["v1"])
        dataset: MetaDataset = mlflow_jvs.from_jvs(workspace, "data/", snapshot=snapshot_id)
        mlflow.log_input(dataset, context="training")
        info: ModelInfo = mlflow_jvs.log_model("model", Model(), workspace, snapshot=snapshot_id,
                                               on_load="fork", pip_requirements=["numpy"])
        print(info.model_uri)
    source = dataset.source
    assert isinstance(source, mlflow_jvs.JvsDatasetSource)
    data_dir: str = source.load(into="data-copy")
    print(data_dir, mlflow_jvs.run_snapshot_id(run.info.run_id))
    try:
        return mlflow_jvs.load_jvs_snapshot(run.info.run_id, workspace, into="reproduce")
    except MlflowJvsError as e:
        print(e.message)
        return None
