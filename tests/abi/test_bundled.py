"""The self-contained libjvs (bundled/meson.build, build/bundled/libjvs.so.1) for engine plugins.

- its only dynamic dependencies are libc, libm and the dynamic loader (ld-linux: the thread-local
  storage and unwinder entry points of glibc live there). On a glibc older than 2.34, libpthread,
  libdl and librt are separate libraries and may appear too; this machine's glibc has them merged;
- libcrypto, utf8proc, yaml-cpp, libstdc++ and libgcc are inside: no GLIBCXX/CXXABI/GCC symbol
  version is needed, and none of their symbols is exported;
- it exports exactly tests/abi/exported_symbols.txt (the same ABI as build/libjvs.so.1), SONAME
  libjvs.so.1, no text relocations;
- it works: a child Python loads it by path with ctypes and takes a snapshot (hashing through the
  linked-in libcrypto, reading .jvs/config.yaml through the linked-in yaml-cpp) without mapping any
  of the shared libraries it replaces.
Its size is printed (pytest -s), stripped and not.

The library is $JVS_BUNDLED_LIB (default: build/bundled/libjvs.so.1 of this checkout); the tests
are skipped, with the reason printed, when it was not built (meson -Dbundle_deps=disabled, or the
static archives / the yaml-cpp source that scripts/install-deps.sh fetches are missing).
Run: pytest -q tests/abi/test_bundled.py
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from test_symbols import ROOT, dynamic_symbols, expected_symbols, need_tool

LIB = Path(os.environ.get("JVS_BUNDLED_LIB", ROOT / "build" / "bundled" / "libjvs.so.1"))
# glibc >= 2.34 has libpthread, libdl and librt merged into libc.so.6.
ALLOWED_NEEDED = {"libc.so.6", "libm.so.6", "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1"}
OLD_GLIBC_SPLIT = {"libpthread.so.0", "libdl.so.2", "librt.so.1"}


def need_bundled():
    if not LIB.exists():
        msg = f"self-contained library not built: {LIB} does not exist (meson -Dbundle_deps=enabled)"
        print("SKIP:", msg)
        pytest.skip(msg)
    return LIB


def readelf(*args):
    return subprocess.run([need_tool("readelf"), *args, str(need_bundled())], check=True, capture_output=True,
                          text=True).stdout


def glibc_version():
    import platform
    lib, ver = platform.libc_ver()
    return tuple(int(x) for x in ver.split(".")[:2]) if lib == "glibc" and ver else (0, 0)


def test_only_libc_libm_and_the_loader_are_needed():
    needed = set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", readelf("-d")))
    allowed = ALLOWED_NEEDED | (OLD_GLIBC_SPLIT if glibc_version() < (2, 34) else set())
    assert "libc.so.6" in needed, needed
    assert needed <= allowed, f"unexpected dynamic dependencies: {sorted(needed - allowed)}"


def test_no_cxx_runtime_version_is_needed():
    versions = set(re.findall(r"Name: (\S+)", readelf("-V", "--wide").partition("Version needs")[2]))
    assert versions, "no version needs found"
    foreign = sorted(v for v in versions if not v.startswith("GLIBC_"))
    assert not foreign, f"needs versions of another library (libstdc++/libgcc not linked in?): {foreign}"
    newest = max(tuple(int(p) for p in v[len("GLIBC_"):].split(".")) for v in versions)
    print(f"\nself-contained libjvs needs glibc >= {'.'.join(map(str, newest))}")


def test_soname_and_no_text_relocations():
    dyn = readelf("-d")
    assert re.findall(r"Library soname: \[([^\]]+)\]", dyn) == ["libjvs.so.1"]
    assert "TEXTREL" not in dyn


def test_exports_exactly_the_abi():
    syms = dynamic_symbols(need_bundled())
    code = sorted(n for n, t, _ in syms if t != "A")
    assert code == expected_symbols(), (
        f"unexpected: {sorted(set(code) - set(expected_symbols()))}, "
        f"missing: {sorted(set(expected_symbols()) - set(code))}")
    assert {n for n, t, _ in syms if t == "A"} == {"JVS_1.0"}


def test_bundled_libraries_stay_hidden():
    """Nothing of OpenSSL, utf8proc, yaml-cpp or libstdc++ is visible to the host process, so a
    Unity or Unreal process with its own copies cannot interpose on them (or they on it)."""
    nm = need_tool("nm")
    out = subprocess.run([nm, "-D", str(need_bundled())], check=True, capture_output=True, text=True).stdout
    defined = [ln.split()[-1] for ln in out.splitlines() if len(ln.split()) == 3 and ln.split()[1] not in "UwvA"]
    leaked = [n for n in defined if re.match(r"(EVP_|OPENSSL_|CRYPTO_|utf8proc_|_Z)", n)]
    assert not leaked, leaked[:20]


def test_size_is_reported():
    lib = need_bundled().resolve()
    size = lib.stat().st_size
    strip = shutil.which("strip")
    stripped = None
    if strip:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "libjvs.so"
            subprocess.run([strip, "-o", str(out), str(lib)], check=True)
            stripped = out.stat().st_size
    print(f"\nself-contained libjvs: {size / 1e6:.1f} MB" +
          (f", {stripped / 1e6:.1f} MB stripped" if stripped else ""))
    assert 1_000_000 < size < 40_000_000


CHILD = r"""
import ctypes, json, os, sys
lib = ctypes.CDLL(sys.argv[1])
P, OUT = ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)
lib.jvs_abi_version.restype = ctypes.c_uint32
lib.jvs_free.argtypes = [P]
lib.jvs_repo_init.argtypes = [ctypes.c_char_p, ctypes.c_char_p, OUT, OUT]
lib.jvs_snapshot.argtypes = [P, ctypes.c_char_p, P, P, OUT]
lib.jvs_repo_close.argtypes = [P]
assert lib.jvs_abi_version() == 1
repo, out = P(), P()
def take(st):
    doc = json.loads(ctypes.string_at(out.value)); lib.jvs_free(out)
    assert st == 0, doc
    return doc
root = os.path.join(sys.argv[2], "r")
take(lib.jvs_repo_init(root.encode(), None, ctypes.byref(repo), ctypes.byref(out)))
with open(os.path.join(root, ".jvs", "config.yaml"), "w") as f:  # read through the linked-in yaml-cpp
    f.write("default_tags: [nightly]\n")
with open(os.path.join(root, "main", "f.txt"), "w") as f:
    f.write("x")
doc = take(lib.jvs_snapshot(repo, json.dumps({"note": "bundled"}).encode(), None, None, ctypes.byref(out)))
assert doc["snapshot"]["tags"] == ["nightly"], doc
lib.jvs_repo_close(repo)
maps = open("/proc/self/maps").read()
print(doc["snapshot"]["snapshot_id"])
print("shared-deps-mapped:", any(n in maps for n in ("libyaml-cpp", "libutf8proc", "libcrypto", "libstdc++")))
"""


def test_it_works_when_loaded_alone():
    lib = need_bundled().resolve()
    with tempfile.TemporaryDirectory() as tmp:
        res = subprocess.run([sys.executable, "-c", CHILD, str(lib), tmp], capture_output=True, text=True,
                             timeout=60)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.split("\n")
    assert re.fullmatch(r"\d{13}-[0-9a-f]{8}", lines[0])
    assert lines[1] == "shared-deps-mapped: False", res.stdout
