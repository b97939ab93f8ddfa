"""pytest setup for the mlflow-jvs plugin tests: real MLflow, a real server, a real browser.

``python3 -m pytest tests/mlflow`` runs in two stages, so that MLflow finds the plugin the way
it would for a user - through the entry points of an installed distribution:

1. Outside the test virtualenv (this hook, ``pytest_cmdline_main``): create a virtualenv with
   ``--system-site-packages`` (MLflow and numpy come from the system interpreter, as
   scripts/install-deps.sh installs them), build the plugin's wheel and ``pip install`` it and
   the SDK into it, then run this same pytest command with the virtualenv's interpreter and
   return its exit status. The virtualenv is removed afterwards.
2. Inside it: the tests run, in one interpreter (a cold ``import mlflow`` costs 7-12 s).

How the ``jvs`` SDK gets into the virtualenv (``MLFLOW_JVS_TEST_SDK``):

- ``source`` (default): the SDK package straight from ``python-cffi/src`` (a ``.pth`` file) with
  the library this checkout built, ``build/libjvs.so.1``, through ``JVS_LIBRARY`` - exactly
  how tests/python runs the SDK. ``pip install ./python-cffi`` would compile libjvs again inside
  meson-python (minutes; tests/python/test_wheel.py covers that path); its build backend has no
  way to reuse an existing library. The plugin is installed with ``--no-deps``: pip cannot see
  the ``jvs`` distribution, and MLflow is already there.
- ``wheel``: ``pip install $JVS_TEST_WHEEL ./integrations/mlflow`` (an SDK wheel built before,
  e.g. ``pip wheel ./python-cffi -w dist``; also used by tests/python/test_wheel.py):
  dependencies resolved by pip, nothing compiled. Chosen automatically when JVS_TEST_WHEEL is set.
- ``build``: ``pip install ./python-cffi ./integrations/mlflow``, the README's install, compiling
  libjvs (a few minutes).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PLUGIN = ROOT / "integrations" / "mlflow"
VENV_ENV = "MLFLOW_JVS_TEST_VENV"  # set for the inner run: the virtualenv's directory
WHEEL_ENV = "MLFLOW_JVS_TEST_PLUGIN_WHEEL"  # the plugin wheel the inner run was installed from


def in_test_venv() -> bool:
    venv = os.environ.get(VENV_ENV)
    return bool(venv) and Path(sys.prefix).resolve() == Path(venv).resolve()


# ---- stage 1: build the virtualenv and re-run pytest inside it -------------------------------

def _only_this_suite(config: pytest.Config) -> bool:
    paths = [Path(str(config.invocation_params.dir), a.split("::")[0]).resolve() for a in config.args]
    return bool(paths) and all(p == HERE or HERE in p.parents for p in paths)


def _pip(venv_py: Path, *args: str) -> None:
    cmd = [sys.executable, "-m", "pip", "--python", str(venv_py), "--disable-pip-version-check",
           "--no-input", "-q", *args]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=3600)
    if r.returncode != 0:
        raise RuntimeError("%s failed:\n%s" % (" ".join(cmd), r.stdout[-6000:]))


def _prepare_venv(tmp: Path) -> Dict[str, str]:
    """Create and fill the virtualenv; returns the environment for the inner run."""
    env = dict(os.environ)
    mode = os.environ.get("MLFLOW_JVS_TEST_SDK") or ("wheel" if os.environ.get("JVS_TEST_WHEEL") else "source")
    venv = tmp / "venv"
    t0 = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(venv)], check=True)
    py = venv / "bin" / "python"
    # Build from a copy: setuptools writes build/ and *.egg-info next to the sources.
    src = tmp / "mlflow-jvs-src"
    shutil.copytree(PLUGIN, src, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    _pip(py, "wheel", "--no-deps", "-w", str(tmp / "dist"), str(src))
    wheel = next((tmp / "dist").glob("mlflow_jvs-*.whl"))
    if mode == "source":
        lib = Path(os.environ.get("JVS_LIBRARY") or ROOT / "build" / "libjvs.so.1")
        if not lib.exists():
            raise RuntimeError("%s is missing: build the library first (bash scripts/build.sh) or set "
                               "MLFLOW_JVS_TEST_SDK=build" % lib)
        site = Path(subprocess.check_output([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                            text=True).strip())
        (site / "jvs-source-tree.pth").write_text(str(ROOT / "python-cffi" / "src") + "\n")
        env["JVS_LIBRARY"] = str(lib)
        _pip(py, "install", "--no-deps", str(wheel))
    elif mode == "wheel":
        _pip(py, "install", os.environ["JVS_TEST_WHEEL"], str(wheel))
        env.pop("JVS_LIBRARY", None)  # the wheel's bundled library
    elif mode == "build":
        _pip(py, "install", str(ROOT / "python-cffi"), str(wheel))
        env.pop("JVS_LIBRARY", None)
    else:
        raise RuntimeError("MLFLOW_JVS_TEST_SDK must be source, wheel or build, not %r" % mode)
    print("mlflow-jvs tests: virtualenv %s ready in %.0f s (SDK: %s)" % (venv, time.monotonic() - t0, mode),
          flush=True)
    env[VENV_ENV] = str(venv)
    env[WHEEL_ENV] = str(wheel)
    env["MLFLOW_JVS_TEST_SDK"] = mode
    return env


def pytest_cmdline_main(config: pytest.Config) -> Optional[int]:
    if in_test_venv() or not _only_this_suite(config):
        return None
    tmp = Path(tempfile.mkdtemp(prefix="mlflow-jvs-venv-"))
    try:
        env = _prepare_venv(tmp)
        r = subprocess.run([str(tmp / "venv" / "bin" / "python"), "-m", "pytest", *config.invocation_params.args],
                           env=env, cwd=str(config.invocation_params.dir))
        return r.returncode
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if not in_test_venv():
    # Collected together with other suites (`pytest tests/python tests/mlflow`): these tests
    # need the plugin installed, which only the stage above does.
    collect_ignore_glob = ["test_*.py"]

    def pytest_terminal_summary(terminalreporter: Any) -> None:
        terminalreporter.write_line("SKIPPED tests/mlflow: run it on its own (python3 -m pytest tests/mlflow): "
                                    "it installs the plugin into a virtualenv first")


# ---- stage 2: fixtures for the tests, inside the virtualenv ----------------------------------

#: What the first ``import mlflow`` of the session loaded: the plugin (through its entry points,
#: nobody imported it by hand) but not the SDK or libjvs (the provider is free outside a workspace).
IMPORTED_WITH_MLFLOW: Dict[str, bool] = {}
if in_test_venv():
    IMPORTED_WITH_MLFLOW["mlflow (before)"] = "mlflow" in sys.modules
    import mlflow  # noqa: F401

    for _m in ("mlflow_jvs", "mlflow_jvs.context", "mlflow_jvs.dataset", "mlflow_jvs.tracking", "jvs"):
        IMPORTED_WITH_MLFLOW[_m] = _m in sys.modules

@pytest.fixture(scope="session")
def tracking_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One SQLite tracking store for the session (creating one runs MLflow's migrations)."""
    import mlflow

    uri = "sqlite:///%s" % (tmp_path_factory.mktemp("tracking") / "mlflow.db")
    mlflow.set_tracking_uri(uri)
    yield uri


