"""ABI surface checks for libjvs.so.1.

- the dynamic symbol table of the built library equals tests/abi/exported_symbols.txt exactly
  (no C++ or helper symbol escapes; nothing declared is missing);
- the SONAME is libjvs.so.1;
- include/jvs.h compiles as strict C99 and as C++17, and every function it declares is listed.

The library is taken from $JVS_LIB (default /work/main/build/libjvs.so). Tests that need it are
skipped, with the reason printed, when it does not exist. Run: pytest -q tests/abi
"""
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
HEADER = ROOT / "include" / "jvs.h"
SYMBOLS_FILE = HERE / "exported_symbols.txt"
LIB = Path(os.environ.get("JVS_LIB", "/work/main/build/libjvs.so"))

# JVS_API <return type> JVS_CALL <name>(
DECL_RE = re.compile(r"JVS_API\s+[\w\s\*]+?\bJVS_CALL\s+(jvs_\w+)\s*\(")


def expected_symbols():
    names = [line.strip() for line in SYMBOLS_FILE.read_text().splitlines() if line.strip()]
    return names


def header_functions():
    text = HEADER.read_text()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)  # comments may mention jvs_ names
    return sorted(set(DECL_RE.findall(text)))


def need_lib():
    if not LIB.exists():
        msg = f"library not built: {LIB} does not exist (set JVS_LIB)"
        print("SKIP:", msg)
        pytest.skip(msg)
    return LIB


def need_tool(name):
    path = shutil.which(name)
    if not path:
        msg = f"{name} not found on PATH"
        print("SKIP:", msg)
        pytest.skip(msg)
    return path


def dynamic_symbols(lib):
    """(name, type, version) of every defined dynamic symbol."""
    nm = need_tool("nm")
    out = subprocess.run([nm, "-D", "--defined-only", str(lib)], check=True, capture_output=True, text=True).stdout
    syms = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        typ, name = parts[-2], parts[-1]
        version = ""
        if "@" in name:
            name, _, version = name.partition("@")
            version = version.lstrip("@")
        syms.append((name, typ, version))
    return syms


# ---- the committed list ------------------------------------------------------------------

def test_symbol_list_is_sorted_and_unique():
    names = expected_symbols()
    assert names == sorted(set(names)), "exported_symbols.txt must be sorted and without duplicates"
    assert all(re.fullmatch(r"jvs_[a-z0-9_]+", n) for n in names)


def test_every_header_function_is_listed():
    declared = header_functions()
    assert len(declared) >= 23, f"header parse found only {declared}"
    listed = expected_symbols()
    missing = sorted(set(declared) - set(listed))
    extra = sorted(set(listed) - set(declared))
    assert not missing, f"declared in jvs.h but not in exported_symbols.txt: {missing}"
    assert not extra, f"listed in exported_symbols.txt but not declared in jvs.h: {extra}"


def test_version_script_matches_list():
    jvs_map = ROOT / "lib" / "abi" / "jvs.map"
    if not jvs_map.exists():
        pytest.skip("lib/abi/jvs.map not present")
    text = re.sub(r"/\*.*?\*/", " ", jvs_map.read_text(), flags=re.S)
    in_map = sorted(set(re.findall(r"\b(jvs_\w+)\s*;", text)))
    assert in_map == expected_symbols()


# ---- the built library -------------------------------------------------------------------

def test_exported_symbols_match_exactly():
    lib = need_lib()
    syms = dynamic_symbols(lib)
    # The version-script node (e.g. "JVS_1.0", type A) is an absolute marker, not code.
    nodes = {n for n, t, _ in syms if t == "A"}
    code = sorted(n for n, t, _ in syms if t != "A")
    assert code == expected_symbols(), (
        "defined dynamic symbols differ from tests/abi/exported_symbols.txt\n"
        f"  unexpected: {sorted(set(code) - set(expected_symbols()))}\n"
        f"  missing:    {sorted(set(expected_symbols()) - set(code))}")
    assert all(t in ("T", "W", "i") for n, t, _ in syms if n in expected_symbols()), syms
    escaped = [n for n, t, _ in syms if n.startswith("_Z") or n.startswith("std")]
    assert not escaped, f"C++ symbols escape: {escaped[:20]}"
    for n in nodes:
        assert re.fullmatch(r"JVS_\d+\.\d+", n), f"unexpected absolute symbol {n}"


