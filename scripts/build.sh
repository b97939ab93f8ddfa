#!/usr/bin/env bash
# Configures (once) and builds libjvs, the jvs CLI and the test programs into build/, with the
# self-contained libjvs (build/bundled/) and the C# binding (build/csharp/): scripts/install-deps.sh
# installs what they need, so a missing piece fails the build instead of skipping it.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build/build.ninja ]; then
  meson setup build --buildtype=release -Dbundle_deps=enabled -Dcsharp=enabled >/dev/null
fi
ninja -C build >/dev/null
