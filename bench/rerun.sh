#!/bin/sh
# Benchmark of the re-run on a finished machine (issue 14): the demo stack
# (examples/demo) set up once by the wizard (`cdb-setup --yes`), then the
# wizard run again N times with --no-input. Each re-run must exit 0, say
# "Everything already done ✓" and keep every container (same ID, same start:
# nothing recreated, the one-shot not started again); the median wall time
# must be under 1 s. Prints a Markdown report; exits 1 when a re-run is not
# "done" or the median is 1 s or more.
# Needs a Docker Engine and Compose v2 (CDB_SETUP_COMPOSE, or `docker compose`).
# Usage: bench/rerun.sh [rounds]   (default 5)
set -eu
rounds=${1:-5}
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/cdbtrerun.XXXXXX")
project=cdbtrerun$$
image=cdbtrerun-svc:$$
bin="$work/cdb-setup"
cleanup() {
	if [ -x "$bin" ]; then
		"$bin" --repo "$work/demo" --secrets-path "$work/secrets" down --volumes --yes >/dev/null 2>&1 || true
	fi
	docker image rm -f "$image" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

cd "$repo"
go build -o "$bin" ./cmd/cdb-setup
./examples/demo/build.sh >/dev/null

# A copy of the demo under its own project, image and free ports, so it runs
# next to another copy; compose builds the image on the first run, as it
# does for a new user.
freeport() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
cp -r examples/demo "$work/demo"
for p in 16379 15432 13000; do
	q=$(freeport)
	sed -i.bak "s/127.0.0.1:$p/127.0.0.1:$q/" "$work/demo/compose/dev.yml" "$work/demo/cdb-setup.yaml"
done
sed -i.bak "s/^project: .*/project: $project/" "$work/demo/cdb-setup.yaml"
sed -i.bak "s/cdbdemo-svc:dev/$image/" "$work/demo/compose/base.yml"
rm -f "$work"/demo/*.bak "$work"/demo/compose/*.bak

# A machine of its own: home, state folder, no SECRETS_PATH.
export HOME="$work/home"
mkdir -p "$HOME"
unset XDG_STATE_HOME XDG_CONFIG_HOME CDB_SETUP_STATE_DIR SECRETS_PATH STACK_NAME DEMO_IMAGE 2>/dev/null || true
run() { "$bin" --repo "$work/demo" --secrets-path "$work/secrets" "$@"; }
ms() { echo $(($(date +%s%N) / 1000000)); }
containers() {
	docker ps -aq --filter "label=com.docker.compose.project=$project" |
		xargs docker inspect -f '{{.Name}} {{.Id}} {{.State.StartedAt}}' | sort
}

t0=$(ms)
if ! run --yes --persist none --hook=false >"$work/first.log" 2>&1; then
	echo "first run failed:" >&2
	cat "$work/first.log" >&2
	exit 1
fi
first=$(($(ms) - t0))
before=$(containers)

times=""
fail=0
i=0
while [ "$i" -lt "$rounds" ]; do
	i=$((i + 1))
	t0=$(ms)
	code=0
	run --no-input >"$work/rerun.log" 2>&1 || code=$?
	t=$(($(ms) - t0))
	times="$times $t"
	if [ "$code" -ne 0 ] || ! grep -q "Everything already done ✓" "$work/rerun.log"; then
		echo "re-run $i: exit $code, not done:" >&2
		cat "$work/rerun.log" >&2
		fail=1
	fi
	if [ "$(containers)" != "$before" ]; then
		echo "re-run $i recreated or restarted a container:" >&2
		echo "$before" >&2
		containers >&2
		fail=1
	fi
done
median=$(echo $times | tr ' ' '\n' | sort -n | sed -n "$(((rounds + 1) / 2))p")

echo "# Re-run on a finished machine ($(date -u +%Y-%m-%dT%H:%MZ), $(docker version --format 'Engine {{.Server.Version}}, API {{.Server.APIVersion}}'))"
echo
echo "The demo stack (5 services, one a one-shot) set up by \`cdb-setup --yes\` in ${first} ms"
echo "(secrets generated, image built by compose, stack started and healthy), then"
echo "\`cdb-setup --no-input\` $rounds times, each on the finished machine."
echo
echo "| | median | all |"
echo "|---|---|---|"
echo "| re-run (Everything already done ✓) | $median ms |$(echo $times | sed 's/ /, /g') ms |"
echo
echo "Containers kept: $(echo "$before" | wc -l) of $(echo "$before" | wc -l), same ID and start time after every re-run."
echo
echo "Last re-run's output:"
echo
echo '```'
sed "s#$work#<tmp>#g" "$work/rerun.log"
echo '```'
if [ "$fail" -ne 0 ]; then
	exit 1
fi
if [ "$median" -ge 1000 ]; then
	echo "median $median ms: not under 1 s" >&2
	exit 1
fi