def test_symbols_carry_the_release_version_node():
    lib = need_lib()
    versions = {n: v for n, t, v in dynamic_symbols(lib) if t != "A"}
    if not any(versions.values()):
        readelf = need_tool("readelf")
        out = subprocess.run([readelf, "--dyn-syms", "-W", str(lib)], check=True, capture_output=True,
                             text=True).stdout
        versions = {}
        for line in out.splitlines():
            m = re.search(r"\b(jvs_\w+)@@?(\S+)", line)
            if m:
                versions[m.group(1)] = m.group(2)
    for name in expected_symbols():
        assert re.fullmatch(r"JVS_1\.\d+", versions.get(name, "")), f"{name} has version {versions.get(name)!r}"


def test_soname_is_libjvs_so_1():
    lib = need_lib()
    readelf = need_tool("readelf")
    out = subprocess.run([readelf, "-d", str(lib)], check=True, capture_output=True, text=True).stdout
    sonames = re.findall(r"\(SONAME\)\s+Library soname: \[([^\]]+)\]", out)
    assert sonames == ["libjvs.so.1"], out


def test_no_cxx_objects_exported():
    """The library may *use* libstdc++, but must not export weak/unique C++ objects (typeinfo,
    inline template statics) that would interpose with a host's own copy."""
    lib = need_lib()
    unique = [n for n, t, _ in dynamic_symbols(lib) if t in ("u", "V", "v") or n.startswith("_ZT")]
    assert not unique, unique


# ---- the header --------------------------------------------------------------------------

def _compile(cmd, source, suffix):
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / ("t" + suffix)
        src.write_text(source)
        res = subprocess.run(cmd + [str(src)], capture_output=True, text=True)
        assert res.returncode == 0, f"{' '.join(cmd)} failed:\n{res.stderr}"


SOURCE = """#include "jvs.h"
#include "jvs.h" /* include guard */
typedef jvs_status (*op_fn)(jvs_repo *, const char *, char **);
static op_fn ops[] = {jvs_info, jvs_history, jvs_resolve, jvs_worktree_list, jvs_worktree_path,
                      jvs_worktree_rename, jvs_worktree_remove};
int main(void) { return (int)(sizeof ops / sizeof ops[0]) - 7 + (JVS_ABI_VERSION - 1); }
"""


def test_header_compiles_as_strict_c99():
    cc = need_tool("cc")
    _compile([cc, "-std=c99", "-Wpedantic", "-Werror", "-Wall", "-Wextra", "-Wstrict-prototypes",
              "-fsyntax-only", "-I", str(HEADER.parent)], SOURCE, ".c")


def test_header_alone_compiles_as_c99():
    cc = need_tool("cc")
    res = subprocess.run([cc, "-std=c99", "-Wpedantic", "-Werror", "-fsyntax-only", "-x", "c", str(HEADER)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


def test_header_compiles_as_cxx17():
    cxx = need_tool("c++")
    _compile([cxx, "-std=c++17", "-Wpedantic", "-Werror", "-Wall", "-Wextra", "-fsyntax-only",
              "-I", str(HEADER.parent)], SOURCE.replace("(void)", "()"), ".cpp")
    res = subprocess.run([cxx, "-std=c++17", "-fsyntax-only", "-x", "c++", str(HEADER)], capture_output=True,
                         text=True)
    assert res.returncode == 0, res.stderr


def test_cdef_preprocessing_is_clean():
    """cc -E -P -DJVS_CDEF gives a cffi-parsable cdef: no includes, attributes or extern "C"."""
    cc = need_tool("cc")
    out = subprocess.run([cc, "-E", "-P", "-DJVS_CDEF", "-x", "c", str(HEADER)], check=True, capture_output=True,
                         text=True).stdout
    assert "__attribute__" not in out and "extern" not in out and "__declspec" not in out
    declared = set(re.findall(r"\b(jvs_\w+)\s*\(", out))
    assert set(expected_symbols()) <= declared, sorted(set(expected_symbols()) - declared)
