"""Fixtures of the library-level suites (helpers live in libjvs_driver.py, a unique module name)."""
import importlib.util
import os
import tarfile

import pytest

from libjvs_driver import FIXTURE, LIB_PATH, REF_PY, Lib


@pytest.fixture(scope="session")
def lib():
    if not os.path.exists(LIB_PATH):
        pytest.skip(f"libjvs not built at {LIB_PATH}")
    return Lib(LIB_PATH)


@pytest.fixture(scope="session")
def ref():
    spec = importlib.util.spec_from_file_location("jvs_oracle", REF_PY)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def upstream(tmp_path):
    """A fresh copy of the repository the Go tool wrote."""
    with tarfile.open(FIXTURE) as t:
        t.extractall(tmp_path)
    return tmp_path / "demo"


@pytest.fixture
def repo(lib, tmp_path):
    """A fresh repository at <tmp>/r: (handle, root). test_tamper.py has its own, populated one."""
    r, _ = lib.open(tmp_path / "r", init=True)
    yield r, tmp_path / "r"
    r.close()
