"""A run logged to a real ``mlflow server``: what its REST API returns, and what its run page
shows in a real browser (headless Chromium). Plus the example, run as a user would."""

from __future__ import annotations

import json
import os
import re
import shutil
import urllib.request
from pathlib import Path
from typing import Any, Optional

import mlflow
import pytest
from conftest import Background, background, chromium, chromium_args

import jvs
import mlflow_jvs


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.loads(r.read())


def browse(url: str, tmp: Path, expect: str, screenshot: Optional[Path] = None) -> str:
    """The DOM of ``url`` once the React app rendered ``expect`` (Chromium's virtual time budget
    lets the page's fetches and timers run before the DOM is dumped; retried with a longer budget
    on a slow machine). Chromium and its helper processes run in their own process group."""
    exe = chromium()
    assert exe is not None
    tmp.mkdir(parents=True, exist_ok=True)
    dom = ""
    for budget in (30000, 90000):
        profile = tmp / ("chromium-profile-%d" % budget)
        profile.mkdir()
        cmd = [exe, *chromium_args(profile), "--virtual-time-budget=%d" % budget, "--window-size=1400,1600",
               "--hide-scrollbars", "--dump-dom"]
        if screenshot is not None:
            cmd.append("--screenshot=%s" % screenshot)
        job = Background("chromium", [*cmd, url], tmp, profile)
        rc, _ = job.wait(timeout=240)
        job.stop()
        dom = (profile / "chromium.log").read_text(errors="replace")
        if expect in dom:
            return dom
    raise AssertionError("%s never showed %r; DOM tail:\n%s" % (url, expect, dom[-3000:]))


def text_of(dom: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", dom))


def test_server_rest_api_and_run_page(ws: jvs.Workspace, mlflow_server: str, tracking_uri: str,
                                      tmp_path: Path) -> None:
    if chromium() is None:
        pytest.skip("chromium is not installed (scripts/install-deps.sh installs Debian's chromium)")
    mlflow.set_tracking_uri(mlflow_server)
    try:
        exp_id = mlflow.set_experiment("jvs-ui").experiment_id
        with mlflow.start_run(run_name="baseline") as run:
            mlflow.log_params({"learning_rate": 0.001, "batch_size": 256})
            sid = mlflow_jvs.log_jvs_snapshot(ws.path, note="baseline data", tags=["v1"])
            mlflow.log_input(mlflow_jvs.from_jvs(ws.path, "data/", snapshot=sid), context="training")
            mlflow.log_metric("mse", 0.25)
    finally:
        mlflow.set_tracking_uri(tracking_uri)
    run_id = run.info.run_id
    digest = ws.resolve(sid).payload_root_hash[:12]

    # the REST API shows what the plugin logged
    got = get_json("%s/api/2.0/mlflow/runs/get?run_id=%s" % (mlflow_server, run_id))["run"]
    params = {p["key"]: p["value"] for p in got["data"]["params"]}
    tags = {t["key"]: t["value"] for t in got["data"]["tags"]}
    assert params == {"learning_rate": "0.001", "batch_size": "256", "jvs_snapshot_id": sid,
                      "jvs_snapshot_note": "baseline data", "jvs_snapshot_tags": "v1"}
    assert (tags["jvs.snapshot_id"], tags["jvs.worktree"], tags["jvs.repo_root"]) == (sid, "main", str(ws.repo_root))
    ds = got["inputs"]["dataset_inputs"][0]["dataset"]
    assert (ds["source_type"], ds["digest"]) == ("jvs", digest)
    files = get_json("%s/api/2.0/mlflow/artifacts/list?run_id=%s" % (mlflow_server, run_id))["files"]
    assert {"path": "jvs_snapshot.json", "is_dir": False} in [{k: f[k] for k in ("path", "is_dir")} for f in files]
    with urllib.request.urlopen("%s/get-artifact?path=jvs_snapshot.json&run_uuid=%s" % (mlflow_server, run_id)) as r:
        record = json.loads(r.read())
    assert record["snapshot_id"] == sid and record["repo_root"] == str(ws.repo_root)

    # the run page, in a real browser: parameters, tags and datasets; then the artifacts tab
    page = "%s/#/experiments/%s/runs/%s" % (mlflow_server, exp_id, run_id)
    shot = tmp_path / "mlflow-run.png"
    text = text_of(browse(page, tmp_path, "jvs_snapshot_note", screenshot=shot))
    params_part = text[text.index("Parameters"):]
    for shown in ("jvs_snapshot_id %s" % sid, "jvs_snapshot_note baseline data", "jvs_snapshot_tags v1",
                  "learning_rate 0.001"):
        assert shown in params_part, (shown, params_part[:2000])
    assert re.search(r"jvs\.snapshot_id\s*:\s*%s" % sid, text), text[:3000]  # the Tags panel
    assert "data (%s)" % digest in text  # the Datasets panel
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("MLFLOW_JVS_SCREENSHOT"):  # refresh docs/mlflow-run.png
        shutil.copyfile(shot, os.environ["MLFLOW_JVS_SCREENSHOT"])

    artifacts = text_of(browse(page + "/artifacts", tmp_path / "a", "jvs_snapshot.json"))
    assert "jvs_snapshot.json" in artifacts


def test_example_reproduces_a_run() -> None:
    rc, out = background("example").wait(timeout=600)
    assert rc == 0, out
    lines = [ln for ln in out.splitlines() if ln.startswith(("run ", "reproduced "))]
    assert [ln.split()[0:2] for ln in lines[:2]] == [["run", "baseline"], ["run", "new-data"]], out
    assert "(identical)" in lines[2] and "reproduce-baseline" in lines[2], out
    assert out.rstrip().endswith("ok"), out
