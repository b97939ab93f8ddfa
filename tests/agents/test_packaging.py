"""The adapters as packaged: optional extras, no framework import from `import jvs`, a clear error
without the framework, every module in the wheel, mypy --strict clean with the examples."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import ROOT, SRC, subprocess_env

ADAPTERS = {  # module -> (frameworks it imports, extra)
    "jvs.integrations.langchain": (["langchain", "langchain_core", "langgraph"], "langchain"),
    "jvs.integrations.autogen": (["autogen_agentchat", "autogen_core"], "autogen"),
    "jvs.integrations.mcp": (["mcp"], "mcp"),
}
FRAMEWORKS = sorted({f for fws, _ in ADAPTERS.values() for f in fws} | {"autogen_ext", "pydantic"})


def python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, env=subprocess_env(), timeout=120)


def test_importing_jvs_imports_no_framework() -> None:
    r = python("import sys, jvs, jvs.integrations; print(sorted(m for m in %r if m in sys.modules))"
               % (FRAMEWORKS,))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


@pytest.mark.parametrize("module", sorted(ADAPTERS))
def test_adapter_without_its_framework_names_the_extra(module: str) -> None:
    frameworks, extra = ADAPTERS[module]
    # A None entry in sys.modules makes `import X` fail as if X were not installed.
    block = "".join("sys.modules[%r] = None; " % f for f in frameworks)
    r = python("import sys; %s\ntry:\n    import %s\nexcept ImportError as e:\n    print(e)\n" % (block, module))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == '%s needs %s: install the "%s" extra of the jvs SDK (pip install "./python-cffi[%s]" ' \
        'from a checkout)' % (module, {"langchain": "LangChain 1.x", "autogen": "AutoGen 0.7 (autogen-agentchat)",
                                       "mcp": "the MCP Python SDK 2.x"}[extra], extra, extra)


def test_console_script_entry_point(tmp_path: Path) -> None:
    # without the mcp SDK: one line naming the extra, exit status 2, no traceback
    r = python("import sys; sys.modules['mcp'] = None\nfrom jvs.integrations import mcp_main\n"
               "sys.exit(mcp_main([%r]))" % str(tmp_path))
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.startswith('jvs-mcp: jvs.integrations.mcp needs the MCP Python SDK 2.x: install the "mcp" extra')
    # with it: the server's own start-up check (not a workspace)
    r = python("import sys\nfrom jvs.integrations import mcp_main\nsys.exit(mcp_main([%r]))" % str(tmp_path))
    assert r.returncode == 2 and "E_NOT_REPO" in r.stderr, r.stderr


def test_extras_console_script_and_wheel_contents() -> None:
    project = tomllib.loads((ROOT / "python-cffi" / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    assert extras["langchain"] == ["langchain>=1"]
    assert "autogen-agentchat>=0.7" in extras["autogen"] and extras["mcp"] == ["mcp>=2"]
    assert set(extras["agents"]) == set(extras["langchain"] + extras["autogen"] + extras["mcp"])
    assert project["scripts"]["jvs-mcp"] == "jvs.integrations:mcp_main"
    # meson-python installs only the files meson.build lists: each adapter module must be there
    listed = (ROOT / "python-cffi" / "meson.build").read_text()
    for f in sorted((SRC / "jvs" / "integrations").glob("*.py")):
        assert "'src/jvs/integrations/%s'" % f.name in listed, f.name


def test_mypy_strict_on_the_adapters_and_examples() -> None:
    pytest.importorskip("mypy", reason="mypy is not installed (scripts/install-deps.sh)")
    targets = [SRC / "jvs" / "integrations", ROOT / "examples" / "langchain_jvs.py",
               ROOT / "examples" / "autogen_jvs.py", ROOT / "examples" / "parallel_agents.py"]
    r = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", *map(str, targets)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       env={"MYPYPATH": str(SRC), "PATH": "/usr/bin:/bin"}, cwd=str(ROOT), timeout=600)
    assert r.returncode == 0, r.stdout
    assert "Success" in r.stdout
