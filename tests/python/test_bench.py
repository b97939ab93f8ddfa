"""bench/sdk_overhead.py runs (a few calls only: a smoke test, not a measurement)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, subprocess_env


def test_sdk_overhead_bench_runs() -> None:
    cli = os.environ.get("JVS_BIN") or str(ROOT / "build" / "jvs")
    if not os.access(cli, os.X_OK):
        pytest.skip("no jvs CLI at %s (set JVS_BIN)" % cli)
    perf = ROOT / "docs" / "PERFORMANCE.md"
    before = perf.read_bytes() if perf.exists() else None
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "sdk_overhead.py"), "--cli", cli,
                        "--iterations", "4", "--rounds", "2", "--json", "--no-write"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       env=subprocess_env(), timeout=300)
    assert r.returncode in (0, 1), r.stdout + r.stderr  # 1 = a target missed: not judged here
    res = json.loads(r.stdout)
    assert set(res) == {"history(limit=1)", "snapshot()"}
    for row in res.values():
        assert row["n"] == 4
        assert row["sdk_us"] > 0 and row["cli_us"] > 0 and row["c_us"] > 0
        assert row["sdk_overhead_us"] > 0 and row["ratio"] > 0
    assert (perf.read_bytes() if perf.exists() else None) == before  # --no-write
    assert Path(cli).exists()
