#!/usr/bin/env bash
# Builds and tests the Go module against this checkout's libjvs, without installing anything
# system-wide: `meson install --destdir` stages the build (libjvs.so.1, jvs.h, the jvs.pc that
# `meson install` writes) under build/go-stage, a copy of that jvs.pc with its prefix pointing
# into the stage is put first on PKG_CONFIG_PATH (what `#cgo pkg-config: jvs` reads), and the
# tests load the staged library through LD_LIBRARY_PATH. Then: gofmt, go vet, go test -race.
#
# Usage: bash go/test.sh [go test arguments]     (default: -race -count=1 ./...)
# Env:   JVS_BUILD_DIR  the meson build directory (default: build/ of this checkout)
set -euo pipefail
command -v go >/dev/null || export PATH="$PATH:/usr/local/go/bin"   # where go.dev installs it
here=$(cd "$(dirname "$0")" && pwd)
build=${JVS_BUILD_DIR:-$(dirname "$here")/build}
stage="$build/go-stage"   # stable path: go's build cache keys on the cgo flags

rm -rf "$stage"
meson install -C "$build" --destdir "$stage" >/dev/null
pc=$(find "$stage" -name jvs.pc -print -quit)
lib=$(find "$stage" -name 'libjvs.so.1' -print -quit)
[ -n "$pc" ] && [ -n "$lib" ] || { echo "go/test.sh: meson install staged no jvs.pc or libjvs.so.1" >&2; exit 1; }
prefix=$(sed -n 's/^prefix=//p' "$pc")
mkdir -p "$stage/pkgconfig"
sed "s|^prefix=.*|prefix=$stage$prefix|" "$pc" >"$stage/pkgconfig/jvs.pc"

export PKG_CONFIG_PATH="$stage/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export LD_LIBRARY_PATH="$(dirname "$lib")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export CGO_ENABLED=1
unset JVS_LIBRARY JVS_LIB
cd "$here"

unformatted=$(gofmt -l .)
[ -z "$unformatted" ] || { echo "go/test.sh: not gofmt-formatted: $unformatted" >&2; exit 1; }
go vet -race ./...   # -race: shares the compiled standard library with the test build
if [ $# -eq 0 ]; then set -- -race -count=1 ./...; fi
go test "$@"
