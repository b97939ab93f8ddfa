"""The Unity package: csharp/unity/ (source layout) and build/csharp/com.jvs.workspace-<v>.tgz.

What can be checked without the Unity editor (which cannot run here: see csharp/unity/README.md):
- the Runtime folder holds exactly the sources Jvs.dll is compiled from (csharp/meson.build), so
  Unity compiles the code the NUnit suite tests;
- package.json and both .asmdef files are valid and reference what they must (Newtonsoft.Json,
  unsafe code for the Runtime, Editor-only for the Editor assembly);
- every file and folder has a .meta file with a unique GUID (an asset without one is ignored in a
  read-only package), and none is orphaned;
- the tarball has the npm layout Unity's "Add package from tarball" expects, the source files
  unchanged, and the self-contained libjvs as Plugins/x86_64/libjvs.so with plugin import settings;
- the Runtime code stays within .NET Standard 2.0 where the compiler cannot tell (mcs compiles
  against .NET Framework 4.7.1, which has a few APIs more).
Run: bash scripts/test-csharp.sh (builds first), or pytest -q csharp/tests/test_unity_package.py.
"""
import json
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNITY = ROOT / "csharp" / "unity"
BUILD = Path(os.environ.get("JVS_BUILD_DIR", ROOT / "build"))
if not BUILD.is_absolute():
    BUILD = ROOT / BUILD
sys.path.insert(0, str(ROOT / "csharp" / "tools"))
import unity_meta  # noqa: E402


def meson_version():
    return re.search(r"version:\s*'([^']+)'", (ROOT / "meson.build").read_text()).group(1)


def tarball():
    path = BUILD / "csharp" / f"com.jvs.workspace-{meson_version()}.tgz"
    if not path.exists():
        msg = f"{path} not built (ninja -C {BUILD}; needs the C# build: -Dcsharp=enabled)"
        print("SKIP:", msg)
        pytest.skip(msg)
    return path


def test_runtime_folder_is_the_tested_assembly():
    listed = set(re.findall(r"'unity/Runtime/([^']+\.cs)'", (ROOT / "csharp" / "meson.build").read_text()))
    present = {p.name for p in (UNITY / "Runtime").glob("*.cs")}
    assert listed == present, f"only in meson.build: {listed - present}, only in Runtime/: {present - listed}"


def test_manifest_and_assembly_definitions():
    pkg = json.loads((UNITY / "package.json").read_text())
    assert pkg["name"] == "com.jvs.workspace"
    assert pkg["version"] == meson_version()
    assert "com.unity.nuget.newtonsoft-json" in pkg["dependencies"]
    assert re.fullmatch(r"20\d\d\.\d", pkg["unity"])
    runtime = json.loads((UNITY / "Runtime" / "Jvs.asmdef").read_text())
    assert runtime["name"] == "Jvs" and runtime["allowUnsafeCode"] is True
    assert runtime["precompiledReferences"] == ["Newtonsoft.Json.dll"] and runtime["overrideReferences"]
    assert runtime["includePlatforms"] == []
    editor = json.loads((UNITY / "Editor" / "Jvs.Editor.asmdef").read_text())
    assert editor["references"] == ["Jvs"] and editor["includePlatforms"] == ["Editor"]


def test_every_asset_has_a_meta_file():
    missing, orphans = unity_meta.problems(UNITY)
    assert not missing, f"run: python3 csharp/tools/unity_meta.py csharp/unity (missing: {missing})"
    assert not orphans, orphans
    guids = [re.search(r"^guid: ([0-9a-f]{32})$", m.read_text(), re.M).group(1) for m in UNITY.rglob("*.meta")]
    assert len(guids) == len(set(guids))


def test_runtime_stays_within_net_standard_2_0():
    # APIs of .NET Framework 4.7.1 that .NET Standard 2.0 (hence Unity's .NET Standard level) lacks.
    banned = [r"\bAppDomain\b", r"System\.Runtime\.Remoting", r"System\.Configuration", r"\.Abort\(",
              r"System\.Web\b", r"\bSpan<", r"\bMemory<"]
    for cs in (UNITY / "Runtime").glob("*.cs"):
        text = re.sub(r"//.*", "", cs.read_text())  # code, not comments
        for pattern in banned:
            assert not re.search(pattern, text), f"{cs.name} uses {pattern}"


def test_tarball_layout():
    with tarfile.open(tarball()) as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert all(n.startswith("package/") for n in members)
        names = {n[len("package/"):] for n in members}
        for rel, is_dir in unity_meta.assets(UNITY):
            if not is_dir:
                assert rel in names, rel
                assert tar.extractfile("package/" + rel).read() == (UNITY / rel).read_bytes(), rel
            assert rel + ".meta" in names, rel
        plugin = "Plugins/x86_64/libjvs.so"
        assert plugin in names and plugin + ".meta" in names
        lib = tar.extractfile("package/" + plugin).read()
        meta = tar.extractfile("package/" + plugin + ".meta").read().decode()
    assert lib[:4] == b"\x7fELF"
    assert lib == (BUILD / "csharp" / "libjvs.so.1").resolve().read_bytes()
    assert "PluginImporter:" in meta and "Standalone: Linux64" in meta
    bundled = BUILD / "bundled" / "libjvs.so.1"
    if bundled.exists():
        assert lib == bundled.resolve().read_bytes(), "the package must carry the self-contained libjvs"
        out = subprocess.run(["readelf", "-d", str(bundled)], capture_output=True, text=True).stdout
        assert "libstdc++" not in out and "libcrypto" not in out
