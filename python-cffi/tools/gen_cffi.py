#!/usr/bin/env python3
"""Build step: write ``_jvs_cffi.py`` (cffi out-of-line ABI mode) and ``_jvs_cdef.py``.

Usage: gen_cffi.py --header include/jvs.h --outdir DIR [--] CC [CC_ARGS...]

``_jvs_cffi.py`` is what ``ffibuilder.set_source("jvs._jvs_cffi", None)`` +
``emit_python_code`` produce: pure Python, no compiler needed at install time.
``_jvs_cdef.py`` records the exact cdef text and the SHA-256 of the header it came from, so the
drift test can compare the installed declarations with the header of the source tree.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from typing import Any


def _load_cdefgen() -> Any:
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "..", "src", "jvs", "_cdefgen.py")
    spec = importlib.util.spec_from_file_location("_jvs_cdefgen_build", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--header", required=True)
    ap.add_argument("--outdir", required=True)
    ap.add_argument("cc", nargs=argparse.REMAINDER, help="C compiler command (default: $CC or cc)")
    args = ap.parse_args(argv)
    cc = [c for c in args.cc if c != "--"] or None

    gen = _load_cdefgen()
    cdef = gen.make_cdef(args.header, cc)

    import cffi  # build requirement

    ffibuilder = cffi.FFI()
    ffibuilder.cdef(cdef)
    ffibuilder.set_source("jvs._jvs_cffi", None)
    os.makedirs(args.outdir, exist_ok=True)
    ffibuilder.emit_python_code(os.path.join(args.outdir, "_jvs_cffi.py"))

    with open(os.path.join(args.outdir, "_jvs_cdef.py"), "w", encoding="utf-8") as f:
        f.write('"""Generated at build time by tools/gen_cffi.py from include/jvs.h. Do not edit."""\n')
        f.write("CDEF = %r\n" % cdef)
        f.write("HEADER_SHA256 = %r\n" % gen.header_sha256(args.header))
        f.write("FUNCTIONS = %r\n" % (tuple(gen.declared_functions(cdef)),))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
