#!/bin/sh
# Benchmark of an in-place rotation of POSTGRES_PASSWORD, REDIS_PASSWORD and
# GRAFANA_PASSWORD on the running test stack (`cdb-setup secrets rotate`
# three times: data kept) against the only alternative before issue 12,
# `cdb-setup down --volumes` + `cdb-setup up` with new passwords (data lost).
# Median of N rounds each (default 5). Not a test: nothing is asserted.
#
# The stack: PostgreSQL 15 and Redis 7 from the images scripts/server-images.sh
# builds from Debian's packages (cdb-setup-test/postgres:15, .../redis:7);
# Grafana is the project's fake service (no Debian package), as in the tests.
# Needs a Docker Engine and Compose v2 as CDB_SETUP_COMPOSE.
# Usage: bench/rotate.sh [rounds]   (writes a table to stdout)
set -eu
rounds=${1:-5}
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/cdbtrot.XXXXXX")
project=cdbtrotbench$$
image=cdbtrotbench-svc:$$
compose=${CDB_SETUP_COMPOSE:-}
if [ -z "$compose" ]; then
	echo "set CDB_SETUP_COMPOSE to a Compose v2 binary (scripts/test.sh builds one)" >&2
	exit 3
fi
for img in cdb-setup-test/postgres:15 cdb-setup-test/redis:7; do
	docker image inspect "$img" >/dev/null 2>&1 || { echo "missing image $img: run scripts/server-images.sh" >&2; exit 3; }
done
cleanup() {
	"$work/cdb-setup" --repo "$work/repo" --secrets-path "$work/secrets" --yes down --volumes >/dev/null 2>&1 || true
	docker image rm -f "$image" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
export CDB_SETUP_STATE_DIR="$work/state"

cd "$repo"
go build -o "$work/cdb-setup" ./cmd/cdb-setup
mkdir -p "$work/img" "$work/img/data" "$work/repo/compose"
CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags "-s -w" -o "$work/img/svc" ./internal/fakesvc
cp "$work/img/svc" "$work/img/grafana"
cat >"$work/img/Dockerfile" <<'DF'
FROM scratch
COPY svc /svc
COPY grafana /bin/grafana
COPY --chown=472:472 data /data
HEALTHCHECK --interval=1s --timeout=3s --retries=3 CMD ["/svc", "probe"]
ENTRYPOINT ["/svc"]
DF
DOCKER_BUILDKIT=0 docker build -q -t "$image" "$work/img" >/dev/null

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pg=$(port); rd=$(port); gf=$(port)
cat >"$work/repo/cdb-setup.yaml" <<YAML
version: 1
project: $project
compose_dir: compose
profiles:
  dev: [base.yml]
default_profile: dev
targets: [cdb_postgres, cdb_redis, cdb_grafana]
secrets:
  POSTGRES_PASSWORD: {kind: generated, volume: postgres_data}
  REDIS_PASSWORD: {kind: generated}
  GRAFANA_PASSWORD: {kind: generated, volume: grafana_data}
checks:
  - {kind: postgres-login, service: cdb_postgres, secret: POSTGRES_PASSWORD, address: "127.0.0.1:$pg", user: claire_user, database: claire_de_binare}
  - {kind: redis-auth, service: cdb_redis, secret: REDIS_PASSWORD, address: "127.0.0.1:$rd"}
  - {kind: http-basic-auth, service: cdb_grafana, secret: GRAFANA_PASSWORD, address: "127.0.0.1:$gf", user: admin, path: /api/user}
YAML
cat >"$work/repo/compose/base.yml" <<YAML
name: $project
services:
  cdb_postgres:
    image: cdb-setup-test/postgres:15
    environment: {POSTGRES_DB: claire_de_binare, POSTGRES_USER: claire_user, POSTGRES_PASSWORD_FILE: /run/secrets/postgres_password}
    secrets: [postgres_password]
    volumes: [postgres_data:/var/lib/postgresql/data]
    healthcheck: {test: ["CMD-SHELL", "pg_isready -U claire_user -d claire_de_binare"], interval: 2s, timeout: 3s, retries: 5, start_period: 60s}
    ports: ["127.0.0.1:$pg:5432"]
  cdb_redis:
    image: cdb-setup-test/redis:7
    secrets: [redis_password]
    volumes: [redis_data:/data]
    command: ["sh", "-c", "exec redis-server --requirepass \"\$\$(cat /run/secrets/redis_password)\""]
    healthcheck: {test: ["CMD", "sh", "-c", "REDISCLI_AUTH=\"\$\$(cat /run/secrets/redis_password)\" redis-cli ping | grep -q PONG"], interval: 2s, timeout: 3s, retries: 5, start_period: 60s}
    ports: ["127.0.0.1:$rd:6379"]
  cdb_grafana:
    image: $image
    user: "472"
    environment: {FAKE_MODE: grafana, FAKE_PASSWORD_FILE: /run/secrets/grafana_password, FAKE_DATA_DIR: /data, FAKE_HTTP_PORT: "3000"}
    secrets: [grafana_password]
    volumes: [grafana_data:/data]
    ports: ["127.0.0.1:$gf:3000"]
volumes:
  postgres_data:
  redis_data:
  grafana_data:
secrets:
  postgres_password:
    file: \${SECRETS_PATH}/POSTGRES_PASSWORD
  redis_password:
    file: \${SECRETS_PATH}/REDIS_PASSWORD
  grafana_password:
    file: \${SECRETS_PATH}/GRAFANA_PASSWORD
YAML
mkdir -m 700 "$work/secrets"
cdb() { "$work/cdb-setup" --repo "$work/repo" --secrets-path "$work/secrets" "$@" >>"$work/log" 2>&1; }
now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) printf "%.2f\n", a[(NR+1)/2]; else printf "%.2f\n", (a[NR/2]+a[NR/2+1])/2}'; }
up() { # up until every login passes (the first login may meet postgres' init server)
	for _ in 1 2 3 4 5 6 7 8 9 10; do cdb up && return 0; sleep 2; done
	echo "up failed; see $work/log" >&2; exit 1
}