@pytest.fixture
def experiment(tracking_uri: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh experiment per test (artifacts in its temporary directory, not ./mlruns), and no
    run left active after it."""
    import mlflow

    exp_id: str = mlflow.create_experiment(request.node.name, artifact_location=(tmp_path / "artifacts").as_uri())
    mlflow.set_experiment(experiment_id=exp_id)
    yield exp_id
    while mlflow.active_run() is not None:
        mlflow.end_run()
    mlflow.set_tracking_uri(tracking_uri)


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Any]:
    """A jvs repository whose main worktree holds data/, code and config."""
    import jvs

    w = jvs.Workspace.init(tmp_path / "repo")
    write_files(w.path, {"data/train.csv": "x,y\n1,3\n2,5\n", "train.py": "print('train')\n",
                         "config.json": '{"lr": 0.1}\n'})
    yield w
    w.close()


@pytest.fixture(autouse=True)
def current_mlflow_api_only(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Only current MLflow 3 API: no deprecation or future warning raised where the plugin calls
    MLflow, and none of MLflow's logged deprecation notices (e.g. "`artifact_path` is deprecated")."""
    import logging
    import warnings

    caplog.set_level(logging.WARNING, logger="mlflow")
    with warnings.catch_warnings():
        for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
            warnings.filterwarnings("error", category=category, module=r"mlflow_jvs(\..*)?$")
        yield
    noted = [r.getMessage() for r in caplog.records if "deprecat" in r.getMessage().lower()]
    assert noted == []


def write_files(root: Path, files: Dict[str, str]) -> None:
    for rel, text in files.items():
        p = Path(root, rel)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _group_members(pgid: int) -> List[int]:
    """Live (not zombie) processes of a process group, from /proc."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = Path("/proc", d, "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) ": state, ppid, pgrp, ...
        if fields[0] != "Z" and int(fields[2]) == pgid:
            out.append(int(d))
    return out


def stop_group(proc: "subprocess.Popen[bytes]") -> None:
    """Stop a process and everything it started in its process group: TERM, then KILL."""
    for sig, grace in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            proc.poll()
            if not _group_members(proc.pid):
                proc.wait(timeout=10)
                return
            time.sleep(0.2)
    raise RuntimeError("process group %d still alive: %s" % (proc.pid, _group_members(proc.pid)))


class Background:
    """A command started early in its own process group, so that slow, independent work (the
    server's start, mypy, the example) overlaps with the in-process tests."""

    def __init__(self, name: str, cmd: List[str], cwd: Path, log_dir: Path,
                 env: Optional[Dict[str, str]] = None) -> None:
        self.name = name
        self.url = ""
        self.log_path = log_dir / ("%s.log" % name)
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, cwd=str(cwd),
                                     env=env, start_new_session=True)

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def wait(self, timeout: float) -> Tuple[int, str]:
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise RuntimeError("%s did not finish in %.0f s:\n%s" % (self.name, timeout, self.output()[-4000:]))
        return rc, self.output()

    def stop(self) -> None:
        if self.proc.poll() is None or _group_members(self.proc.pid):
            stop_group(self.proc)
        self._log.close()


_background: Dict[str, Background] = {}
_background_dir: List[Path] = []


def background(name: str) -> Background:
    """The background job of this session (started at collection; else now)."""
    return _background.get(name) or _start(name)


def _start(name: str) -> Background:
    if not _background_dir:
        _background_dir.append(Path(tempfile.mkdtemp(prefix="mlflow-jvs-bg-")))
    d = _background_dir[0]
    env = dict(os.environ)
    if name == "server":
        port = free_port()
        env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"  # no job-runner processes
        cmd = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
               "--workers", "1", "--backend-store-uri", "sqlite:///%s" % (d / "server.db"),
               "--artifacts-destination", str(d / "artifacts")]
        job = Background(name, cmd, d, d, env)
        job.url = "http://127.0.0.1:%d" % port
    elif name == "mypy":
        if env.get("MLFLOW_JVS_TEST_SDK") == "source":
            env["MYPYPATH"] = str(ROOT / "python-cffi" / "src")
        # mypy reads much of MLflow: keep its cache with the build (ignored by git) between runs
        cache = ROOT / "build" / "mypy-cache-mlflow" if (ROOT / "build").is_dir() else d / "mypy-cache"
        cmd = [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(cache),
               str(PLUGIN / "src" / "mlflow_jvs"), str(ROOT / "examples" / "mlflow_experiment.py"),
               str(HERE / "typed_consumer.py")]
        job = Background(name, cmd, ROOT, d, env)
    elif name == "example":
        env.pop("MLFLOW_TRACKING_URI", None)
        work = d / "example"
        work.mkdir()
        job = Background(name, [sys.executable, str(ROOT / "examples" / "mlflow_experiment.py"), str(work)],
                         work, d, env)
    else:
        raise KeyError(name)
    _background[name] = job
    return job


