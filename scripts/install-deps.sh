#!/usr/bin/env bash
# Installs what building and testing jvs needs on a fresh Debian machine (run as root).
# Idempotent and quick when everything is already there.
set -euo pipefail

DEBS=(meson ninja-build g++ pkg-config nlohmann-json3-dev doctest-dev libcli11-dev libutf8proc-dev libssl-dev libyaml-cpp-dev
      xfsprogs btrfs-progs binutils)
PIPS=(pytest jsonschema cffi)

missing=()
for p in "${DEBS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
need_pip=()
for m in "${PIPS[@]}"; do
  "$PY" -c "import $m" 2>/dev/null || need_pip+=("$m")
done
if [ ${#need_pip[@]} -gt 0 ]; then
  echo "installing PyPI packages: ${need_pip[*]}" >&2
  "$PY" -m pip install -q "${need_pip[@]}"
fi
