"""PEP 517 backend: meson-python, with the built wheel retagged ``py3-none-<platform>``.

meson-python tags a wheel holding files in platlib as CPython-specific (cpXY-cpXY-plat): it
assumes they are extension modules. The jvs wheel holds none - libjvs is loaded with
cffi.dlopen (ABI mode) and works with any Python 3 - so the interpreter/ABI part of the tag is
rewritten to ``py3-none``; the platform part is kept. Everything else is meson-python's.
"""

from __future__ import annotations

import base64
import hashlib
import os
import zipfile
from typing import Any, Dict, Optional

import mesonpy
from mesonpy import (  # noqa: F401 - re-exported hooks
    build_editable,
    get_requires_for_build_editable,
    build_sdist,
    get_requires_for_build_sdist,
    get_requires_for_build_wheel,
)

__all__ = [
    "build_editable",
    "build_sdist",
    "build_wheel",
    "get_requires_for_build_editable",
    "get_requires_for_build_sdist",
    "get_requires_for_build_wheel",
]


def _record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def retag(wheel_path: str, python_tag: str = "py3", abi_tag: str = "none") -> str:
    """Rewrite a wheel's python and ABI tags; returns the new file name."""
    directory, name = os.path.split(wheel_path)
    dist, version, _py, _abi, plat = name[: -len(".whl")].rsplit("-", 4)
    new_tag = "%s-%s-%s" % (python_tag, abi_tag, plat)
    new_name = "%s-%s-%s.whl" % (dist, version, new_tag)
    if new_name == name:
        return name
    tmp_path = os.path.join(directory, new_name + ".tmp")
    with zipfile.ZipFile(wheel_path) as src, zipfile.ZipFile(tmp_path, "w", zipfile.ZIP_DEFLATED) as dst:
        infos = src.infolist()
        wheel_file = next(i.filename for i in infos if i.filename.endswith(".dist-info/WHEEL"))
        record_file = next(i.filename for i in infos if i.filename.endswith(".dist-info/RECORD"))
        wheel_text = src.read(wheel_file).decode("utf-8")
        lines = [ln for ln in wheel_text.splitlines() if not ln.startswith("Tag:")]
        lines.append("Tag: %s" % new_tag)
        new_wheel = ("\n".join(lines) + "\n").encode("utf-8")
        for info in infos:
            if info.filename in (wheel_file, record_file):
                continue
            dst.writestr(info, src.read(info.filename))
        wi = zipfile.ZipInfo(wheel_file, date_time=src.getinfo(wheel_file).date_time)
        wi.external_attr = src.getinfo(wheel_file).external_attr
        wi.compress_type = zipfile.ZIP_DEFLATED
        dst.writestr(wi, new_wheel)
        record_lines = []
        for ln in src.read(record_file).decode("utf-8").splitlines():
            if ln.startswith(wheel_file + ","):
                ln = "%s,%s,%d" % (wheel_file, _record_hash(new_wheel), len(new_wheel))
            record_lines.append(ln)
        ri = zipfile.ZipInfo(record_file, date_time=src.getinfo(record_file).date_time)
        ri.external_attr = src.getinfo(record_file).external_attr
        ri.compress_type = zipfile.ZIP_DEFLATED
        dst.writestr(ri, ("\n".join(record_lines) + "\n").encode("utf-8"))
    os.replace(tmp_path, os.path.join(directory, new_name))
    os.remove(wheel_path)
    return new_name


def build_wheel(wheel_directory: str, config_settings: Optional[Dict[str, Any]] = None,
                metadata_directory: Optional[str] = None) -> str:
    name = mesonpy.build_wheel(wheel_directory, config_settings, metadata_directory)
    return retag(os.path.join(wheel_directory, name))

