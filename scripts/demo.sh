#!/usr/bin/env bash
# The main job of jvs on a local directory: init, snapshot, change, snapshot, history, restore,
# fork, verify -- printed as a user sees it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
JVS="$PWD/build/jvs"
work=$(mktemp -d /tmp/jvs-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

run() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

run "$JVS" --version
run "$JVS" init demo
cd demo/main
printf 'learning_rate: 0.01\n' > config.yaml
mkdir -p data && head -c 100000 /dev/urandom > data/train.bin
ln -s config.yaml current-config
run "$JVS" snapshot "baseline" --tag v1
printf 'learning_rate: 0.5   # an agent broke this\n' > config.yaml
echo "scratch" > notes.txt
run "$JVS" snapshot "agent run 1" --tag run1
run "$JVS" history
run cat config.yaml
run "$JVS" restore v1
run cat config.yaml
run ls -la
run "$JVS" restore HEAD
run "$JVS" worktree fork v1 experiment
run "$JVS" worktree list
run "$JVS" verify --all
run "$JVS" info
echo
echo "demo finished in $work (removed on exit)"