cdb secrets init
up
: >"$work/inplace"; : >"$work/wipe"
i=0
while [ "$i" -lt "$rounds" ]; do
	t0=$(now)
	for n in POSTGRES_PASSWORD REDIS_PASSWORD GRAFANA_PASSWORD; do cdb secrets rotate "$n" || { echo "rotate $n failed; see $work/log" >&2; exit 1; }; done
	t1=$(now)
	printf '%.2f\n' "$(echo "$t1 - $t0" | bc)" >>"$work/inplace"

	t0=$(now)
	cdb --yes down --volumes
	for n in POSTGRES_PASSWORD REDIS_PASSWORD GRAFANA_PASSWORD; do
		head -c 512 /dev/urandom | LC_ALL=C tr -dc 'A-Za-z0-9' | head -c 32 >"$work/secrets/$n"
	done
	up
	t1=$(now)
	printf '%.2f\n' "$(echo "$t1 - $t0" | bc)" >>"$work/wipe"
	i=$((i + 1))
done

echo "# Rotating POSTGRES_PASSWORD, REDIS_PASSWORD and GRAFANA_PASSWORD ($(date -u +%Y-%m-%dT%H:%MZ), $(docker version --format 'Engine {{.Server.Version}}'), $(nproc) cores, median of $rounds)"
echo
echo "| method | data | median (s) | all rounds (s) |"
echo "|---|---|---|---|"
echo "| \`cdb-setup secrets rotate\` ×3 on the running stack (in place) | kept | $(median <"$work/inplace") | $(tr '\n' ' ' <"$work/inplace") |"
echo "| \`cdb-setup down --volumes\` + new files + \`cdb-setup up\` | **lost** | $(median <"$work/wipe") | $(tr '\n' ' ' <"$work/wipe") |"
