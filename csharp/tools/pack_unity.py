"""Packs csharp/unity/ into a Unity package tarball ("Add package from tarball" in the Package
Manager: the npm layout, everything under package/), with the self-contained libjvs as
Plugins/x86_64/libjvs.so and its import settings.

    python3 csharp/tools/pack_unity.py <csharp/unity> <libjvs.so.1> <out.tgz>
"""
import io
import sys
import tarfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import unity_meta  # noqa: E402

PLUGIN = "Plugins/x86_64/libjvs.so"


def add_bytes(tar, name, data, mode=0o644):
    info = tarfile.TarInfo("package/" + name)
    info.size = len(data)
    info.mode = mode
    info.mtime = 0
    tar.addfile(info, io.BytesIO(data))


def main(src, lib, out):
    src, lib = Path(src), Path(lib).resolve()
    with tarfile.open(out, "w:gz", compresslevel=6) as tar:
        for p in sorted(src.rglob("*")):
            rel = p.relative_to(src).as_posix()
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(src).parts):
                add_bytes(tar, rel, p.read_bytes())
        add_bytes(tar, PLUGIN, lib.read_bytes(), 0o755)
        add_bytes(tar, PLUGIN + ".meta", unity_meta.meta_text(PLUGIN, False).encode())


if __name__ == "__main__":
    main(*sys.argv[1:4])
