#!/usr/bin/env bash
# Installs what is missing, builds jvs and runs every test suite, one CI step each (install-deps and
# build are steps too), and prints when each starts and how long each took:
#   unit+c-abi  doctest unit tests, the C99 ABI test and the jvs.hpp (C++17 wrapper) tests (meson test)
#   pytest      CLI, ABI symbols, JSON schema, library (Go compatibility, crash, tamper, gc, diff,
#               concurrency), Python SDK (cffi, ctypes, wheel), real XFS/btrfs/JuiceFS (tests/fs)
#   install     meson install into a staging directory: the files, a C program built through
#               pkg-config, the installed jvs (tests/install)
#   adversarial symlinks swapped in worktrees and snapshots racing every operation; a canary tree
#               outside the repository must stay untouched and unread (tests/adversarial)
#   go          the Go module (go/): gofmt, go vet, go test -race against the staged meson install
#   node        the Node.js example (examples/node/): npm ci (koffi), node --test
#   mlflow      the MLflow plugin, installed in a virtualenv: SQLite store, mlflow server, Chromium
#   agents      the SDK's LangChain and AutoGen adapters against the real frameworks, the jvs-mcp server
#               through the mcp SDK's stdio client, the agent examples and the parallel runner (tests/agents)
#   csharp      the C# binding's NUnit suite under Mono (against the self-contained libjvs), the C#
#               example, the Unity package
#   juicefs-multihost  one JuiceFS volume (redis metadata) mounted as two hosts, a third killed
#               mid-operation (tests/fs/test_multihost.py; about 1.5 minutes, mostly that host's
#               session expiring while the other tests run)
#   asan        the unit, C, library, CLI and filesystem suites under ASan + UBSan
#   tsan        the concurrency tests under ThreadSanitizer
#   fuzz        every libFuzzer target, replaying its regressions, then fuzzing each for
#               JVS_FUZZ_SECONDS (default 6; the step is mostly its instrumented build)
# Usage: bash scripts/test.sh [--quick]   (--quick: skips juicefs-multihost, asan, tsan and fuzz, for
#        local iteration)
set -uo pipefail
cd "$(dirname "$0")/.."
quick=0
[ "${1:-}" = "--quick" ] && quick=1
results=()
status=0
t_start=$(date +%s)
step() {  # step <name> <command...>: runs one CI step, records its verdict and wall time
  local name=$1 start rc
  shift
  echo "== $name (started $(date +%H:%M:%S))"
  start=$(date +%s)
  "$@"
  rc=$?
  results+=("$(printf '%-17s %-4s %4ss' "$name" "$([ $rc -eq 0 ] && echo ok || echo FAIL)" $(( $(date +%s) - start )))")
  echo "== $name: $([ $rc -eq 0 ] && echo ok || echo FAILED) in $(( $(date +%s) - start ))s"
  [ $rc -eq 0 ] || status=1
}
summary() {
  echo "== summary ($(( $(date +%s) - t_start ))s in all)"
  printf '  %s\n' "${results[@]}"
}

# Without its dependencies or a build nothing else can run: stop there.
step install-deps bash scripts/install-deps.sh
step build bash scripts/build.sh
[ $status -eq 0 ] || { summary; exit 1; }

export JVS_BIN="$PWD/build/jvs" JVS_LIB="$PWD/build/libjvs.so" JVS_LIBRARY="$PWD/build/libjvs.so"

pytest_suites() {
  local suites=() d
  for d in tests/oracle tests/cli tests/abi tests/schema tests/library tests/python tests/fs; do
    ls "$d"/test_*.py >/dev/null 2>&1 && suites+=("$d")
  done
  # -rs prints the reason of every skipped test; exit 5 ("nothing collected") fails too.
  python3 -m pytest -q -rs "${suites[@]}" --ignore tests/fs/test_multihost.py
}

step unit+c-abi meson test -C build --print-errorlogs
step pytest pytest_suites
step install python3 -m pytest -q -rs tests/install
step adversarial python3 -m pytest -q -rs -s tests/adversarial
step go bash go/test.sh
step node bash examples/node/test.sh
step mlflow python3 -m pytest -q -rs tests/mlflow
step agents python3 -m pytest -q -rs tests/agents
step csharp bash scripts/test-csharp.sh
if [ $quick -eq 0 ]; then
  step juicefs-multihost python3 -m pytest -q -rs tests/fs/test_multihost.py
  step asan bash scripts/sanitizers.sh asan
  step tsan bash scripts/sanitizers.sh tsan
  step fuzz bash scripts/fuzz.sh "${JVS_FUZZ_SECONDS:-6}"
fi

summary
exit $status
