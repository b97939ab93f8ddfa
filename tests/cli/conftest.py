"""Shared fixtures for the black-box tests of the `jvs` executable.

The binary comes from $JVS_BIN (default /work/main/build/jvs); every test is skipped, with the
reason printed, when it is missing.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest

from cli_helpers import base_env, tree_state

JVS_BIN = os.environ.get("JVS_BIN", "/work/main/build/jvs")
SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "SCHEMA_v1.json"


def _schema_validator():
    """Validates every --json document against docs/SCHEMA_v1.json (when jsonschema is installed)."""
    try:
        import jsonschema
    except ImportError:
        return None
    if not SCHEMA.is_file():
        return None
    schema = json.loads(SCHEMA.read_text())
    return jsonschema.Draft202012Validator(schema)


VALIDATOR = _schema_validator()



def pytest_report_header(config):
    state = "found" if os.access(JVS_BIN, os.X_OK) else "MISSING: the CLI tests will be skipped"
    schema = "validated against " + str(SCHEMA) if VALIDATOR else "not schema-validated (no jsonschema or schema file)"
    return f"jvs binary: {JVS_BIN} ({state}); JSON output {schema}"


@pytest.fixture(scope="session")
def jvs_bin():
    if not os.access(JVS_BIN, os.X_OK):
        pytest.skip(f"jvs binary not found at {JVS_BIN} (set JVS_BIN to the built executable)")
    return JVS_BIN


class Jvs:
    """Runs the binary. `run` returns the CompletedProcess; `json` adds --json and parses stdout."""

    def __init__(self, binary, cwd):
        self.binary = binary
        self.cwd = Path(cwd)

    def run(self, *args, cwd=None, input=None, env=None, timeout=120):
        cwd = Path(cwd) if cwd is not None else self.cwd
        return subprocess.run(
            [self.binary, *map(str, args)],
            cwd=cwd,
            input=input,
            stdin=subprocess.DEVNULL if input is None else None,
            capture_output=True,
            text=True,
            env=env or base_env(),
            timeout=timeout,
        )

    def ok(self, *args, **kw):
        p = self.run(*args, **kw)
        assert p.returncode == 0, f"jvs {' '.join(map(str, args))} -> {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}"
        return p

    def json(self, *args, expect=0, **kw):
        """Runs `jvs --json args`, checks the exit code and returns the parsed document."""
        p = self.run("--json", *args, **kw)
        assert p.returncode == expect, f"jvs --json {' '.join(map(str, args))} -> {p.returncode} (want {expect})\nstdout: {p.stdout}\nstderr: {p.stderr}"
        assert p.stdout.endswith("\n"), "JSON output must end with a newline"
        doc = json.loads(p.stdout)
        assert isinstance(doc, dict) and doc.get("schema") == 1 and isinstance(doc.get("kind"), str), doc
        if VALIDATOR is not None:
            errors = sorted(VALIDATOR.iter_errors(doc), key=lambda e: list(e.path))
            assert not errors, f"document does not match docs/SCHEMA_v1.json: {errors[0].message} at {list(errors[0].path)}"
        return doc

    def error(self, *args, code, exit, **kw):
        """Runs a failing command in --json mode and checks the error code and exit status."""
        doc = self.json(*args, expect=exit, **kw)
        assert doc["kind"] == "error", doc
        assert doc["error"]["code"] == code, doc
        return doc


@pytest.fixture
def jvs(jvs_bin, tmp_path):
    return Jvs(jvs_bin, tmp_path)


class Repo:
    def __init__(self, jvs, root):
        self.jvs = jvs
        self.root = Path(root)
        self.main = self.root / "main"

    def wt(self, name):
        return self.main if name == "main" else self.root / "worktrees" / name

    def snapshot(self, note=None, *args, cwd=None):
        extra = [note] if note is not None else []
        doc = self.jvs.json("snapshot", *extra, *args, cwd=cwd or self.main)
        return doc["snapshot"]["snapshot_id"]


@pytest.fixture
def repo(jvs, tmp_path):
    """A fresh repository at <tmp>/repo; commands run in its main worktree by default."""
    jvs.ok("init", "repo", cwd=tmp_path)
    r = Repo(jvs, tmp_path / "repo")
    jvs.cwd = r.main
    return r


@pytest.fixture
def unchanged(repo):
    """Context manager asserting that the repository tree is byte-for-byte the same afterwards."""

    class _Unchanged:
        def __enter__(self):
            self.before = tree_state(repo.root)
            return self

        def __exit__(self, *exc):
            if exc[0] is None:
                after = tree_state(repo.root)
                added = sorted(set(after) - set(self.before))
                removed = sorted(set(self.before) - set(after))
                changed = sorted(k for k in after if k in self.before and after[k] != self.before[k])
                assert after == self.before, f"repository changed: added={added} removed={removed} changed={changed}"
            return False

    return _Unchanged
