"""pytest setup for the agent integrations: the real LangChain, AutoGen and MCP SDK, offline.

As in tests/python: the SDK is imported from python-cffi/src (or the installed package with
JVS_TEST_INSTALLED=1) and the library from $JVS_LIBRARY (default: this checkout's build/).
The frameworks come from scripts/install-deps.sh; a missing one skips its tests with the reason.
No model is called: the agents are driven by scripted chat models (see agents_fakes.py).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Dict, Iterator

import pytest

sys.path.append(str(Path(__file__).resolve().parents[1]))  # tests/: the shared bootstrap
from sdk_bootstrap import ROOT, SRC  # noqa: E402  (puts the SDK and the library in place)

import jvs  # noqa: E402


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[jvs.Workspace]:
    """A fresh repository's main worktree holding one file, with a first snapshot."""
    w = jvs.Workspace.init(tmp_path / "repo")
    (w.path / "README.md").write_text("project\n")
    w.snapshot("initial")
    yield w
    w.close()


def files(root: Path) -> Dict[str, str]:
    """{relative path: text} of every file under root."""
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


def notes(w: jvs.Workspace) -> list:
    """The worktree's snapshot notes, oldest first."""
    return [s.note for s in reversed(w.history())]


def subprocess_env(**extra: str) -> Dict[str, str]:
    """Environment for child Pythons: same library, same package source."""
    env = dict(os.environ)
    if os.environ.get("JVS_TEST_INSTALLED") != "1":
        env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env
