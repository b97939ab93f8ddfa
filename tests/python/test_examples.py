"""The examples run as documented."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, subprocess_env

import jvs


def _run(args: list, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, env=subprocess_env(**env), timeout=120)


# A sanitizer run (scripts/sanitizers.sh) preloads its runtime: children need it too.
SANITIZER_ENV = {k: v for k, v in os.environ.items() if k in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS")}


def test_ctypes_quickstart(tmp_path: Path) -> None:
    # plain ctypes: no cffi, no jvs package - only the library path
    r = subprocess.run([sys.executable, "-I", str(ROOT / "examples" / "ctypes_quickstart.py"),
                        str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       env={"JVS_LIBRARY": jvs.library_path(), "PATH": "/usr/bin:/bin", **SANITIZER_ENV},
                       timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    assert "ABI 1" in out
    assert out.count("\nsnapshot ") == 2
    assert out.count("\nhistory ") == 2
    assert "model.txt = v1 scratch.tmp exists = False" in out
    assert "error E_REF_NOT_FOUND JVS_E_NOT_FOUND" in out
    assert out.rstrip().endswith("ok")


def test_ctypes_quickstart_frees_every_buffer(tmp_path: Path) -> None:
    """Under valgrind (when installed): no block allocated inside libjvs is definitely lost."""
    import re
    import shutil

    import pytest

    valgrind = shutil.which("valgrind")
    if valgrind is None:
        pytest.skip("valgrind not installed")
    if SANITIZER_ENV.get("LD_PRELOAD"):
        pytest.skip("a sanitizer runtime is preloaded: valgrind cannot run beside it")
    r = subprocess.run([valgrind, "--leak-check=full", "--show-leak-kinds=definite",
                        "--num-callers=40", sys.executable, "-S",
                        str(ROOT / "examples" / "ctypes_quickstart.py"), str(tmp_path)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       env={"JVS_LIBRARY": jvs.library_path(), "PATH": "/usr/bin:/bin",
                            "PYTHONMALLOC": "malloc"}, timeout=900)
    assert r.returncode == 0, r.stderr[-4000:]
    assert r.stdout.rstrip().endswith("ok")
    records = re.split(r"\n==\d+== \n", r.stderr)
    leaks = [rec for rec in records if "definitely lost in loss record" in rec and "libjvs" in rec]
    assert not leaks, "\n\n".join(leaks)[:6000]


def test_sdk_basic_success(tmp_path: Path) -> None:
    r = _run([str(ROOT / "examples" / "sdk_basic.py"), str(tmp_path / "repo")])
    assert r.returncode == 0, r.stdout + r.stderr
    assert "agent ok -> snapshot" in r.stdout
    assert "transaction committed" in r.stdout
    with jvs.Workspace(tmp_path / "repo") as ws:
        notes = [s.note for s in ws.history()]
        # the worktree was clean when the transaction began: its head is the baseline, no "before:"
        assert notes[:2] == ["agent run (transaction)", "Agent completed: refactor done"]
        assert "Agent completed: refactor done" in notes
        assert (ws.path / "scratch" / "tmp.json").exists()


def test_sdk_basic_failure_restores(tmp_path: Path) -> None:
    r = _run([str(ROOT / "examples" / "sdk_basic.py"), str(tmp_path / "repo"), "--fail"])
    assert r.returncode == 0, r.stdout + r.stderr
    assert "agent failed (the agent crashed half-way) -> restored" in r.stdout
    assert "transaction rolled back to" in r.stdout
    with jvs.Workspace(tmp_path / "repo") as ws:
        assert not (ws.path / "scratch").exists()
        assert (ws.path / "old.txt").exists()
        assert (ws.path / "plan.md").read_text() == "# plan\n"
        assert not ws.detached
        # run it again on the same repository: still works
    r2 = _run([str(ROOT / "examples" / "sdk_basic.py"), str(tmp_path / "repo")])
    assert r2.returncode == 0, r2.stdout + r2.stderr
