"""Fixtures of the real-filesystem suites: XFS (reflink=1) and btrfs on loop devices, JuiceFS over FUSE,
and one JuiceFS volume mounted twice (two hosts, tests/fs/test_multihost.py).

Each mount is session-scoped, created on first use and torn down at the end of the session (also when
tests fail or the run is interrupted). A filesystem that cannot be set up here skips the tests that
need it, with the precise reason (shown by `pytest -rs`, and printed on stderr at once)."""
import atexit
import importlib.util
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "library"))

import fsmounts  # noqa: E402
from libjvs_driver import LIB_PATH, REF_PY, Lib  # noqa: E402

_open_mounts = []


def _close_all():
    while _open_mounts:
        _open_mounts.pop().close()


atexit.register(_close_all)  # belt and braces: an interrupted session still unmounts


def _mount_fixture(kind, factory=None, **kw):
    try:
        m = (factory or fsmounts.MOUNTERS[kind])(**kw)
    except fsmounts.Unavailable as e:
        print(f"\n[tests/fs] {kind} unavailable, skipping its tests: {e}", file=sys.stderr)
        pytest.skip(f"{kind} unavailable: {e}")
    _open_mounts.append(m)
    try:
        yield m
    finally:
        if m in _open_mounts:
            _open_mounts.remove(m)
        m.close()


@pytest.fixture(scope="session")
def xfs_mount():
    yield from _mount_fixture("xfs", size=1 << 30)


@pytest.fixture(scope="session")
def btrfs_mount():
    yield from _mount_fixture("btrfs", size=512 << 20)


@pytest.fixture(scope="session")
def juicefs_mount():
    yield from _mount_fixture("juicefs")


@pytest.fixture(scope="module")
def jfs_hosts():
    """One JuiceFS volume (metadata in a private redis-server, data in a local bucket) mounted twice,
    at `mounts["a"]` and `mounts["b"]`: two hosts. JVS_JFS_HEARTBEAT (e.g. 3s) sets `--heartbeat`."""
    yield from _mount_fixture("juicefs hosts", fsmounts.juicefs_hosts,
                              heartbeat=os.environ.get("JVS_JFS_HEARTBEAT") or None)


@pytest.fixture(params=["xfs", "btrfs"])
def cow_mount(request):
    """A reflink-capable filesystem: each test using it runs on XFS and on btrfs."""
    return request.getfixturevalue(f"{request.param}_mount")


@pytest.fixture(scope="session")
def lib():
    if not os.path.exists(LIB_PATH):
        pytest.skip(f"libjvs not built at {LIB_PATH}")
    return Lib(LIB_PATH)


@pytest.fixture(scope="session")
def jvs_bin():
    path = os.environ.get("JVS_BIN") or os.path.join(os.path.dirname(os.path.dirname(HERE)), "build", "jvs")
    if not os.access(path, os.X_OK):
        pytest.skip(f"jvs CLI not built at {path}")
    return path


@pytest.fixture(scope="session")
def ref():
    spec = importlib.util.spec_from_file_location("jvs_oracle", REF_PY)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(autouse=True)
def _no_engine_override(monkeypatch):
    """Tests start with auto-detection; a test that wants an override sets JVS_ENGINE itself."""
    monkeypatch.delenv("JVS_ENGINE", raising=False)
