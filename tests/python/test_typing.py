"""mypy --strict is clean on the package, on typical user code, the SDK example and its benchmark.

The framework adapters (jvs/integrations) are checked by tests/agents, where the frameworks are."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT, SRC, require_module


def test_mypy_strict() -> None:
    require_module("mypy", "mypy>=1.0")
    r = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                        "--exclude", "jvs/integrations/", str(SRC / "jvs"),
                        str(ROOT / "tests" / "python" / "typed_consumer.py"),
                        str(ROOT / "examples" / "sdk_basic.py"), str(ROOT / "bench" / "sdk_overhead.py")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       env={"MYPYPATH": str(SRC), "PATH": "/usr/bin:/bin"}, cwd=str(ROOT))
    assert r.returncode == 0, r.stdout
    assert "Success" in r.stdout
