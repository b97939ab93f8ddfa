#!/usr/bin/env python3
"""Reproduce an MLflow run's exact workspace with mlflow-jvs (numpy only).

A linear model is trained by gradient descent on ``data/train.csv`` with the settings in
``config.json``, both files of a jvs workspace. Each run records the workspace snapshot it
trained on; then the data and the config change and a second run trains on those; finally
the first run is reproduced from nothing but its run id: its snapshot is forked into a new
worktree, the training runs there again, and gives the same weights and loss.

    pip install ./python-cffi ./integrations/mlflow
    python3 examples/mlflow_experiment.py [WORKDIR]

WORKDIR (default: a new temporary directory) receives the repository and, unless
MLFLOW_TRACKING_URI is set, the SQLite tracking store ``mlflow.db`` and the run artifacts.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Dict, Tuple

import mlflow
import numpy as np

import jvs
import mlflow_jvs

EXPERIMENT = "jvs-linear-regression"

def write_workspace(root: Path, slope: float, intercept: float, lr: float, seed: int) -> None:
    """The experiment's inputs: 200 noisy points of a line, and the training settings."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, 200)
    y = slope * x + intercept + rng.normal(0.0, 0.1, 200)
    (root / "data").mkdir(exist_ok=True)
    np.savetxt(root / "data" / "train.csv", np.column_stack([x, y]), delimiter=",", header="x,y", comments="")
    (root / "config.json").write_text(json.dumps({"learning_rate": lr, "epochs": 300}) + "\n")


def train(root: Path) -> Tuple[Dict[str, float], np.ndarray]:
    """Gradient descent on the files under ``root``; returns the settings and the weights."""
    config = json.loads((root / "config.json").read_text())
    data = np.loadtxt(root / "data" / "train.csv", delimiter=",", skiprows=1)
    x, y = data[:, 0], data[:, 1]
    w = np.zeros(2)
    for _ in range(int(config["epochs"])):
        err = w[0] * x + w[1] - y
        w -= config["learning_rate"] * np.array([2 * np.mean(err * x), 2 * np.mean(err)])
    return config, w


def mse(root: Path, w: np.ndarray) -> float:
    data = np.loadtxt(root / "data" / "train.csv", delimiter=",", skiprows=1)
    return float(np.mean((w[0] * data[:, 0] + w[1] - data[:, 1]) ** 2))


def tracked_run(ws: jvs.Workspace, name: str) -> str:
    """One MLflow run over the workspace as it is now; returns the run id."""
    with mlflow.start_run(run_name=name) as run:
        snapshot_id = mlflow_jvs.log_jvs_snapshot(ws.path, note="%s: data + config" % name)
        mlflow.log_input(mlflow_jvs.from_jvs(ws.path, "data/", snapshot=snapshot_id), context="training")
        config, w = train(ws.path)
        mlflow.log_params(config)
        mlflow.log_metrics({"mse": mse(ws.path, w), "slope": float(w[0]), "intercept": float(w[1])})
        print("run %-9s %s  snapshot %s  slope %+.4f  intercept %+.4f  mse %.5f" % (
            name, run.info.run_id, snapshot_id, w[0], w[1], mse(ws.path, w)))
        return str(run.info.run_id)


def main() -> None:
    workdir = Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="mlflow-jvs-example-"))
    workdir.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(os.environ.get("MLFLOW_TRACKING_URI") or "sqlite:///%s" % (workdir / "mlflow.db"))
    if mlflow.get_experiment_by_name(EXPERIMENT) is None:  # artifacts next to the store, not in ./mlruns
        mlflow.create_experiment(EXPERIMENT, artifact_location=(workdir / "artifacts").as_uri())
    mlflow.set_experiment(EXPERIMENT)

    ws = jvs.Workspace.init(workdir / "repo")
    write_workspace(ws.path, slope=3.0, intercept=1.0, lr=0.1, seed=1)
    baseline = tracked_run(ws, "baseline")

    write_workspace(ws.path, slope=-2.0, intercept=0.5, lr=0.05, seed=2)  # new data, new settings
    tracked_run(ws, "new-data")

    # Reproduce the baseline from its run id alone, without touching the current workspace.
    copy = mlflow_jvs.load_jvs_snapshot(baseline, ws.path, into="reproduce-baseline")
    _, w = train(copy)
    logged = mlflow.get_run(baseline).data.metrics
    same = (float(w[0]), float(w[1]), mse(copy, w)) == (logged["slope"], logged["intercept"], logged["mse"])
    print("reproduced %s in %s: slope %+.4f intercept %+.4f mse %.5f (%s)" % (
        baseline, copy, w[0], w[1], mse(copy, w), "identical" if same else "DIFFERENT"))
    print("the workspace still holds the new data: %s" % (ws.path / "config.json").read_text().strip())
    ws.close()
    if not same:
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main()
