"""Unity .meta files for the package in csharp/unity/.

Unity needs a .meta file (a stable GUID and import settings) beside every file and folder of a
package; in a package installed from git or a tarball (read-only), an asset without one is ignored.
GUIDs here are derived from the package name and the path, so they never change.

    python3 csharp/tools/unity_meta.py csharp/unity          # writes the missing .meta files
    python3 csharp/tools/unity_meta.py --check csharp/unity  # lists missing/orphaned ones, exit 1 if any
"""
import hashlib
import sys
from pathlib import Path

PACKAGE = "com.jvs.workspace"
TAIL = "  userData: \n  assetBundleName: \n  assetBundleVariant: \n"

# The import settings of the native plugin: loaded by the Linux editor and Linux x86_64 players.
PLUGIN_LINUX64 = """PluginImporter:
  externalObjects: {}
  serializedVersion: 2
  iconMap: {}
  executionOrder: {}
  defineConstraints: []
  isPreloaded: 0
  isOverridable: 0
  isExplicitlyReferenced: 0
  validateReferences: 1
  platformData:
  - first:
      : Any
    second:
      enabled: 0
      settings:
        Exclude Editor: 0
        Exclude Linux64: 0
        Exclude OSXUniversal: 1
        Exclude Win: 1
        Exclude Win64: 1
  - first:
      Any: 
    second:
      enabled: 0
      settings: {}
  - first:
      Editor: Editor
    second:
      enabled: 1
      settings:
        CPU: x86_64
        DefaultValueInitialized: true
        OS: Linux
  - first:
      Standalone: Linux64
    second:
      enabled: 1
      settings:
        CPU: x86_64
"""


def guid(rel):
    return hashlib.md5(f"{PACKAGE}/{rel}".encode()).hexdigest()


def meta_text(rel, is_dir):
    head = f"fileFormatVersion: 2\nguid: {guid(rel)}\n"
    if is_dir:
        return head + "folderAsset: yes\nDefaultImporter:\n  externalObjects: {}\n" + TAIL
    name = rel.rsplit("/", 1)[-1]
    if name.endswith(".cs"):
        return head + ("MonoImporter:\n  externalObjects: {}\n  serializedVersion: 2\n  defaultReferences: []\n"
                       "  executionOrder: 0\n  icon: {instanceID: 0}\n") + TAIL
    if name.endswith(".asmdef"):
        return head + "AssemblyDefinitionImporter:\n  externalObjects: {}\n" + TAIL
    if name == "package.json":
        return head + "PackageManifestImporter:\n  externalObjects: {}\n" + TAIL
    if name.endswith((".so", ".dll", ".dylib", ".bundle")):
        return head + PLUGIN_LINUX64 + TAIL
    return head + "TextScriptImporter:\n  externalObjects: {}\n" + TAIL


def assets(root):
    """(relative path, is_dir) of every file and folder of the package that Unity imports."""
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.name.endswith(".meta") or any(part.startswith(".") for part in p.relative_to(root).parts):
            continue
        yield rel, p.is_dir()


def problems(root):
    missing = [rel for rel, _ in assets(root) if not (root / (rel + ".meta")).exists()]
    orphans = [m.relative_to(root).as_posix() for m in root.rglob("*.meta")
               if not m.with_name(m.name[:-len(".meta")]).exists()]
    return missing, orphans


def main(argv):
    check = "--check" in argv
    root = Path([a for a in argv if not a.startswith("--")][0])
    if check:
        missing, orphans = problems(root)
        for rel in missing:
            print("missing .meta:", rel)
        for rel in orphans:
            print("orphaned .meta:", rel)
        return 1 if missing or orphans else 0
    for rel, is_dir in assets(root):
        meta = root / (rel + ".meta")
        if not meta.exists():
            meta.write_text(meta_text(rel, is_dir))
            print("wrote", meta)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
