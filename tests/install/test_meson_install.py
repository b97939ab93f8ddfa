"""`meson install` as the README documents it, staged with --destdir into a temporary directory.

From the existing build (build/, or the directory of $JVS_BIN): the installed files are exactly the
CLI, libjvs.so.1 (with its links), jvs.h, jvs.hpp and jvs.pc; a C program compiles and links against
the staged install through the pkg-config file; the installed `jvs --version` runs. Nothing is
rebuilt (--no-rebuild): seconds.

    python3 -m pytest -q tests/install
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ["JVS_BIN"]).resolve().parent if os.environ.get("JVS_BIN") else ROOT / "build"

C_PROGRAM = r"""
#include <jvs.h>
#include <stdio.h>
#include <string.h>

int main(void) {
    char *doc = NULL;
    if (jvs_build_info(&doc) != JVS_OK || doc == NULL || strstr(doc, "\"abi_version\"") == NULL) return 1;
    jvs_free(doc);
    printf("libjvs %s abi %u\n", jvs_version_string(), (unsigned)jvs_abi_version());
    return 0;
}
"""


def _run(cmd: list, **kw) -> subprocess.CompletedProcess:
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300, **kw)
    assert r.returncode == 0, "%s\n%s" % (cmd, r.stdout[-4000:])
    return r


def _build_option(name: str) -> str:
    r = _run(["meson", "introspect", str(BUILD), "--buildoptions"])
    return next(o["value"] for o in json.loads(r.stdout) if o["name"] == name)


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (BUILD / "build.ninja").exists() or not (BUILD / "jvs").exists():
        pytest.skip("no build with the CLI at %s (run scripts/build.sh)" % BUILD)
    for tool in ("meson", "pkg-config", "cc"):
        if not shutil.which(tool):
            pytest.skip("%s is not installed (scripts/install-deps.sh installs it)" % tool)
    dest = tmp_path_factory.mktemp("destdir")
    _run(["meson", "install", "-C", str(BUILD), "--no-rebuild", "--quiet", "--destdir", str(dest)])
    return dest


def test_installs_exactly_the_documented_files(staged: Path) -> None:
    prefix = _build_option("prefix").lstrip("/")
    libdir = _build_option("libdir")
    got = sorted(str(p.relative_to(staged / prefix)) for p in (staged / prefix).rglob("*")
                 if not p.is_dir())
    assert got == sorted([
        "bin/jvs",
        "include/jvs.h",
        "include/jvs.hpp",
        libdir + "/libjvs.so",
        libdir + "/libjvs.so.1",
        libdir + "/libjvs.so.1.0.0",
        libdir + "/pkgconfig/jvs.pc",
    ]), got
    lib = staged / prefix / libdir
    assert os.readlink(lib / "libjvs.so.1") == "libjvs.so.1.0.0"
    assert os.readlink(lib / "libjvs.so") == "libjvs.so.1"
    # The installed CLI finds the installed library without LD_LIBRARY_PATH once it is in place.
    dyn = _run(["readelf", "-d", str(staged / prefix / "bin/jvs")]).stdout
    assert "/" + prefix + "/" + libdir in dyn and "libjvs.so.1" in dyn, dyn


def test_pkg_config_compiles_a_c_program(staged: Path, tmp_path: Path) -> None:
    prefix = _build_option("prefix")
    libdir = _build_option("libdir")
    pcdir = staged / prefix.lstrip("/") / libdir / "pkgconfig"
    env = dict(os.environ, PKG_CONFIG_PATH=str(pcdir), PKG_CONFIG_SYSROOT_DIR="")
    # The .pc file names the real prefix: point it at the staging copy.
    flags = _run(["pkg-config", "--define-variable=prefix=" + str(staged) + prefix, "--cflags", "--libs", "jvs"],
                 env=env).stdout.split()
    assert any(f.startswith("-I" + str(staged)) for f in flags) and "-ljvs" in flags, flags
    src = tmp_path / "demo.c"
    src.write_text(C_PROGRAM)
    exe = tmp_path / "demo"
    _run(["cc", "-std=c99", "-Wall", "-Werror", str(src), "-o", str(exe)] + flags)
    r = _run([str(exe)], env=dict(os.environ, LD_LIBRARY_PATH=str(staged / prefix.lstrip("/") / libdir)))
    assert r.stdout.startswith("libjvs 1.0.0 abi 1"), r.stdout


def test_installed_cli_runs(staged: Path) -> None:
    prefix = _build_option("prefix").lstrip("/")
    libdir = _build_option("libdir")
    # Its RUNPATH names the real prefix, where nothing is installed on this machine: point the
    # loader at the staged library (and make sure it is the one loaded).
    env = dict(os.environ, LD_LIBRARY_PATH=str(staged / prefix / libdir))
    r = _run([str(staged / prefix / "bin/jvs"), "--version"], env=env)
    assert "1.0.0" in r.stdout, r.stdout
    ldd = _run(["ldd", str(staged / prefix / "bin/jvs")], env=env).stdout
    assert str(staged / prefix / libdir / "libjvs.so.1") in ldd, ldd
