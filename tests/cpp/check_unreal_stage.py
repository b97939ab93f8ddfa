"""examples/unreal: stages the plugin skeleton the way its README says (stage.sh) into a temporary
Plugins folder and checks what can be checked without Unreal Engine (which cannot run here): the
layout Unreal expects, the headers and library it links, and that every Blueprint function declared
is defined. Meson test 'unreal-stage'; argument: the libjvs to stage (the self-contained one).
"""
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main(lib):
    lib = Path(lib).resolve()
    with tempfile.TemporaryDirectory() as tmp:
        plugins = Path(tmp) / "MyGame" / "Plugins"
        subprocess.run(["bash", str(ROOT / "examples" / "unreal" / "stage.sh"), str(plugins), str(lib)], check=True)
        p = plugins / "Jvs"
        uplugin = json.loads((p / "Jvs.uplugin").read_text())
        modules = [m["Name"] for m in uplugin["Modules"]]
        assert modules == ["Jvs"], modules
        src = p / "Source" / "Jvs"
        build_cs = (src / "Jvs.Build.cs").read_text()
        assert "class Jvs : ModuleRules" in build_cs
        assert "bEnableExceptions = true" in build_cs
        assert 'RuntimeDependencies.Add("$(BinaryOutputDir)/libjvs.so.1", Library)' in build_cs
        third = p / "Source" / "ThirdParty" / "libjvs"
        for name in ("jvs.h", "jvs.hpp"):
            assert (third / "include" / name).read_bytes() == (ROOT / "include" / name).read_bytes(), name
        staged = third / "lib" / "Linux" / "x86_64" / "libjvs.so.1"
        assert staged.read_bytes() == lib.read_bytes()
        soname = subprocess.run(["readelf", "-d", str(staged)], capture_output=True, text=True, check=True).stdout
        assert "Library soname: [libjvs.so.1]" in soname  # the name the module's DT_NEEDED will carry

        header = (src / "Public" / "JvsBlueprintLibrary.h").read_text()
        impl = (src / "Private" / "JvsBlueprintLibrary.cpp").read_text()
        declared = re.findall(r"UFUNCTION\([^)]*\)\s*static\s+\w+\s+(\w+)\(", header)
        assert sorted(declared) == ["History", "ProjectContentFolder", "Restore", "Snapshot"], declared
        for name in declared:
            assert f"UJvsBlueprintLibrary::{name}(" in impl, name
        # The module reaches libjvs through jvs.hpp only.
        assert '#include "jvs.hpp"' in impl and not re.search(r"\bjvs_\w+\(", impl)
    print("unreal plugin staged and checked")


if __name__ == "__main__":
    main(sys.argv[1])
