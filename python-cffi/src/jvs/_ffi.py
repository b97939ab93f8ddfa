"""Loading libjvs through cffi in ABI mode.

The declarations (``ffi``) come from ``jvs._jvs_cffi``, generated at build time from
``include/jvs.h`` (see ``tools/gen_cffi.py``). In a source checkout that was not built, they are
generated on the fly from the header next to the package (``../../include/jvs.h``) or the file
named by ``$JVS_HEADER``; that needs a C compiler and is meant for development only.

The shared library is searched, in this order:

1. inside the package (the copy a wheel bundles, e.g. ``jvs/libjvs.so.1``);
2. ``$JVS_LIBRARY``: a file (or a directory holding one of the names below);
3. the system: ``ctypes.util.find_library("jvs")``, then the plain SONAME through the dynamic
   loader's search path.

The first library found is loaded; if it cannot be loaded, or reports an ABI version other than
the one this package was generated for, the import fails with an ``ImportError`` that says which
file was tried and why.
"""

from __future__ import annotations

import ctypes.util
import os
import sys
from pathlib import Path
from typing import Any, List, Optional, Tuple

ffi: Any
CDEF: str
HEADER_SHA256: Optional[str]
BUILT: bool  # True when the declarations come from the generated jvs._jvs_cffi module

try:
    from ._jvs_cffi import ffi as _built_ffi  # generated at build time
    from ._jvs_cdef import CDEF as _built_cdef
    from ._jvs_cdef import HEADER_SHA256 as _built_sha

    ffi = _built_ffi
    CDEF = _built_cdef
    HEADER_SHA256 = _built_sha
    BUILT = True
except ImportError as _exc:  # a source checkout that was not built
    _missing = _exc

    def _dev_header() -> Optional[str]:
        env = os.environ.get("JVS_HEADER")
        if env:
            return env
        candidate = Path(__file__).resolve().parents[3] / "include" / "jvs.h"
        return str(candidate) if candidate.is_file() else None

    _header = _dev_header()
    if _header is None:
        raise ImportError(
            "jvs: the generated declarations (jvs._jvs_cffi) are missing and no include/jvs.h was "
            "found to generate them from. Install the package (pip install ./python-cffi) or set "
            "JVS_HEADER to the path of include/jvs.h."
        ) from _missing
    import importlib

    from . import _cdefgen

    # Imported by name: cffi ships no type information, and this keeps `mypy --strict` clean
    # without requiring the types-cffi stubs (a ModuleType's attributes are Any).
    cffi = importlib.import_module("cffi")

    CDEF = _cdefgen.make_cdef(_header)
    HEADER_SHA256 = _cdefgen.header_sha256(_header)
    ffi = cffi.FFI()
    ffi.cdef(CDEF)
    BUILT = False


def _library_names() -> List[str]:
    if sys.platform == "win32":
        return ["jvs-1.dll", "jvs.dll", "libjvs-1.dll"]
    if sys.platform == "darwin":
        return ["libjvs.1.dylib", "libjvs.dylib"]
    return ["libjvs.so.1", "libjvs.so"]


def candidates() -> List[Tuple[str, str]]:
    """The libraries that would be tried, in order, as ``(source, path_or_name)`` pairs."""
    out: List[Tuple[str, str]] = []
    pkg = Path(__file__).resolve().parent
    for name in _library_names():
        p = pkg / name
        if p.is_file():
            out.append(("package", str(p)))
    env = os.environ.get("JVS_LIBRARY")
    if env:
        p = Path(env)
        if p.is_dir():
            found = [p / n for n in _library_names() if (p / n).is_file()]
            out.append(("JVS_LIBRARY", str(found[0] if found else p / _library_names()[0])))
        else:
            out.append(("JVS_LIBRARY", env))
    found_sys = ctypes.util.find_library("jvs")
    if found_sys:
        out.append(("system", found_sys))
    for name in _library_names():
        out.append(("system", name))
    return out


def check_abi(found: int, expected: int, path: str) -> None:
    """Raise ImportError with a clear message when the library's ABI is not ours."""
    if found != expected:
        raise ImportError(
            "jvs: %s implements libjvs ABI %d, but this jvs package was built for ABI %d. "
            "Install a jvs package matching the library (or point JVS_LIBRARY at a libjvs.so.%d)."
            % (path, found, expected, expected)
        )


def _load() -> Tuple[Any, str, str]:
    errors: List[str] = []
    for source, path in candidates():
        explicit = source in ("package", "JVS_LIBRARY")
        if explicit and not os.path.exists(path):
            raise ImportError("jvs: JVS_LIBRARY=%s does not exist" % path)
        try:
            lib = ffi.dlopen(path)
        except OSError as e:
            if explicit:
                raise ImportError("jvs: cannot load libjvs from %s (%s): %s" % (path, source, e)) from e
            errors.append("%s: %s" % (path, e))
            continue
        try:
            abi = int(lib.jvs_abi_version())
        except AttributeError as e:
            raise ImportError("jvs: %s (%s) is not libjvs: no jvs_abi_version symbol" % (path, source)) from e
        check_abi(abi, int(lib.JVS_ABI_VERSION), path)
        return lib, path, source
    raise ImportError(
        "jvs: libjvs was not found. It is bundled in wheels built from python-cffi/; otherwise set "
        "JVS_LIBRARY to the path of libjvs.so.1 or install it system-wide. Tried: " + "; ".join(errors)
    )


lib: Any
LIBRARY_PATH: str
LIBRARY_SOURCE: str
lib, LIBRARY_PATH, LIBRARY_SOURCE = _load()
