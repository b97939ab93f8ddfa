"""The plugin as installed: entry points found by MLflow, log/load of snapshots on runs, the
run-context provider, autosnapshot, the error paths. Real MLflow (SQLite store), real libjvs."""

from __future__ import annotations

import importlib.metadata
import json
import os
import sys
import zipfile
from pathlib import Path
from typing import Any

import mlflow
import pytest
from conftest import IMPORTED_WITH_MLFLOW, WHEEL_ENV, background, write_files

import jvs
import mlflow_jvs
from mlflow_jvs.errors import MlflowJvsError, NoSnapshotInRun, SnapshotConflict, SnapshotNotFound, WorkspaceNotFound

GROUPS = {
    "mlflow.run_context_provider": ("jvs", "mlflow_jvs.context:JvsRunContextProvider"),
    "mlflow.dataset_source": ("jvs", "mlflow_jvs.dataset:JvsDatasetSource"),
    "mlflow.dataset_constructor": ("from_jvs", "mlflow_jvs.dataset:from_jvs"),
}


def artifact(run_id: str, path: str = "jvs_snapshot.json") -> Any:
    return json.loads(mlflow.artifacts.load_text("runs:/%s/%s" % (run_id, path)))


# ---- installation and discovery --------------------------------------------------------------

def test_installed_plugin_is_discovered_by_mlflow_itself() -> None:
    # the package under test is the installed one, not the source tree
    assert Path(mlflow_jvs.__file__).resolve().is_relative_to(Path(sys.prefix).resolve()), mlflow_jvs.__file__
    dist = importlib.metadata.distribution("mlflow-jvs")
    assert dist.version == mlflow_jvs.__version__ == "1.0.0"
    assert any(r.startswith("mlflow") for r in dist.requires or []) and any(r.startswith("jvs") for r in dist.requires or [])
    for group, (name, value) in GROUPS.items():
        eps = {ep.name: ep.value for ep in importlib.metadata.entry_points(group=group)}
        assert eps.get(name) == value, (group, eps)

    # `import mlflow` alone loaded the plugin (its entry points), and neither the SDK nor libjvs
    assert IMPORTED_WITH_MLFLOW == {"mlflow (before)": False, "mlflow_jvs": True, "mlflow_jvs.context": True,
                                    "mlflow_jvs.dataset": True, "mlflow_jvs.tracking": False, "jvs": False}
    from mlflow.data.dataset_source_registry import _dataset_source_registry
    from mlflow.tracking.context.registry import _run_context_provider_registry

    assert any(type(p).__name__ == "JvsRunContextProvider" for p in _run_context_provider_registry)
    assert mlflow_jvs.JvsDatasetSource in _dataset_source_registry.sources
    assert mlflow.data.from_jvs is mlflow_jvs.from_jvs  # type: ignore[attr-defined]
    assert callable(mlflow.log_jvs_snapshot) and callable(mlflow.load_jvs_snapshot)  # type: ignore[attr-defined]

    with zipfile.ZipFile(os.environ[WHEEL_ENV]) as z:
        names = set(z.namelist())
        eps_txt = z.read("mlflow_jvs-1.0.0.dist-info/entry_points.txt").decode()
    assert {"mlflow_jvs/py.typed", "mlflow_jvs/__init__.py", "mlflow_jvs/flavor.py"} <= names
    assert "[mlflow.run_context_provider]" in eps_txt and "[mlflow.dataset_source]" in eps_txt


def test_mypy_strict() -> None:
    rc, out = background("mypy").wait(timeout=600)
    assert rc == 0 and "Success" in out, out


# ---- log_jvs_snapshot ------------------------------------------------------------------------

