#!/usr/bin/env bash
# Installs koffi exactly as package-lock.json pins it (npm ci; koffi ships its native part in
# per-platform npm packages, nothing is compiled) and runs the tests with Node's built-in test
# runner against this checkout's build (JVS_LIBRARY, default build/libjvs.so).
set -euo pipefail
cd "$(dirname "$0")"
export JVS_LIBRARY=${JVS_LIBRARY:-$(cd ../.. && pwd)/build/libjvs.so}
npm ci --no-audit --no-fund --loglevel=error
node --test
