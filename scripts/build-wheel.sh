#!/usr/bin/env bash
# Builds the Python SDK (python-cffi/) as a manylinux wheel: `pip wheel` compiles libjvs into the
# package (jvs/libjvs.so.1), then `auditwheel repair` copies every library it needs that a manylinux
# system does not promise (libcrypto, libutf8proc, libyaml-cpp) into the wheel (jvs.libs/), points
# libjvs at them and retags the wheel manylinux_2_<glibc>_<arch>. Only libc, libm, libstdc++ and
# libgcc_s stay outside, as the manylinux policy allows.
#
#   bash scripts/build-wheel.sh [OUT_DIR]        # default OUT_DIR: dist/
#
# The meson build directory is kept (build/wheel/), so a second run only re-packages: the first one
# compiles libjvs (about 2 minutes on 2 cores; the compiler's progress is shown). Needs pip, patchelf
# and auditwheel (scripts/install-deps.sh); pip fetches meson-python, meson and cffi from PyPI for
# the isolated build unless meson-python is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$(mkdir -p "${1:-dist}" && cd "${1:-dist}" && pwd)
py=${PYTHON:-python3}
for tool in auditwheel patchelf; do
  command -v "$tool" >/dev/null || { echo "build-wheel: $tool is missing (scripts/install-deps.sh installs it)" >&2; exit 1; }
done
raw=$(mktemp -d)
trap 'rm -rf "$raw"' EXIT

isolation=()
if "$py" -c 'import mesonpy, cffi' 2>/dev/null; then isolation=(--no-build-isolation); fi
start=$SECONDS
echo "build-wheel: compiling libjvs and packaging python-cffi/ (build directory build/wheel/)" >&2
"$py" -m pip wheel --no-deps --disable-pip-version-check -v "${isolation[@]}" \
  --config-settings=build-dir="$root/build/wheel" -w "$raw" ./python-cffi 2>&1 | tee "$raw/pip.log" |
  grep -E --line-buffered '^\s*\[[0-9]+/[0-9]+\]|Created wheel|ERROR|error:' >&2 || true
shopt -s nullglob
wheels=("$raw"/jvs-*.whl)
if [ ${#wheels[@]} -ne 1 ]; then
  tail -n 60 "$raw/pip.log" >&2
  echo "build-wheel: pip wheel failed" >&2
  exit 1
fi

rm -f "$out"/jvs-*.whl
auditwheel repair --plat auto -w "$out" "${wheels[0]}" >&2
made=("$out"/jvs-*manylinux*.whl)
[ ${#made[@]} -eq 1 ] || { echo "build-wheel: auditwheel repair produced no manylinux wheel" >&2; exit 1; }
echo "build-wheel: ${made[0]} ($((SECONDS - start)) s)" >&2
echo "${made[0]}"