def test_log_jvs_snapshot_records_params_tags_and_artifact(ws: jvs.Workspace, experiment: str) -> None:
    with mlflow.start_run() as run:
        sid = mlflow_jvs.log_jvs_snapshot(ws.path, note="baseline data", tags=["v1", "exp"])
    snap = ws.resolve(sid)
    assert (snap.note, snap.tags) == ("baseline data", ["v1", "exp"])
    assert ws.diff(sid, stat=False).changes == []  # the files as they were logged

    data = mlflow.get_run(run.info.run_id).data
    assert data.params == {"jvs_snapshot_id": sid, "jvs_snapshot_note": "baseline data", "jvs_snapshot_tags": "v1,exp"}
    assert data.tags["jvs.snapshot_id"] == sid
    assert data.tags["jvs.worktree"] == "main"
    assert data.tags["jvs.repo_root"] == str(ws.repo_root)

    rec = artifact(run.info.run_id)
    assert rec["kind"] == "mlflow_jvs_snapshot" and rec["schema"] == 1
    assert rec["snapshot_id"] == sid and rec["snapshot"] == snap.to_dict()
    assert rec["repo_root"] == str(ws.repo_root) and rec["repo_id"] == ws.repo_id
    assert rec["worktree"] == "main" and rec["worktree_path"] == str(ws.path)
    assert rec["engine"] == snap.engine and rec["taken"] is True and rec["stats"]["files"] == 3
    assert rec["library_version"] == jvs.library_version()


def test_log_jvs_snapshot_starts_a_run_like_log_param(ws: jvs.Workspace, experiment: str) -> None:
    assert mlflow.active_run() is None
    sid = mlflow_jvs.log_jvs_snapshot(ws.path)
    run = mlflow.active_run()
    assert run is not None and run.info.experiment_id == experiment
    mlflow.end_run()
    data = mlflow.get_run(run.info.run_id).data
    assert data.params["jvs_snapshot_id"] == sid
    assert data.params["jvs_snapshot_note"] == "mlflow run %s" % run.info.run_id == ws.resolve(sid).note
    assert data.params["jvs_snapshot_tags"] == ""


def test_record_an_existing_snapshot(ws: jvs.Workspace, experiment: str) -> None:
    old = ws.snapshot("tagged earlier", tags=["release-1"])
    write_files(ws.path, {"data/train.csv": "changed\n"})
    count = len(ws.history())
    with mlflow.start_run() as run:
        assert mlflow_jvs.log_jvs_snapshot(ws.path, snapshot="release-1", artifact_path="jvs/input") == old.id
        # the same snapshot again is fine (params are unchanged)
        assert mlflow_jvs.log_jvs_snapshot(ws.path, snapshot=old, artifact_path="jvs/input") == old.id
        with pytest.raises(MlflowJvsError, match="note and tags"):
            mlflow_jvs.log_jvs_snapshot(ws.path, note="x", snapshot=old)
    assert len(ws.history()) == count  # nothing new was taken
    data = mlflow.get_run(run.info.run_id).data
    assert data.params == {"jvs_snapshot_id": old.id, "jvs_snapshot_note": "tagged earlier",
                           "jvs_snapshot_tags": "release-1"}
    rec = artifact(run.info.run_id, "jvs/input.json")
    assert rec["taken"] is False and rec["snapshot_id"] == old.id and "stats" not in rec


def test_mlflow_one_liners(ws: jvs.Workspace, experiment: str) -> None:
    # as the product plan writes them: attached to mlflow by the plugin (loaded by MLflow itself)
    with mlflow.start_run() as run:
        sid = mlflow.log_jvs_snapshot(ws.path, "v1.0")  # type: ignore[attr-defined]
    assert ws.resolve(sid).note == "v1.0"
    (ws.path / "config.json").write_text('{"lr": 99}\n')
    path = mlflow.load_jvs_snapshot(run.info.run_id, ws.path)  # type: ignore[attr-defined]
    assert path == ws.path and (ws.path / "config.json").read_text() == '{"lr": 0.1}\n'


# ---- load_jvs_snapshot -----------------------------------------------------------------------