# Which background job a selected test needs.
_TRIGGERS = {"mlflow_server": "server", "test_mypy_strict": "mypy", "test_example_reproduces_a_run": "example"}


def _waits(item: pytest.Item) -> bool:
    return bool({item.name, *getattr(item, "fixturenames", ())} & set(_TRIGGERS))


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: List[pytest.Item]) -> None:
    """Run the tests that wait for background jobs last, so the jobs run while the others do."""
    if in_test_venv():
        items.sort(key=_waits)  # stable: file order otherwise


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the background jobs the selected tests (after -k/deselection) need."""
    if not in_test_venv():
        return
    wanted = set()
    for item in session.items:
        wanted.update(getattr(item, "fixturenames", ()))
        wanted.add(item.name)
    for trigger, name in _TRIGGERS.items():
        if trigger in wanted:
            _start(name)


def pytest_configure(config: pytest.Config) -> None:
    # MLflow's own SQLAlchemy store triggers this; nothing the plugin calls or can change.
    config.addinivalue_line("filterwarnings", "ignore:The ``noload`` loader strategy is deprecated")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for job in _background.values():
        job.stop()
    for d in _background_dir:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def mlflow_server() -> str:
    """``mlflow server`` on a free loopback port (SQLite store, served artifacts): its URL, once
    it answers /health (about 30 s after start). Stopped with its workers after the session."""
    job = background("server")
    deadline = time.monotonic() + 240
    while True:
        if job.proc.poll() is not None:
            raise RuntimeError("mlflow server exited (%s):\n%s" % (job.proc.returncode, job.output()[-4000:]))
        try:
            with urllib.request.urlopen(job.url + "/health", timeout=2) as r:
                if r.status == 200:
                    return job.url
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("mlflow server did not answer /health:\n%s" % job.output()[-4000:])
        time.sleep(0.5)


def chromium() -> Optional[str]:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def chromium_args(profile: Path) -> List[str]:
    """Headless Chromium as root in a container: no sandbox, no network chatter, a fresh profile."""
    return ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", "--user-data-dir=%s" % profile]
