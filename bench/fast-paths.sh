#!/usr/bin/env bash
# The fast-path table of issue 15: cdb-setup's everyday commands against
# the shell script they replaced (bench/baseline-init-secrets.sh: mkdir,
# 3× openssl, chmod), on the real CDB compose files, alternating tool and
# baseline in one run (bench/fastpaths), medians of wall and CPU time.
#
#   CDB_SETUP_CDB_REFERENCE  a clone of the CDB repository (default: the
#                            verbatim copy of its compose files, internal/testenv/testdata/cdb-reference)
#   CDB_SETUP_BIN            a prebuilt cdb-setup to measure (default: build this tree)
#   CDB_SETUP_BEFORE_BIN     an older cdb-setup (e.g. main's): adds a table of it
#                            against this one, alternating in one run (the
#                            "baseline" columns are then the older binary)
#   CDB_BENCH_UP=1           also time `up` from `down -v` to healthy against
#                            `docker compose up -d --wait` (needs Docker, Compose
#                            v2 in CDB_SETUP_COMPOSE, and the images of
#                            scripts/server-images.sh)
#   CDB_BENCH_ONLY_UP=1      only the up table
#
# Usage: bench/fast-paths.sh [RUNS] [UP_RUNS]   (default 21 and 5)
set -euo pipefail
runs=${1:-21}
up_runs=${2:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/cdbfast.XXXXXX")
project=cdbfast$$
compose=${CDB_SETUP_COMPOSE:-}
cleanup() {
    if [[ -n "$compose" && -f "$work/repo/infrastructure/compose/base.yml" ]]; then
        "$compose" -p "$project" -f "$work/repo/infrastructure/compose/base.yml" down -v >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

bin=${CDB_SETUP_BIN:-}
if [[ -z "$bin" ]]; then
    bin=$work/cdb-setup
    (cd "$root" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$bin" ./cmd/cdb-setup)
fi
(cd "$root" && go build -o "$work/fastpaths" ./bench/fastpaths)

ref=${CDB_SETUP_CDB_REFERENCE:-$root/internal/testenv/testdata/cdb-reference}
repo=$work/repo
cp -r "$ref" "$repo"
chmod -R u+w "$repo"
rm -rf "$repo/.git"
git -C "$repo" init -q
export HOME=$work/home CDB_SETUP_STATE_DIR=$work/state
mkdir -p "$HOME"
sec=$work/secrets
base=$work/baseline
sec2=$work/secrets-empty
base2=$work/baseline-empty
"$bin" secrets init --no-input --repo "$repo" --secrets-path "$sec" >/dev/null 2>&1
sh "$root/bench/baseline-init-secrets.sh" "$base"

cases=$work/cases
cat >"$cases" <<CASES
secrets init, nothing to do ;; ≤ 1.5× shell, ≤ 20 ms CPU ;; - ;; $bin secrets init --no-input --repo $repo --secrets-path $sec ;; - ;; sh $root/bench/baseline-init-secrets.sh $base
secrets check ;; ≤ 1.5× shell, ≤ 20 ms CPU ;; - ;; $bin secrets check --repo $repo --secrets-path $sec ;; - ;; sh $root/bench/baseline-init-secrets.sh $base
secrets init, empty folder (fsynced) ;; ≤ 1.5× shell ;; rm -rf $sec2 ;; $bin secrets init --no-input --repo $repo --secrets-path $sec2 ;; rm -rf $base2 ;; sh $root/bench/baseline-init-secrets.sh $base2
version ;; ≤ 5 ms ;; - ;; $bin version ;; - ;; -
__complete secrets '' (a TAB) ;; ≤ 5 ms ;; - ;; $bin __complete secrets '' ;; - ;; -
doctor --offline ;; ≤ 100 ms ;; - ;; $bin doctor --offline --repo $repo --secrets-path $sec ;; - ;; -
doctor (Docker reachable) ;; ≤ 400 ms ;; - ;; $bin doctor --repo $repo --secrets-path $sec ;; - ;; -
CASES

echo "# cdb-setup fast paths ($(date -u +%Y-%m-%dT%H:%MZ))"
echo
echo "machine: $(uname -srm), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $("$bin" version 2>&1 | head -1)"
echo "compose files: $ref ($(ls "$repo/infrastructure/compose" | wc -l) files), $(ls "$sec" | wc -l) secrets"
echo
[[ "${CDB_BENCH_ONLY_UP:-}" == 1 ]] || "$work/fastpaths" -cases "$cases" -rounds "$runs"
if [[ -n "${CDB_SETUP_BEFORE_BIN:-}" && "${CDB_BENCH_ONLY_UP:-}" != 1 ]]; then
    old=$CDB_SETUP_BEFORE_BIN
    "$old" secrets init --no-input --repo "$repo" --secrets-path "$sec" >/dev/null 2>&1 || true
    cat >"$work/before-cases" <<CASES
secrets init, nothing to do ;; before → after ;; - ;; $bin secrets init --no-input --repo $repo --secrets-path $sec ;; - ;; $old secrets init --no-input --repo $repo --secrets-path $sec
secrets check ;; before → after ;; - ;; $bin secrets check --repo $repo --secrets-path $sec ;; - ;; $old secrets check --repo $repo --secrets-path $sec
secrets init, empty folder (fsynced) ;; before → after ;; rm -rf $sec2 ;; $bin secrets init --no-input --repo $repo --secrets-path $sec2 ;; rm -rf $sec2 ;; $old secrets init --no-input --repo $repo --secrets-path $sec2
version ;; before → after ;; - ;; $bin version ;; - ;; $old version
__complete secrets '' (a TAB) ;; before → after ;; - ;; $bin __complete secrets '' ;; - ;; $old __complete secrets ''
doctor (Docker reachable) ;; before → after ;; - ;; $bin doctor --repo $repo --secrets-path $sec ;; - ;; $old doctor --repo $repo --secrets-path $sec
CASES
    echo
    echo "Before ($old) and after ($bin), alternating in one run; the baseline columns are the before binary:"
    echo
    "$work/fastpaths" -cases "$work/before-cases" -rounds "$runs"
fi
echo
echo "CPU is user + system time of the process and the children it waited for."
echo "Non-zero exits are counted as failed runs (doctor exits 1 when it finds a problem;"
echo "the timing is still that of a full run). The baseline writes 3 files, unfsynced;"
echo "cdb-setup writes 10 (3 generated, 1 derived, 6 placeholders), each and the folder fsynced."

[[ "${CDB_BENCH_UP:-}" == 1 ]] || exit 0

# up from `down -v` to healthy on CDB's base.yml (redis + postgres): the
# images are the locally built cdb-setup-test/* (nothing can be pulled
# here), the container names made unique; everything else as in the file.
[[ -n "$compose" ]] || { echo "CDB_BENCH_UP needs CDB_SETUP_COMPOSE" >&2; exit 3; }
cdir=$repo/infrastructure/compose
sed -i -e 's#image: redis:7.4-alpine#image: cdb-setup-test/redis:7#' \
       -e 's#image: postgres:15-alpine#image: cdb-setup-test/postgres:15#' \
       -e "s#container_name: cdb_#container_name: ${project}_#" "$cdir/base.yml"
mkdir -p "$repo/infrastructure/database/migrations"
: >"$repo/infrastructure/database/schema.sql"
: >"$repo/infrastructure/database/migrations/002_orders_price_nullable.sql"
cat >"$repo/cdb-setup.yaml" <<YAML
version: 1
project: $project
compose_dir: infrastructure/compose
default_profile: base
profiles:
  base: [base.yml]
targets: [cdb_redis, cdb_postgres]
secrets:
  REDIS_PASSWORD: {kind: generated}
  POSTGRES_PASSWORD: {kind: generated, volume: postgres_data}
  GRAFANA_PASSWORD: {kind: generated, volume: grafana_data}
  POSTGRES_PASSWORD_DSN: {kind: external, optional: true, prompt: unused here}
  SMTP_USER: {kind: external, optional: true, prompt: unused here}
  SMTP_PASSWORD: {kind: external, optional: true, prompt: unused here}
  SMTP_FROM: {kind: external, optional: true, prompt: unused here}
  ALERT_EMAIL_TO: {kind: external, optional: true, prompt: unused here}
  MEXC_API_KEY.txt: {kind: external, optional: true, prompt: unused here}
  MEXC_API_SECRET.txt: {kind: external, optional: true, prompt: unused here}
YAML
usec=$work/secrets-up
"$bin" secrets init --no-input --repo "$repo" --secrets-path "$usec" >/dev/null 2>&1
down="$compose -p $project -f $cdir/base.yml down -v"
upcases=$work/upcases
cat >"$upcases" <<CASES
up from down -v to healthy (redis + postgres) ;; ≤ 1.0× compose ;; env SECRETS_PATH=$usec $down ;; $bin up --repo $repo --secrets-path $usec --project-name $project ;; env SECRETS_PATH=$usec $down ;; env SECRETS_PATH=$usec $compose -p $project -f $cdir/base.yml up -d --wait cdb_redis cdb_postgres
CASES
echo
"$work/fastpaths" -cases "$upcases" -rounds "$up_runs" -warmup 1
echo
echo "Baseline here: \`docker compose up -d --wait cdb_redis cdb_postgres\` on the same file and secrets."