def test_load_restores_in_place_or_forks(ws: jvs.Workspace, experiment: str) -> None:
    with mlflow.start_run() as run:
        sid = mlflow_jvs.log_jvs_snapshot(ws.path, note="first")
    write_files(ws.path, {"data/train.csv": "x,y\n9,9\n", "data/extra.csv": "new\n"})
    ws.snapshot("second")
    write_files(ws.path, {"config.json": "unsaved\n"})

    # fork: a new worktree holding the run's files, the workspace untouched
    fork = mlflow_jvs.load_jvs_snapshot(run.info.run_id, ws.path, into="repro")
    assert fork == ws.repo_root / "worktrees" / "repro"
    assert (fork / "data" / "train.csv").read_text() == "x,y\n1,3\n2,5\n" and not (fork / "data" / "extra.csv").exists()
    assert (ws.path / "config.json").read_text() == "unsaved\n"
    with pytest.raises(SnapshotConflict, match="repro"):
        mlflow_jvs.load_jvs_snapshot(sid, ws.path, into="repro")

    # restore in place, by snapshot id and by run id (also runs:/<id>)
    for ref in (sid, run.info.run_id, "runs:/%s" % run.info.run_id):
        write_files(ws.path, {"config.json": "unsaved\n"})
        assert mlflow_jvs.load_jvs_snapshot(ref, ws.path) == ws.path
        assert (ws.path / "config.json").read_text() == '{"lr": 0.1}\n'
        assert not (ws.path / "data" / "extra.csv").exists()
        assert ws.current_snapshot == ws.resolve(sid) and ws.detached
    assert mlflow_jvs.run_snapshot_id(run.info.run_id) == sid


# ---- errors ----------------------------------------------------------------------------------

def test_errors_name_the_run_and_the_repository(ws: jvs.Workspace, tmp_path: Path, experiment: str) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(WorkspaceNotFound, match="no jvs workspace at %s" % plain):
        mlflow_jvs.log_jvs_snapshot(plain)
    assert mlflow.active_run() is None  # checked before a run is started

    with pytest.raises(SnapshotNotFound, match="1700000000000-deadbeef.*is not in the jvs repository %s" % ws.repo_root):
        mlflow_jvs.load_jvs_snapshot("1700000000000-deadbeef", ws.path)

    with mlflow.start_run() as bare:
        mlflow.log_param("lr", 0.1)
    with pytest.raises(NoSnapshotInRun, match="run %s records no jvs snapshot" % bare.info.run_id):
        mlflow_jvs.load_jvs_snapshot(bare.info.run_id, ws.path)

    other = jvs.Workspace.init(tmp_path / "other-repo")
    (other.path / "f").write_text("other")
    with mlflow.start_run() as elsewhere:
        osid = mlflow_jvs.log_jvs_snapshot(other.path)
    with pytest.raises(SnapshotNotFound) as e:
        mlflow_jvs.load_jvs_snapshot(elsewhere.info.run_id, ws.path)
    msg = str(e.value)
    for part in (osid, "MLflow run %s" % elsewhere.info.run_id, str(ws.repo_root), "logged from %s" % other.repo_root):
        assert part in msg, msg
    assert isinstance(e.value.__cause__, jvs.NotFound) and e.value.__cause__.code == "E_REF_NOT_FOUND"

    with pytest.raises(MlflowJvsError, match="run 0123456789abcdef0123456789abcdef does not exist"):
        mlflow_jvs.load_jvs_snapshot("runs:/0123456789abcdef0123456789abcdef", ws.path)
    with pytest.raises(SnapshotNotFound, match="neither an MLflow run"):
        mlflow_jvs.load_jvs_snapshot("0123456789abcdef0123456789abcdef", ws.path)

    # a run's params cannot change: a second snapshot in the same run is refused before it is taken
    count = len(other.history())
    with mlflow.start_run(run_id=elsewhere.info.run_id):
        with pytest.raises(SnapshotConflict, match="already records jvs snapshot %s" % osid):
            mlflow_jvs.log_jvs_snapshot(other.path)
    assert len(other.history()) == count
    other.close()

    # a detached worktree cannot be snapshotted: the error says what to do
    first = ws.snapshot("one")
    ws.snapshot("two")
    ws.restore(first)
    with mlflow.start_run():
        with pytest.raises(MlflowJvsError, match="detached.*snapshot='HEAD'"):
            mlflow_jvs.log_jvs_snapshot(ws.path)
        assert mlflow_jvs.log_jvs_snapshot(ws.path, snapshot="HEAD") == first.id


# ---- the run-context provider ----------------------------------------------------------------

def _jvs_tags(run: Any) -> dict:
    return {k: v for k, v in mlflow.get_run(run.info.run_id).data.tags.items() if k.startswith("jvs.")}


