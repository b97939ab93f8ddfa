"""mypy --strict is clean on the package and on typical user code."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import ROOT, SRC


def test_mypy_strict() -> None:
    if subprocess.run([sys.executable, "-m", "mypy", "--version"], capture_output=True).returncode != 0:
        pytest.skip("mypy not installed for %s" % sys.executable)
    r = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                        str(SRC / "jvs"), str(ROOT / "tests" / "python" / "typed_consumer.py")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       env={"MYPYPATH": str(SRC), "PATH": "/usr/bin:/bin"}, cwd=str(ROOT))
    assert r.returncode == 0, r.stdout
    assert "Success" in r.stdout
