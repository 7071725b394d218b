#!/usr/bin/env bash
# Benchmarks `cdb-setup secrets init --no-input` against the shell baseline
# (bench/baseline-init-secrets.sh) on this machine: first run on an empty
# folder and the no-op second run, medians of repeated runs and the ratio;
# plus the release binary's size and the cold `cdb-setup version` time.
#
# Uses hyperfine when present, else a plain loop timed with date +%s%N.
# Usage: bench/secrets-init.sh [RUNS]   (default 30)
set -euo pipefail
runs=${1:-30}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

bin=$work/cdb-setup
(cd "$root" && CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -trimpath -ldflags "-s -w" -o "$bin" ./cmd/cdb-setup)
size=$(stat -c %s "$bin")

# The fixture repo modelled on CDB (all overlay files), as a git repo so the
# tool runs exactly as in a clone.
repo=$work/repo
cp -r "$root/internal/secrets/testdata/cdbrepo" "$repo"
git -C "$repo" init -q
export HOME=$work/home CDB_SETUP_STATE_DIR=$work/state
mkdir -p "$HOME"
sec=$work/secrets
base=$work/baseline

tool_first="rm -rf $sec; $bin secrets init --no-input --repo $repo --secrets-path $sec"
tool_again="$bin secrets init --no-input --repo $repo --secrets-path $sec"
shell_first="rm -rf $base; sh $root/bench/baseline-init-secrets.sh $base"
shell_again="sh $root/bench/baseline-init-secrets.sh $base"

median_ms() { # reads seconds, one per line; prints the median in ms
    sort -g | awk '{a[NR]=$1} END {m = (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2; printf "%.2f", m*1000}'
}

measure() { # name, command → median ms (rm -rf of the first-run cases is included in both)
    local name=$1 cmd=$2
    if command -v hyperfine >/dev/null; then
        hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/$name.json" "$cmd" >/dev/null
        jq -r '.results[0].times[]' "$work/$name.json" | median_ms
    else
        for _ in $(seq 3); do sh -c "$cmd" >/dev/null 2>&1; done
        for _ in $(seq "$runs"); do
            s=$(date +%s%N); sh -c "$cmd" >/dev/null 2>&1; e=$(date +%s%N)
            echo "($e - $s) / 1000000000" | bc -l
        done | median_ms
    fi
}

# hyperfine -N cannot run the "rm -rf; ..." compound commands: wrap them.
wrap() { echo "sh -c '$1'"; }
t1=$(measure tool_first "$(wrap "$tool_first")")
s1=$(measure shell_first "$(wrap "$shell_first")")
sh -c "$tool_first" 2>/dev/null; sh -c "$shell_first"
t2=$(measure tool_again "$(wrap "$tool_again")")
s2=$(measure shell_again "$(wrap "$shell_again")")
# Cold start: the very first exec of a fresh copy of the binary (not yet
# run, so nothing of it is in the dynamic state of any process), then the
# median of fresh processes. Dropping the page cache needs root and would
# disturb everyone else on a shared machine, so it is not done.
cp "$bin" "$work/cdb-setup-fresh"
s=$(date +%s%N); "$work/cdb-setup-fresh" version >/dev/null; e=$(date +%s%N)
first=$(awk -v n=$((e - s)) 'BEGIN {printf "%.2f", n/1e6}')
cold=$(measure version "$bin version")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }
cat <<REPORT
machine: $(uname -srm), $(nproc) cores, $(go version | awk '{print $3}')
runs per case: $runs (hyperfine: $(command -v hyperfine >/dev/null && echo yes || echo no))
secrets init, empty folder:   cdb-setup ${t1} ms   baseline ${s1} ms   ratio $(ratio "$t1" "$s1")
secrets init, second (no-op): cdb-setup ${t2} ms   baseline ${s2} ms   ratio $(ratio "$t2" "$s2")
binary size (linux/amd64, -s -w): $size bytes ($(awk -v s="$size" 'BEGIN {printf "%.1f", s/1048576}') MiB)
cdb-setup version: first exec of a fresh copy ${first} ms, median of fresh processes ${cold} ms
note: cdb-setup writes 10 files (3 generated, 1 derived, 6 placeholders) with fsync per
file and folder and reads 7 compose files; the baseline writes 3 files without fsync.
REPORT
