"""The cffi declarations match include/jvs.h and the library; the loader's order and checks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, subprocess_env

import jvs
from jvs import _cdefgen, _ffi

HEADER = ROOT / "include" / "jvs.h"


def test_cdef_matches_header() -> None:
    """Fails when include/jvs.h changed and the package's declarations were not regenerated."""
    fresh = _cdefgen.make_cdef(str(HEADER))
    assert _ffi.CDEF == fresh, "the cffi declarations drifted from include/jvs.h: rebuild the package"
    assert _ffi.HEADER_SHA256 == _cdefgen.header_sha256(str(HEADER))


def test_generated_module_matches_header(tmp_path: Path) -> None:
    """The build step (tools/gen_cffi.py) produces a module whose declarations equal the header's."""
    gen = ROOT / "python-cffi" / "tools" / "gen_cffi.py"
    subprocess.run([sys.executable, str(gen), "--header", str(HEADER), "--outdir", str(tmp_path)],
                   check=True, stdout=subprocess.DEVNULL)
    ns: dict = {}
    exec(compile((tmp_path / "_jvs_cdef.py").read_text(), "_jvs_cdef.py", "exec"), ns)
    assert ns["CDEF"] == _cdefgen.make_cdef(str(HEADER))
    assert list(ns["FUNCTIONS"]) == _cdefgen.declared_functions(ns["CDEF"])
    assert (tmp_path / "_jvs_cffi.py").read_text().count("jvs_snapshot") == 1


def test_declared_functions_are_exported() -> None:
    """Every declared function resolves in the loaded library, and nothing exported is missing."""
    declared = _cdefgen.declared_functions(_ffi.CDEF)
    assert "jvs_snapshot" in declared and "jvs_call" in declared
    for name in declared:
        assert getattr(_ffi.lib, name) is not None
    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("nm not available")
    out = subprocess.run([nm, "-D", "--defined-only", _ffi.LIBRARY_PATH], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    exported = sorted({ln.split()[-1].split("@")[0] for ln in out.splitlines()
                       if ln.split() and ln.split()[-1].startswith("jvs_")})
    assert exported == declared


def test_constants_agree_with_library() -> None:
    lib = _ffi.lib
    assert lib.jvs_abi_version() == lib.JVS_ABI_VERSION
    assert lib.jvs_version_number() == lib.JVS_VERSION_NUMBER
    assert jvs.library_version() == "%d.%d.%d" % (lib.JVS_VERSION_MAJOR, lib.JVS_VERSION_MINOR,
                                                  lib.JVS_VERSION_PATCH)
    for name, value in _cdefgen.integer_defines(str(HEADER)):
        assert getattr(lib, name) == value
        if name.startswith("JVS_E_") or name == "JVS_OK":
            assert jvs.status_name(value) == name
    assert jvs.build_info()["schema"] == lib.JVS_SCHEMA_VERSION


def test_abi_mismatch_message() -> None:
    _ffi.check_abi(1, 1, "/x/libjvs.so.1")
    with pytest.raises(ImportError) as ei:
        _ffi.check_abi(2, 1, "/x/libjvs.so.2")
    msg = str(ei.value)
    assert "/x/libjvs.so.2" in msg and "ABI 2" in msg and "ABI 1" in msg


def _import_in_child(**env: str) -> subprocess.CompletedProcess:
    code = "import jvs, jvs._ffi as f; print(f.LIBRARY_SOURCE); print(f.LIBRARY_PATH)"
    return subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, env=subprocess_env(**env),
                          cwd=str(Path(jvs.__file__).parents[2]))


def test_loader_jvs_library_file_and_directory() -> None:
    if _ffi.LIBRARY_SOURCE == "package":
        pytest.skip("an installed package loads its bundled library first")
    real = os.path.realpath(_ffi.LIBRARY_PATH)
    r = _import_in_child(JVS_LIBRARY=real)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["JVS_LIBRARY", real]
    d = Path(real).parent
    if any((d / n).exists() for n in ("libjvs.so.1", "libjvs.so")):
        r = _import_in_child(JVS_LIBRARY=str(d))
        assert r.returncode == 0, r.stderr
        assert r.stdout.split()[0] == "JVS_LIBRARY"


