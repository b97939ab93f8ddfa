#!/usr/bin/env bash
# Stages the jvs Unreal plugin into a project's Plugins folder: examples/unreal/Jvs plus jvs.h,
# jvs.hpp and the self-contained libjvs under Jvs/Source/ThirdParty/libjvs/.
# Usage: bash examples/unreal/stage.sh <YourProject>/Plugins [path/to/libjvs.so.1]
#        (default library: build/bundled/libjvs.so.1, from `bash scripts/build.sh`)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
dest=${1:?usage: stage.sh <YourProject>/Plugins [libjvs.so.1]}
lib=${2:-$root/build/bundled/libjvs.so.1}
[ -f "$lib" ] || { echo "no $lib: build it with bash scripts/build.sh (or pass the library)" >&2; exit 1; }
mkdir -p "$dest"
rm -rf "$dest/Jvs"
cp -R "$here/Jvs" "$dest/Jvs"
third="$dest/Jvs/Source/ThirdParty/libjvs"
mkdir -p "$third/include" "$third/lib/Linux/x86_64"
cp "$root/include/jvs.h" "$root/include/jvs.hpp" "$third/include/"
cp -L "$lib" "$third/lib/Linux/x86_64/libjvs.so.1"
echo "staged $dest/Jvs"
