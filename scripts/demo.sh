#!/usr/bin/env bash
# The main job of jvs on a local directory: init, snapshot, change, snapshot, history, restore,
# fork, verify -- printed as a user sees it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
export PATH="$PWD/build:$PATH"   # the jvs just built
work=$(mktemp -d /tmp/jvs-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

# Prints each command (bold on a terminal) the way a user would type it, then runs it.
bold='' plain=''
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then bold=$'\033[1m' plain=$'\033[0m'; fi
run() {
  local shown="" a
  for a in "$@"; do
    case $a in *[!A-Za-z0-9_./=:-]*|'') shown+=" '${a//\'/\'\\\'\'}'" ;; *) shown+=" $a" ;; esac
  done
  printf '\n%s$%s%s\n' "$bold" "$shown" "$plain"
  "$@"
}

say() { printf '\n%s# %s%s\n' "$bold" "$*" "$plain"; }

run jvs --version
run jvs init demo
run cd demo/main
say "a workspace: a config, 100 kB of training data, a symlink"
printf 'learning_rate: 0.01\n' > config.yaml
mkdir -p data && head -c 100000 /dev/urandom > data/train.bin
ln -s config.yaml current-config
run jvs snapshot "baseline" --tag v1
say "an agent run changes the config and leaves a scratch file"
printf 'learning_rate: 0.5   # an agent broke this\n' > config.yaml
echo "scratch" > notes.txt
run jvs snapshot "agent run 1" --tag run1
run jvs history
run cat config.yaml
say "back to the baseline, in place: only config.yaml is rewritten, notes.txt goes"
run jvs restore v1
run cat config.yaml
run ls -la
run jvs restore HEAD
say "a parallel copy of the baseline for a second experiment"
run jvs worktree fork v1 experiment
run jvs worktree list
run jvs verify --all
run jvs info
echo
echo "demo finished in $work (removed on exit)"
