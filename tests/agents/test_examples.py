"""The agent examples run as their docstrings say (offline, real frameworks, real libjvs)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import List

import pytest
from conftest import ROOT, notes, subprocess_env

import jvs

EXAMPLES = ROOT / "examples"


def example(name: str, *args: str) -> subprocess.CompletedProcess:
    r = subprocess.run([sys.executable, str(EXAMPLES / name), *args], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, env=subprocess_env(), timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return r


def test_langchain_example(tmp_path: Path) -> None:
    pytest.importorskip("langchain.agents", reason="LangChain 1.x is not installed")
    out = example("langchain_jvs.py", str(tmp_path / "repo")).stdout
    assert "tool rename_symbol  error   RuntimeError: parser crashed in utils.py" in out
    assert "rolled back rename_symbol (call_3)" in out
    assert "files: ['utils.py']" in out and "utils.py: def slugify(s):" in out
    with jvs.Workspace(tmp_path / "repo") as ws:
        assert (ws.path / "utils.py").read_text().startswith("def slugify")
        assert not (ws.path / "utils.py.orig").exists() and not (ws.path / "legacy.py").exists()
        assert notes(ws)[-1].startswith("langchain refactor: utils.py written")
    example("langchain_jvs.py", str(tmp_path / "repo"))  # runs again on the same repository


def test_autogen_example(tmp_path: Path) -> None:
    pytest.importorskip("autogen_ext.models.replay", reason="AutoGen (autogen-agentchat, autogen-ext) is not installed")
    out = example("autogen_jvs.py", str(tmp_path / "repo")).stdout
    assert "tool migrate_database  error migration to v2 failed" in out
    assert "files: ['config.toml', 'db.json']" in out
    assert 'db.json: {"version": 1, "rows": []}' in out
    with jvs.Workspace(tmp_path / "repo") as ws:
        assert notes(ws)[-1].startswith("autogen task: add a server config and migrate the database -> ")
        assert ws.history()[0].tags == ["autogen"]


def test_autogen_example_failed_task(tmp_path: Path) -> None:
    pytest.importorskip("autogen_ext.models.replay", reason="AutoGen (autogen-agentchat, autogen-ext) is not installed")
    out = example("autogen_jvs.py", str(tmp_path / "repo"), "--fail").stdout
    assert "task failed" in out and "detached: True" in out
    assert "files: ['db.json']" in out


def parallel(tmp_path: Path, *args: str) -> List[str]:
    return example("parallel_agents.py", str(tmp_path / "repo"), *args).stdout.splitlines()


def test_parallel_agents(tmp_path: Path) -> None:
    lines = parallel(tmp_path, "--agents", "8", "--workers", "4", "--seed-files", "30")
    rows = [ln for ln in lines if ln.startswith("agent-")]
    assert len(rows) == 8
    assert sum(" yes " in r for r in rows) == 1  # seed 3 fails a step and rolls it back
    assert any(ln.startswith("isolation: ok") for ln in lines)
    assert "8 agents on 4 workers" in lines[-2]
    with jvs.Workspace(tmp_path / "repo") as ws:
        forks = [w.name for w in ws.worktrees() if w.name != "main"]
        assert len(forks) == 8
        assert not (ws.path / "agents").exists()  # main never saw an agent's files
        assert len(ws.history(all=True, tag="agent-result")) == 8

    # again on the same repository, cleaning up: new fork names, the old forks untouched
    lines = parallel(tmp_path, "--agents", "3", "--workers", "2", "--cleanup", "--quiet")
    assert not any(ln.startswith("agent-") for ln in lines)
    assert lines[-1] == "removed 3 forks (their snapshots stay until ws.gc())"
    with jvs.Workspace(tmp_path / "repo") as ws:
        assert sorted(w.name for w in ws.worktrees() if w.name != "main") == sorted(forks)
