"""A wheel built from python-cffi/, installed into a fresh virtualenv, then imported and used.

Building the wheel compiles libjvs (a few minutes). Set JVS_TEST_WHEEL=/path/to/jvs-*.whl to
test an already built wheel instead.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, SRC

pytestmark = pytest.mark.slow

_CHECK = textwrap.dedent(
    """
    import os, sys
    import jvs, jvs._ffi as f, jvs._cdefgen as g
    assert f.LIBRARY_SOURCE == "package", (f.LIBRARY_SOURCE, f.LIBRARY_PATH)
    assert os.path.dirname(f.LIBRARY_PATH) == os.path.dirname(jvs.__file__), f.LIBRARY_PATH
    assert f.BUILT, "the generated jvs._jvs_cffi module is missing from the wheel"
    assert f.CDEF == g.make_cdef(sys.argv[1]), "wheel declarations differ from include/jvs.h"
    assert os.path.exists(os.path.join(os.path.dirname(jvs.__file__), "py.typed"))
    ws = jvs.Workspace.init(sys.argv[2])
    with open(os.path.join(ws.path, "f.txt"), "w") as fh:
        fh.write("v1")
    s = ws.snapshot("from the wheel", tags=["w"])
    with open(os.path.join(ws.path, "f.txt"), "w") as fh:
        fh.write("v2")
    with jvs.transaction(ws, note="tx"):
        pass
    assert [e.path for e in ws.diff(s).modified] == ["f.txt"]
    ws.restore(s)
    assert open(os.path.join(ws.path, "f.txt")).read() == "v1"
    assert ws.doctor() and ws.verify()
    assert [x.note for x in ws.history()][-1] == "from the wheel"
    print("OK", jvs.__version__, jvs.library_version(), f.LIBRARY_PATH)
    """
)


def _build_wheel(out: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(out), str(ROOT / "python-cffi")]
    if importlib.util.find_spec("mesonpy") and importlib.util.find_spec("cffi"):
        cmd.insert(4, "--no-build-isolation")
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=3000)
    assert r.returncode == 0, r.stdout[-6000:]
    wheels = sorted(out.glob("jvs-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_wheel_in_fresh_virtualenv(tmp_path: Path) -> None:
    given = os.environ.get("JVS_TEST_WHEEL")
    wheel = Path(given) if given else _build_wheel(tmp_path / "dist")

    assert re.fullmatch(r"jvs-1\.0\.0-py3-none-[a-z0-9_]+\.whl", wheel.name), wheel.name
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        wheel_meta = z.read("jvs-1.0.0.dist-info/WHEEL").decode()
        entry_points = z.read("jvs-1.0.0.dist-info/entry_points.txt").decode()
    sources = {p.relative_to(SRC).as_posix() for p in (SRC / "jvs").rglob("*")
               if p.suffix in (".py", ".pyi", ".typed") and "__pycache__" not in p.parts}
    assert "jvs/integrations/mcp.py" in sources
    assert "jvs-mcp = jvs.integrations.mcp:main" in entry_points, entry_points
    for required in sources | {"jvs/libjvs.so.1", "jvs/_jvs_cffi.py", "jvs/_jvs_cdef.py"}:
        assert required in names, (required, sorted(names))  # e.g. a module missing in meson.build
    assert not any(n.endswith(".h") or n.endswith(".pc") or "/bin/" in n for n in names), names
    assert "Tag: py3-none-" in wheel_meta and "Root-Is-Purelib: false" in wheel_meta

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    r = subprocess.run([str(py), "-m", "pip", "install", "--no-input", "--disable-pip-version-check",
                        str(wheel)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stdout[-4000:]

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["JVS_LIBRARY"] = str(tmp_path / "no-such-libjvs.so")  # the bundled copy must win
    check = tmp_path / "check.py"
    check.write_text(_CHECK)
    r = subprocess.run([str(py), str(check), str(ROOT / "include" / "jvs.h"), str(tmp_path / "repo")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                       cwd=str(tmp_path), timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("OK 1.0.0"), r.stdout
    assert str(venv) in r.stdout

    # the console script is installed; without the `mcp` extra it says which extra to install
    r = subprocess.run([str(venv / "bin" / "jvs-mcp"), str(tmp_path / "repo")], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, timeout=120)
    assert r.returncode != 0 and 'pip install "jvs[mcp]"' in r.stderr, r.stderr