def test_context_provider_tags_runs_started_in_a_workspace(ws: jvs.Workspace, tmp_path: Path, experiment: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JVS_WORKSPACE", raising=False)
    monkeypatch.delenv("MLFLOW_JVS_AUTOSNAPSHOT", raising=False)
    monkeypatch.chdir(ws.path / "data")  # anywhere inside the worktree
    with mlflow.start_run() as r:  # no snapshot yet, files present
        pass
    assert _jvs_tags(r) == {"jvs.worktree": "main", "jvs.repo_root": str(ws.repo_root), "jvs.dirty": "true"}

    s = ws.snapshot("clean")
    with mlflow.start_run() as r:
        pass
    assert _jvs_tags(r) == {"jvs.worktree": "main", "jvs.repo_root": str(ws.repo_root), "jvs.head": s.id,
                            "jvs.dirty": "false"}
    assert mlflow_jvs.run_snapshot_id(r.info.run_id) == s.id  # a clean head is enough to reproduce

    (ws.path / "train.py").write_text("print('changed')\n")
    with mlflow.start_run() as r:
        pass
    assert _jvs_tags(r)["jvs.dirty"] == "true" and _jvs_tags(r)["jvs.head"] == s.id
    with pytest.raises(NoSnapshotInRun, match="unsaved changes"):
        mlflow_jvs.run_snapshot_id(r.info.run_id)

    with ws.fork("exp") as exp:  # another worktree, named by JVS_WORKSPACE from outside
        outside = tmp_path / "outside"
        outside.mkdir()
        monkeypatch.chdir(outside)
        with mlflow.start_run() as r:
            pass
        assert _jvs_tags(r) == {}
        monkeypatch.setenv("JVS_WORKSPACE", str(exp.path))
        with mlflow.start_run() as r:
            pass
        assert _jvs_tags(r) == {"jvs.worktree": "exp", "jvs.repo_root": str(ws.repo_root), "jvs.head": s.id,
                                "jvs.dirty": "false"}
        monkeypatch.setenv("MLFLOW_JVS_DISABLE", "1")
        with mlflow.start_run() as r:
            pass
        assert _jvs_tags(r) == {}


def test_autosnapshot_logs_a_snapshot_at_each_run_start(ws: jvs.Workspace, experiment: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JVS_WORKSPACE", raising=False)
    monkeypatch.setenv("MLFLOW_JVS_AUTOSNAPSHOT", "1")
    monkeypatch.chdir(ws.path)
    with mlflow.start_run() as run:
        # already logged when start_run returned
        data = mlflow.get_run(run.info.run_id).data
        sid = data.params["jvs_snapshot_id"]
        assert data.tags["jvs.snapshot_id"] == data.tags["jvs.head"] == sid and data.tags["jvs.dirty"] == "false"
        assert artifact(run.info.run_id)["snapshot_id"] == sid
        assert ws.resolve(sid).note == "MLflow run start (MLFLOW_JVS_AUTOSNAPSHOT)"
        assert ws.current_snapshot == ws.resolve(sid)
        # the run records its snapshot already: a second one is refused, nothing is taken
        count = len(ws.history())
        with pytest.raises(SnapshotConflict):
            mlflow_jvs.log_jvs_snapshot(ws.path)
        assert len(ws.history()) == count
        with mlflow.start_run(nested=True) as child:
            pass
        assert mlflow.get_run(child.info.run_id).data.params["jvs_snapshot_id"] not in (sid, None)
    assert sys.getprofile() is None  # the one-shot hook removed itself

    # log_jvs_snapshot starting its own run takes exactly one snapshot
    count = len(ws.history())
    sid2 = mlflow_jvs.log_jvs_snapshot(ws.path, note="explicit")
    mlflow.end_run()
    assert len(ws.history()) == count + 1 and ws.resolve(sid2).note == "explicit"

    # a detached worktree: the run still starts, with the plain context tags
    ws.restore(sid)
    with mlflow.start_run() as run:
        pass
    tags = _jvs_tags(run)
    assert tags["jvs.head"] == sid and "jvs.snapshot_id" not in tags
