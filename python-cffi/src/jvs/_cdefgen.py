"""Generate the cffi declarations of libjvs from ``include/jvs.h``.

The cdef is never written by hand: it is the header run through the C preprocessor with
``-DJVS_CDEF`` (which drops the system includes and the export/calling-convention macros),
normalised to one declaration per line, followed by every integer ``#define JVS_*`` constant
of the header. The same function runs at build time (``tools/gen_cffi.py``, called by Meson)
and in the drift test, so a header change that is not rebuilt into the package is caught.

This module is self-contained (standard library only; cffi is imported lazily) so that the
build step can load it by path without importing the rest of the package.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import subprocess
from typing import List, Optional, Sequence, Tuple

__all__ = [
    "preprocess",
    "integer_defines",
    "make_cdef",
    "header_sha256",
    "declared_functions",
    "normalise",
]

_DEFINE_RE = re.compile(r"^[ \t]*#[ \t]*define[ \t]+(JVS_[A-Z0-9_]+)[ \t]+(-?[0-9]+)\b", re.MULTILINE)
_FUNC_RE = re.compile(r"\b(jvs_[a-z0-9_]+)\s*\(")


def _compiler(cc: Optional[Sequence[str]]) -> List[str]:
    if cc:
        return list(cc)
    return shlex.split(os.environ.get("CC", "cc"))


def normalise(text: str) -> str:
    """One declaration per line, single spaces, no space before ``(`` / ``)`` / ``,`` / ``;``."""
    flat = re.sub(r"\s+", " ", text)
    out: List[str] = []
    for stmt in flat.split(";"):
        stmt = stmt.strip()
        if not stmt:
            continue
        stmt = re.sub(r"\s*([(),*])\s*", r"\1", stmt)
        stmt = re.sub(r"\*(?=[A-Za-z_])", "* ", stmt)  # "char **out" -> "char** out"
        stmt = re.sub(r",", ", ", stmt)
        stmt = re.sub(r"([A-Za-z0-9_])\(\*", r"\1 (*", stmt)  # "int32_t(*jvs_event_cb)" -> "int32_t (*..."
        out.append(stmt + ";")
    return "\n".join(out) + "\n"


def preprocess(header: str, cc: Optional[Sequence[str]] = None) -> str:
    """Run ``cc -E -P -DJVS_CDEF -x c header`` and return the normalised declarations."""
    cmd = _compiler(cc) + ["-E", "-P", "-DJVS_CDEF", "-x", "c", os.fspath(header)]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if proc.returncode != 0:
        raise RuntimeError(
            "preprocessing %s failed (%s): %s"
            % (header, " ".join(cmd), proc.stderr.decode("utf-8", "replace").strip())
        )
    return normalise(proc.stdout.decode("utf-8"))


def integer_defines(header: str) -> List[Tuple[str, int]]:
    """Every ``#define JVS_NAME <integer>`` of the header, in header order."""
    with open(header, encoding="utf-8") as f:
        text = f.read()
    seen = set()
    result: List[Tuple[str, int]] = []
    for name, value in _DEFINE_RE.findall(text):
        if name not in seen:
            seen.add(name)
            result.append((name, int(value)))
    return result


def make_cdef(header: str, cc: Optional[Sequence[str]] = None) -> str:
    """The complete cdef: preprocessed declarations followed by the integer constants."""
    decls = preprocess(header, cc)
    consts = "".join("#define %s %d\n" % (n, v) for n, v in integer_defines(header))
    return decls + consts


def header_sha256(header: str) -> str:
    with open(header, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def declared_functions(cdef: str) -> List[str]:
    """Names of the functions declared in a cdef (sorted)."""
    names = set()
    for line in cdef.splitlines():
        if line.startswith("typedef") or line.startswith("#"):
            continue
        m = _FUNC_RE.search(line)
        if m:
            names.add(m.group(1))
    return sorted(names)
