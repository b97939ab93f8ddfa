"""The manylinux wheel scripts/build-wheel.sh makes, installed into a fresh virtualenv and used there.

The wheel must carry every library libjvs needs beyond what the manylinux policy lets a wheel assume
(libc, libm, libstdc++, libgcc_s): the installed libjvs.so.1 is checked with ldd to resolve nothing
else outside the virtualenv. The virtualenv has no system site packages; cffi (and pycparser) are
fetched from PyPI into a local wheelhouse and installed with --no-index. Offline, the virtualenv is
made with --system-site-packages instead (for cffi only; the message says so) and the ldd check still
holds.

The first build compiles libjvs (about 2 minutes on 2 cores); the build directory (build/wheel/) is
kept, so later runs only re-package (seconds). JVS_TEST_WHEEL=/path/to/jvs-*.whl tests a built wheel.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path
from typing import Optional

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


# What a manylinux wheel may take from the system (the policy's allow-list, the ones libjvs uses).
_SYSTEM_LIBS = {"libc.so.6", "libm.so.6", "libstdc++.so.6", "libgcc_s.so.1", "libpthread.so.0",
                "libdl.so.2", "librt.so.1", "linux-vdso.so.1", "libz.so.1"}


def _build_wheel(out: Path) -> Path:
    if not (shutil.which("auditwheel") and shutil.which("patchelf")):
        pytest.skip("auditwheel and patchelf are needed (scripts/install-deps.sh installs them)")
    r = subprocess.run(["bash", str(ROOT / "scripts" / "build-wheel.sh"), str(out)], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=3000, env=dict(os.environ, PYTHON=sys.executable))
    assert r.returncode == 0, r.stderr[-6000:]
    return Path(r.stdout.strip().splitlines()[-1])


def _cffi_wheelhouse(py: Path, tmp_path: Path) -> Optional[Path]:
    """cffi and pycparser as wheels in a local directory, or None when PyPI cannot be reached."""
    house = tmp_path / "wheelhouse"
    r = subprocess.run([str(py), "-m", "pip", "download", "--disable-pip-version-check", "--only-binary", ":all:",
                        "-d", str(house), "cffi>=1.15"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=300)
    return house if r.returncode == 0 else None


def _outside_libs(lib: Path, venv: Path) -> list:
    """The libraries ldd resolves for ``lib`` outside ``venv`` and the manylinux allow-list."""
    out = subprocess.run(["ldd", str(lib)], stdout=subprocess.PIPE, text=True, check=True).stdout
    bad = []
    for line in out.splitlines():
        name, _, rest = line.strip().partition(" => ")
        path = rest.split(" (")[0].strip() if rest else ""
        if "not found" in line:
            bad.append(line.strip())
        elif path and not path.startswith(str(venv)) and os.path.basename(name) not in _SYSTEM_LIBS:
            bad.append(line.strip())
    return bad


def test_wheel_in_fresh_virtualenv(tmp_path: Path) -> None:
    given = os.environ.get("JVS_TEST_WHEEL")
    wheel = Path(given) if given else _build_wheel(tmp_path / "dist")

    assert re.fullmatch(r"jvs-1\.0\.0-py3-none-manylinux_2_[0-9]+_x86_64\.whl", wheel.name), wheel.name
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        wheel_meta = z.read("jvs-1.0.0.dist-info/WHEEL").decode()
        entry_points = z.read("jvs-1.0.0.dist-info/entry_points.txt").decode()
    sources = {p.relative_to(SRC).as_posix() for p in (SRC / "jvs").rglob("*")
               if p.suffix in (".py", ".pyi", ".typed") and "__pycache__" not in p.parts}
    assert "jvs/integrations/mcp.py" in sources
    assert "jvs-mcp = jvs.integrations:mcp_main" in entry_points, entry_points
    for required in sources | {"jvs/libjvs.so.1", "jvs/_jvs_cffi.py", "jvs/_jvs_cdef.py"}:
        assert required in names, (required, sorted(names))  # e.g. a module missing in meson.build
    assert not any(n.endswith(".h") or n.endswith(".pc") or "/bin/" in n for n in names), names
    assert "Tag: py3-none-manylinux_2_" in wheel_meta and "Root-Is-Purelib: false" in wheel_meta
    # auditwheel vendored what libjvs links beyond the allow-list (the SDK README lists them)
    vendored = {n.split("/")[1].split("-")[0] for n in names if n.startswith("jvs.libs/")}
    assert {"libcrypto", "libutf8proc", "libyaml"} <= vendored, sorted(names)

    house = _cffi_wheelhouse(Path(sys.executable), tmp_path)
    venv = tmp_path / "venv"
    venv_args = [sys.executable, "-m", "venv", str(venv)]
    if house is None:
        print("PyPI unreachable: the virtualenv uses the system site packages for cffi")
        venv_args.insert(3, "--system-site-packages")
    subprocess.run(venv_args, check=True)
    py = venv / "bin" / "python"
    install = [str(py), "-m", "pip", "install", "--no-input", "--disable-pip-version-check", "--no-index"]
    if house is not None:
        install += ["--find-links", str(house)]
    r = subprocess.run(install + [str(wheel)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
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

    installed = Path(r.stdout.split()[-1])
    assert _outside_libs(installed, venv) == [], _outside_libs(installed, venv)

    # the console script is installed; without the `mcp` extra it says which extra to install
    assert (venv / "bin" / "jvs-mcp").exists()
    if house is not None:  # (a virtualenv on the system site packages may have mcp)
        mcp = subprocess.run([str(venv / "bin" / "jvs-mcp"), str(tmp_path / "repo")], stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, timeout=120)
        assert mcp.returncode == 2, mcp.stderr
        assert mcp.stderr.startswith("jvs-mcp: jvs.integrations.mcp needs") and "Traceback" not in mcp.stderr

    # The ctypes example finds the installed package's library by itself (no JVS_LIBRARY).
    env.pop("JVS_LIBRARY")
    r = subprocess.run([str(py), str(ROOT / "examples" / "ctypes_quickstart.py"), str(tmp_path / "ctypes")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=str(tmp_path),
                       timeout=300)
    assert r.returncode == 0 and r.stdout.rstrip().endswith("ok"), r.stdout + r.stderr
