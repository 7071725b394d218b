#!/bin/sh
# Benchmark of `cdb-setup up` against `docker compose up --wait` and a 5 s
# polling loop (stack_up.ps1) on the demo stack, in one run, alternating:
#   (a) detection latency: the last service's transition to healthy (the
#       Engine's event timestamp) until the tool exits;
#   (b) time to report a crash-looping service: its first crash until the
#       tool reports.
# Needs a Docker Engine and Compose v2: CDB_SETUP_COMPOSE (scripts/test.sh
# builds it from the module cache) or `docker compose`.
# Usage: bench/up-latency.sh [rounds] [crash-rounds]   (writes the tables to stdout)
set -eu
rounds=${1:-7}
crash_rounds=${2:-3}
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/cdbtbench.XXXXXX")
project=cdbtbench$$
image=cdbtbench-svc:$$
cleanup() {
	docker image rm -f "$image" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

compose=${CDB_SETUP_COMPOSE:-}
if [ -z "$compose" ]; then
	echo "set CDB_SETUP_COMPOSE to a Compose v2 binary (scripts/test.sh builds one)" >&2
	exit 3
fi

cd "$repo"
go build -o "$work/cdb-setup" ./cmd/cdb-setup
go build -o "$work/uplatency" ./bench/uplatency
./examples/demo/build.sh >/dev/null

# A copy of the demo whose manifest waits for the long-running services
# (compose --wait fails on a one-shot that exits 0, so it is left out for
# all tools) and has a "crash" profile where demo_app crashes on start.
cp -r examples/demo "$work/demo"
cat >"$work/demo/compose/crash.yml" <<'YAML'
services:
  demo_app:
    environment:
      FAKE_MODE: crash
YAML
sed -i.bak \
	-e 's/^targets: .*/targets: [demo_redis, demo_postgres, demo_grafana, demo_app]/' \
	-e 's/^  prod: \[base.yml\]/  prod: [base.yml]\n  crash: [base.yml, dev.yml, crash.yml]/' \
	"$work/demo/cdb-setup.yaml"
mkdir -m 700 "$work/secrets"
for n in REDIS_PASSWORD POSTGRES_PASSWORD GRAFANA_PASSWORD; do
	head -c 512 /dev/urandom | LC_ALL=C tr -dc 'A-Za-z0-9' | head -c 32 >"$work/secrets/$n"
	chmod 644 "$work/secrets/$n"
done

export DEMO_IMAGE="$image"
DOCKER_BUILDKIT=0 docker build -q -t "$image" "$work/demo/image" >/dev/null

echo "# cdb-setup up latency ($(date -u +%Y-%m-%dT%H:%MZ), $(docker version --format 'Engine {{.Server.Version}}, API {{.Server.APIVersion}}'), compose $("$compose" version --short))"
echo
"$work/uplatency" -repo "$work/demo" -secrets "$work/secrets" -cdb-setup "$work/cdb-setup" \
	-compose "$compose" -project "$project" -rounds "$rounds" -crash-rounds "$crash_rounds"
