#!/usr/bin/env bash
# libFuzzer targets of tests/fuzz (issue: fuzzing). Builds the library's sources with clang
# (-fsanitize=fuzzer-no-link,address,undefined) into build-fuzz/ through meson (only the internal
# archive is built), links one binary per target, replays tests/fuzz/regressions/<target>/ (every
# crash ever found stays fixed), then fuzzes each target for N seconds (default 20) starting from
# tests/fuzz/corpus/<target>/. New inputs go to build-fuzz/corpus/ (the tree is never written);
# crashes go to build-fuzz/artifacts/<target>/ -- minimise one with
#   build-fuzz/fuzz/<target> -minimize_crash=1 -runs=10000 <crash-file>
# and add it to tests/fuzz/regressions/<target>/. Targets run two at a time (two cores).
# Usage: bash scripts/fuzz.sh [seconds] [target...]
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SECONDS_PER_TARGET=${1:-20}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(fuzz_options fuzz_descriptor fuzz_config fuzz_names fuzz_refs fuzz_records)
B=build-fuzz

# meson, pkg-config and the -dev libraries (idempotent, a few seconds when all is there), then clang.
bash scripts/install-deps.sh || { echo "cannot install the build dependencies"; exit 1; }

if ! command -v clang++ >/dev/null 2>&1 || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  echo "== installing clang + libFuzzer runtime (apt)"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get install -y -qq clang libclang-rt-dev >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get install -y -qq clang libclang-rt-dev >/dev/null; }; } || { echo "cannot install clang"; exit 1; }
fi

# gojson's parser and normaliser recurse to Go's nesting limit (10000); ASan frames need > 8 MiB.
ulimit -s 65536 2>/dev/null || ulimit -s unlimited 2>/dev/null || true

# -O0 with line tables only: half the compile time of -O1 -g (the build dominates a CI run) and
# still symbolised stacks; a 10-20 s smoke run does not need optimised code.
SETUP=(-Db_sanitize=address,undefined -Db_lundef=false --buildtype=plain -Doptimization=0 -Ddebug=false
       "-Dcpp_args=-gline-tables-only -fsanitize=fuzzer-no-link -fno-sanitize-recover=all")
stamp="${SETUP[*]}"
if [ ! -f $B/build.ninja ] || [ "$(cat $B/.jvs-setup 2>/dev/null)" != "$stamp" ]; then
  rm -rf $B
  CC=clang CXX=clang++ meson setup $B "${SETUP[@]}" >$B.setup.log 2>&1 || { cat $B.setup.log; exit 1; }
  rm -f $B.setup.log
  echo "$stamp" >$B/.jvs-setup
fi
t0=$(date +%s)
echo "== building libjvs_internal.a (clang, ASan+UBSan, fuzzer instrumentation)"
ninja -C $B libjvs_internal.a >/dev/null || { ninja -C $B libjvs_internal.a; exit 1; }

mkdir -p $B/fuzz
DEPS=$(pkg-config --cflags --libs nlohmann_json libcrypto libutf8proc yaml-cpp zlib)
FLAGS=(-std=c++20 -O0 -gline-tables-only -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
       -D_FILE_OFFSET_BITS=64 -I"$ROOT/include" -I"$ROOT/lib" -I"$ROOT/tests/fuzz"
       -DJVS_FUZZ_DEFAULT_FIXTURE="\"$ROOT/tests/fixtures/upstream-repo-v1.tar.gz\"")
link_one() {
  local t=$1 src=tests/fuzz/$1.cpp bin=$B/fuzz/$1
  if [ ! -x $bin ] || [ $src -nt $bin ] || [ tests/fuzz/fuzz_common.hpp -nt $bin ] || [ $B/libjvs_internal.a -nt $bin ]; then
    clang++ "${FLAGS[@]}" $src $B/libjvs_internal.a $DEPS -lpthread -o $bin >$B/fuzz/$t.link.log 2>&1 ||
      { cat $B/fuzz/$t.link.log; return 1; }
  fi
}
# Two at a time: the machine has two cores.
pids=()
for t in "${TARGETS[@]}"; do
  link_one $t & pids+=($!)
  if [ ${#pids[@]} -ge 2 ]; then wait "${pids[0]}" || exit 1; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait $p || exit 1; done
echo "== built and linked ${#TARGETS[@]} targets in $(( $(date +%s) - t0 ))s"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

# One target: replay its regressions (every crash ever found stays fixed), then fuzz. Writes
# $B/fuzz/<t>.result: "ok <runs>" or a failure line.
run_one() {
  local t=$1 bin=$B/fuzz/$1 regs=() f
  for f in tests/fuzz/regressions/$t/*; do [ -f "$f" ] && regs+=("$f"); done
  if [ ${#regs[@]} -gt 0 ] && ! $bin "${regs[@]}" >$B/fuzz/$t.replay.log 2>&1; then
    echo "REGRESSION FAILED (see $B/fuzz/$t.replay.log)" >$B/fuzz/$t.result; return
  fi
  mkdir -p $B/corpus/$t $B/artifacts/$t
  $bin $B/corpus/$t tests/fuzz/corpus/$t -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
    -max_len=8192 -print_final_stats=1 -artifact_prefix=$B/artifacts/$t/ >$B/fuzz/$t.log 2>&1
  local rc=$? runs
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' $B/fuzz/$t.log | grep -o '[0-9]*$')
  if [ $rc -ne 0 ]; then
    echo "CRASH (rc=$rc) -> $B/artifacts/$t/$(ls -t $B/artifacts/$t | head -1)" >$B/fuzz/$t.result
  else
    echo "ok, ${#regs[@]} regression input(s) replayed, ${runs:-?} runs" >$B/fuzz/$t.result
  fi
}
echo "== fuzzing ${#TARGETS[@]} targets for ${SECONDS_PER_TARGET}s each, two at a time"
pids=()
for t in "${TARGETS[@]}"; do
  rm -f $B/fuzz/$t.result
  run_one $t & pids+=($!)
  if [ ${#pids[@]} -ge 2 ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait $p; done

status=0
summary=()
for t in "${TARGETS[@]}"; do
  r=$(cat $B/fuzz/$t.result 2>/dev/null || echo "NO RESULT")
  summary+=("$t: $r")
  case $r in ok*) ;; *) status=1
    [ -f $B/fuzz/$t.log ] && grep -v '^#' $B/fuzz/$t.log | tail -60
    [ -f $B/fuzz/$t.replay.log ] && tail -40 $B/fuzz/$t.replay.log;;
  esac
done
echo "== fuzz summary"
printf '  %s\n' "${summary[@]}"
passed=0; failed=0
for s in "${summary[@]}"; do case $s in *": ok"*) passed=$((passed+1));; *) failed=$((failed+1));; esac; done
echo "fuzz: $passed passed, $failed failed"
exit $status