def test_loader_bad_jvs_library_is_a_clear_import_error(tmp_path: Path) -> None:
    if _ffi.LIBRARY_SOURCE == "package":
        pytest.skip("an installed package loads its bundled library first")
    r = _import_in_child(JVS_LIBRARY=str(tmp_path / "missing.so"))
    assert r.returncode != 0
    assert "ImportError" in r.stderr and "missing.so" in r.stderr
    junk = tmp_path / "libjunk.so"
    junk.write_text("not an ELF file")
    r = _import_in_child(JVS_LIBRARY=str(junk))
    assert r.returncode != 0 and "cannot load libjvs" in r.stderr


def test_loader_candidates_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JVS_LIBRARY", str(tmp_path / "libjvs.so.1"))
    cands = _ffi.candidates()
    sources = [s for s, _ in cands]
    # package (when bundled) < JVS_LIBRARY < system
    first_env = sources.index("JVS_LIBRARY")
    assert all(s == "package" for s in sources[:first_env])
    assert all(s == "system" for s in sources[first_env + 1:])
    assert sources[-1] == "system"


def test_loader_falls_back_to_the_system_library() -> None:
    """Without JVS_LIBRARY (and no bundled copy), the dynamic loader's search path is used."""
    if _ffi.LIBRARY_SOURCE == "package":
        pytest.skip("an installed package loads its bundled library first")
    lib_dir = os.path.dirname(os.path.realpath(_ffi.LIBRARY_PATH))
    if not os.path.exists(os.path.join(lib_dir, "libjvs.so.1")):
        pytest.skip("no libjvs.so.1 (SONAME link) next to %s" % _ffi.LIBRARY_PATH)
    env = subprocess_env(LD_LIBRARY_PATH=lib_dir)
    env.pop("JVS_LIBRARY", None)
    code = "import jvs._ffi as f; print(f.LIBRARY_SOURCE, f.LIBRARY_PATH)"
    r = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, env=env, cwd="/")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0] == "system", r.stdout


def test_import_refuses_a_library_of_another_abi(tmp_path: Path) -> None:
    """A library reporting ABI 2 is refused at import with a message naming file and versions."""
    if _ffi.LIBRARY_SOURCE == "package":
        pytest.skip("an installed package loads its bundled library first")
    src = tmp_path / "fake.c"
    src.write_text("unsigned int jvs_abi_version(void) { return 2; }\n")
    fake = tmp_path / "libjvs.so.2"
    subprocess.run([os.environ.get("CC", "cc"), "-shared", "-fPIC", "-o", str(fake), str(src)], check=True)
    r = _import_in_child(JVS_LIBRARY=str(fake))
    assert r.returncode != 0
    assert "ImportError" in r.stderr and str(fake) in r.stderr
    assert "ABI 2" in r.stderr and "ABI 1" in r.stderr, r.stderr


def test_drift_is_detected(tmp_path: Path) -> None:
    """The generator follows the header: a declaration added to (a copy of) jvs.h changes the
    cdef, so the comparison in test_cdef_matches_header cannot pass vacuously."""
    header = tmp_path / "jvs.h"
    text = HEADER.read_text()
    marker = "#if defined(__cplusplus) && !defined(JVS_CDEF)\n}"
    assert marker in text
    header.write_text(text.replace(marker, "JVS_API int32_t JVS_CALL jvs_new_thing(void) JVS_NOEXCEPT;\n"
                                           + marker))
    drifted = _cdefgen.make_cdef(str(header))
    assert drifted != _ffi.CDEF
    assert "jvs_new_thing" in _cdefgen.declared_functions(drifted)
    assert _cdefgen.header_sha256(str(header)) != _ffi.HEADER_SHA256
