"""pytest setup for the jvs Python SDK tests.

By default the tests import the package from the source tree (python-cffi/src) and load the
library named by $JVS_LIBRARY (default: build/libjvs.so of this checkout). Set
JVS_TEST_INSTALLED=1 to test an installed jvs package instead.

Everything runs against the real libjvs: nothing here fakes the library.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable, Dict, Iterator

import pytest

sys.path.append(str(Path(__file__).resolve().parents[1]))  # tests/: the shared bootstrap
from sdk_bootstrap import ROOT, SRC  # noqa: E402  (puts the SDK and the library in place)

import jvs  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: builds a wheel or runs many threads")


def write(root: Path, rel: str, content: str = "x") -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(content)
    return p


def tree(root: Path) -> Dict[str, bytes]:
    """{relative path: content} of every file (and "dir/" entries for directories)."""
    out: Dict[str, bytes] = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_symlink():
            out[rel] = b"->" + os.readlink(p).encode()
        elif p.is_dir():
            out[rel + "/"] = b""
        else:
            out[rel] = p.read_bytes()
    return out


def many_files(root: Path, n: int = 20000, per_dir: int = 500, content: bytes = b"") -> None:
    """n tiny files: makes snapshot/restore/fork take about a second (for cancellation tests).

    Each file holds its number, or ``content`` when given (calling it again with other content
    rewrites them all). Raw os calls: pathlib is several times slower for this many files.
    """
    for i in range(n):
        d = root / ("many%03d" % (i // per_dir))
        if i % per_dir == 0:
            d.mkdir(parents=True, exist_ok=True)
        fd = os.open(str(d / ("f%05d" % i)), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.write(fd, content or b"%d" % i)
        os.close(fd)


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[jvs.Workspace]:
    """A fresh repository's main worktree holding two files."""
    w = jvs.Workspace.init(tmp_path / "repo")
    write(w.path, "a.txt", "alpha\n")
    write(w.path, "dir/b.txt", "beta\n")
    yield w
    w.close()


@pytest.fixture
def writer() -> Callable[..., Path]:
    return write


def require_module(module: str, requirement: str) -> None:
    """Make ``module`` importable, installing ``requirement`` with pip if it is missing.

    For tools the suite needs to run a test at all (mypy, tqdm): a missing one is installed,
    never a reason to skip; if pip cannot install it the test fails and says why.
    """
    if importlib.util.find_spec(module) is not None:
        return
    r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                        requirement], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    importlib.invalidate_caches()
    if r.returncode != 0 or importlib.util.find_spec(module) is None:
        pytest.fail("%s is needed and `pip install %s` failed:\n%s" % (module, requirement, r.stdout[-2000:]))


def subprocess_env(**extra: str) -> Dict[str, str]:
    """Environment for child Pythons: same library, same package source."""
    env = dict(os.environ)
    if os.environ.get("JVS_TEST_INSTALLED") != "1":
        env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env
