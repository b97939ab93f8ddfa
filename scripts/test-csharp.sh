#!/usr/bin/env bash
# The C# binding's suite (csharp/), against the self-contained library (build/csharp/libjvs.so.1 is
# build/bundled/libjvs.so.1):
#   - the NUnit suite (csharp/tests/*.cs) under Mono with nunit-console: every Workspace method, every
#     error family, progress and cancellation, 16 threads forking and snapshotting, non-ASCII names,
#     and examples/csharp/Quickstart.exe run as a program;
#   - csharp/tests/test_unity_package.py: the Unity package (layout, .meta files, the tarball).
# Builds what it needs first (ninja). About 20 s.
# Usage: bash scripts/test-csharp.sh [build-dir]   (default: build)
set -uo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
for tool in mcs mono nunit-console; do
  if ! command -v $tool >/dev/null; then
    echo "SKIP: $tool not found (scripts/install-deps.sh installs Mono, NUnit and Newtonsoft.Json)"
    exit 0
  fi
done
ninja -C "$B" >/dev/null || exit 1
if [ ! -f "$B/csharp/Jvs.Tests.dll" ]; then
  echo "$B/csharp/Jvs.Tests.dll was not built: configure with -Dcsharp=enabled (meson setup --reconfigure)" >&2
  exit 1
fi
if [ -e "$B/bundled/libjvs.so.1" ]; then
  export JVS_CSHARP_REQUIRE_BUNDLED=1 # LibraryTests then fails if the ordinary library got loaded
fi
echo "libjvs under test: $(readelf -d "$B/csharp/libjvs.so.1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')"
rc=0
nunit-console -nologo -noshadow -result="$B/csharp/TestResult.xml" "$B/csharp/Jvs.Tests.dll" || rc=1
JVS_BUILD_DIR="$B" python3 -m pytest -q -rs csharp/tests/test_unity_package.py || rc=1
exit $rc
