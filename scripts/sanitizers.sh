#!/usr/bin/env bash
# Sanitizer runs (issue: sanitizers), each in its own build directory:
#   asan: build-asan (gcc, -fsanitize=address,undefined, -O0 -g1): meson tests (unit, c-abi) with leak
#         detection, then the pytest suites tests/library, tests/cli and tests/fs (real XFS, btrfs,
#         JuiceFS) loading the ASan libjvs.so via LD_PRELOAD and running the ASan jvs binary (leak
#         detection off there: CPython itself leaks at exit). tests/python (the SDK's Python over the
#         same calls tests/library makes) and tests/schema (documents and docs) run once, in the
#         plain pytest step: under ASan they would find nothing new and cost a minute.
#   tsan: build-tsan (gcc, -fsanitize=thread, -O1 -g1): the c-abi test (2-thread section),
#         tests/tsan/stress.c (8 threads on one repository: snapshot/restore/fork/remove/history,
#         beside them a gc plan/run thread and a verify --all thread), and the concurrency tests of
#         tests/library (8 processes x 4 threads with gc and verify, leases, lock waits).
# Any sanitizer report fails the run (halt_on_error) and is printed.
# Usage: bash scripts/sanitizers.sh asan|tsan
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
mode=${1:-}
case "$mode" in asan|tsan) ;; *) echo "usage: $0 asan|tsan" >&2; exit 2;; esac
# The compilers, libraries and pytest it needs (idempotent, a few seconds when all is there).
bash scripts/install-deps.sh || { echo "cannot install the build and test dependencies"; exit 1; }

# gojson's parser and normaliser recurse down to Go's nesting limit (10000 levels, exercised by the
# unit tests); sanitizer stack frames are several times larger, so 8 MiB of main-thread stack is not
# enough under ASan.
ulimit -s 65536 2>/dev/null || ulimit -s unlimited 2>/dev/null || true

B=build-$mode
# No optimisation for ASan and -O1 for TSan, line tables only (-g1): the builds dominate a CI run,
# and -O2 -g (debugoptimized) takes about four times as long to compile.
if [ $mode = asan ]; then
  SETUP=(-Db_sanitize=address,undefined --buildtype=plain -Doptimization=0 -Ddebug=false)
else
  SETUP=(-Db_sanitize=thread --buildtype=plain -Doptimization=1 -Ddebug=false)
fi
# b_lundef=false: meson's own -Wl,--no-undefined is dropped (meson.build still adds its own, which
# is fine with gcc: -fsanitize=... links the sanitizer runtime into libjvs.so).
SETUP+=(-Db_lundef=false -Dcpp_args=-g1 -Dc_args=-g1)
stamp="${SETUP[*]}"
if [ ! -f $B/build.ninja ] || [ "$(cat $B/.jvs-setup 2>/dev/null)" != "$stamp" ]; then
  rm -rf $B
  meson setup $B "${SETUP[@]}" >$B.setup.log 2>&1 || { cat $B.setup.log; exit 1; }
  rm -f $B.setup.log
  echo "$stamp" >$B/.jvs-setup
fi
t0=$(date +%s)

# The interpreter itself, not a wrapper script (a pyenv shim is a bash script, and bash started with
# the TSan runtime preloaded crashes).
PY=$(python3 -c 'import sys; print(sys.executable)')

status=0
san_log_dir=$ROOT/$B/sanitizer-logs
rm -rf "$san_log_dir"; mkdir -p "$san_log_dir"
report_logs() {  # prints (and counts as failure) any sanitizer report written by log_path
  local found=0 f
  for f in "$san_log_dir"/*; do
    [ -f "$f" ] || continue
    found=1; echo "---- $f"; head -80 "$f"
  done
  return $found
}

if [ $mode = asan ]; then
  echo "== [asan] building (unit tests, c-abi test, libjvs.so, jvs)"
  ninja -C $B jvs_unit_tests jvs_c_abi_test jvs >/dev/null || { ninja -C $B jvs_unit_tests jvs_c_abi_test jvs; exit 1; }
  echo "== [asan] built in $(( $(date +%s) - t0 ))s"

  echo "== [asan] meson tests (unit, c-abi) with ASan+UBSan+LSan"
  ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    meson test -C $B --no-rebuild --print-errorlogs unit c-abi || status=1

  echo "== [asan] pytest tests/library tests/cli tests/fs against $B/libjvs.so and $B/jvs"
  # libstdc++ must be preloaded too: python does not link it, and ASan's __cxa_throw interceptor
  # needs the real one present when the runtime initialises (else: CHECK failed real___cxa_throw).
  # log_path: a report from inside pytest's captured fds would otherwise be lost with the process.
  # The two Ctrl-C tests send SIGINT 0.1 s after starting jvs: an ASan binary may not have installed
  # its handler by then on a loaded machine (they run in the plain suite).
  # The multi-host JuiceFS suite runs the JuiceFS code paths tests/fs already covers, from more hosts,
  # and waits for a dead host's session: it is its own step of test.sh (juicefs-multihost), not here.
  JVS_LIB=$ROOT/$B/libjvs.so JVS_LIBRARY=$ROOT/$B/libjvs.so JVS_BIN=$ROOT/$B/jvs \
  LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libstdc++.so)" \
  ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:log_path=$san_log_dir/asan \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$san_log_dir/ubsan \
    "$PY" -m pytest -q -rs -p no:cacheprovider tests/library tests/cli tests/fs \
      --deselect tests/cli/test_json_and_misc.py::test_cancel_with_ctrl_c \
      --deselect tests/cli/test_json_and_misc.py::test_cancel_restore_with_ctrl_c \
      --ignore tests/fs/test_multihost.py || status=1
  report_logs || status=1
else
  echo "== [tsan] building (c-abi test, libjvs.so)"
  ninja -C $B jvs_c_abi_test >/dev/null || { ninja -C $B jvs_c_abi_test; exit 1; }
  echo "== [tsan] built in $(( $(date +%s) - t0 ))s"
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:log_path=$san_log_dir/tsan"

  echo "== [tsan] meson test c-abi"
  meson test -C $B --no-rebuild --print-errorlogs c-abi || status=1
  report_logs || status=1

  echo "== [tsan] stress of the C ABI: 8 writer threads + gc + verify (tests/tsan/stress.c)"
  gcc -std=c99 -O1 -g -fsanitize=thread -Iinclude tests/tsan/stress.c -o $B/jvs_tsan_stress \
    -L$B -ljvs -Wl,-rpath,"$ROOT/$B" -lpthread || exit 1
  d=$(mktemp -d)
  $B/jvs_tsan_stress "$d/repo" "${JVS_TSAN_ROUNDS:-6}" || status=1
  rm -rf "$d"
  report_logs || status=1

  echo "== [tsan] pytest concurrency tests against $B/libjvs.so"
  # test_concurrency: 8 processes x 4 threads with gc and verify running; test_gc: leases taken by
  # threads paused in a callback; test_behaviour: lock waits and a linear lineage under contention.
  JVS_LIB=$ROOT/$B/libjvs.so LD_PRELOAD="$(gcc -print-file-name=libtsan.so)" \
    "$PY" -m pytest -q -rs -p no:cacheprovider tests/library/test_concurrency.py \
      tests/library/test_gc.py tests/library/test_behaviour.py -k "concurrency or racing or lease or protected or threads or locked" || status=1
  report_logs || status=1
fi
echo "== [$mode] $([ $status = 0 ] && echo PASSED || echo FAILED)"
exit $status
