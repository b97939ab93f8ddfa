"""bench/bench_agents.py runs (two agents on a tiny ext4 loop filesystem: a smoke test, not a measurement)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, subprocess_env

BENCH = ROOT / "bench" / "bench_agents.py"


def test_bench_agents_runs(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("bench_agents.py makes loop filesystems: needs root")
    perf = ROOT / "docs" / "PERFORMANCE.md"
    before = perf.read_bytes()
    out = tmp_path / "bench.json"
    r = subprocess.run([sys.executable, str(BENCH), "--only", "ext4", "--agents", "2", "--workers", "2",
                        "--ext4", "30:1", "--no-write", "--json-out", str(out)], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, env=subprocess_env(), timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    saved = json.loads(out.read_text())
    if saved["meta"]["unavailable"]:
        pytest.skip("ext4 on a loop device unavailable: %s" % saved["meta"]["unavailable"])
    (res,) = saved["results"]
    assert res["engine"] == "copy" and res["agents_n"] == 2 and res["files"] == 30
    for phase in ("floor", "forks", "agents"):
        assert res[phase]["seconds"] > 0 and res[phase]["bytes_per"] > 0
    assert res["agents"]["peak_rss"] > 0 and "isolation: ok" in res["agents"]["summary"][-1]
    assert "| ext4 (`copy`) | 30 files" in r.stdout and "2 agents" in r.stdout

    again = subprocess.run([sys.executable, str(BENCH), "--from-json", str(out), "--no-write"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=subprocess_env(), timeout=120)
    assert again.returncode == 0 and again.stdout == r.stdout  # the same report from the saved results
    assert perf.read_bytes() == before  # --no-write
