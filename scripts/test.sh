#!/usr/bin/env bash
# scripts/test.sh: install what the tests need, then run every check and test.
#
#   scripts/test.sh            full run (what CI does, via .ci/run)
#   scripts/test.sh --quick    local iteration: no re-verification of installed
#                              tools, no fuzzing
#
# Works on a fresh Debian 12 (root, or a user with sudo for apt). Everything
# except apt packages goes under $REPO/.cache (git-ignored). See scripts/README.md.
#
# Environment:
#   CDB_SETUP_REQUIRE_ALL=1   passed to the tests: a missing component fails
#                             instead of skipping (CI sets it in .ci/run)
#   CDB_SETUP_FUZZTIME        -fuzztime per fuzz target (default 10s)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
SCRIPT_NAME=test.sh
# shellcheck source=scripts/tools.sh
source "$REPO/scripts/tools.sh" # pinned versions, timed phases, installers
# CI may start us with no stdin at all: give children a harmless one.
{ true <&0; } 2>/dev/null || exec </dev/null

# ---- pinned versions (gitleaks and Compose: scripts/tools.sh) -------------

APT_PACKAGES=(
    bash zsh dash fish                           # real shells
    gnome-keyring libsecret-tools dbus           # real Secret Service
    wine64 gcc-mingw-w64-x86-64-win32            # Windows code paths under Wine
    pre-commit git openssl hyperfine tmux ca-certificates
    shellcheck                                   # actionlint checks run: scripts with it
    gcc libc6-dev                                # cgo, for go test -race
    debootstrap                                  # real postgres/redis images (server-images)
    age openssh-client                           # team: the age CLI (interop) and ssh-keygen (real keys)
    patch diffutils                              # third-party check: the patched copy is upstream + its patch
)
GORELEASER_MODULE=github.com/goreleaser/goreleaser/v2
GORELEASER_VERSION=v2.15.1
ACTIONLINT_MODULE=github.com/rhysd/actionlint
ACTIONLINT_VERSION=v1.7.12
STATICCHECK_MODULE=honnef.co/go/tools
# staticcheck 2026.2.2, the newest release the module proxy serves; run with Go 1.26.
STATICCHECK_VERSION=v0.8.2

# ---- layout and exported environment --------------------------------------

CACHE="$REPO/.cache"
BIN="$CACHE/bin"
# Our DOCKER_CONFIG (below) would hide the user's current docker context (rootless,
# Desktop, ...): keep talking to the same engine through DOCKER_HOST.
if [[ -z "${DOCKER_HOST:-}" ]] && command -v docker >/dev/null; then
    _ctx=$(docker context show 2>/dev/null || true)
    if [[ -n "$_ctx" && "$_ctx" != default ]]; then
        DOCKER_HOST=$(docker context inspect "$_ctx" \
            --format '{{.Endpoints.docker.Host}}' 2>/dev/null || true)
        [[ -z "$DOCKER_HOST" ]] || export DOCKER_HOST
    fi
    unset _ctx
fi
export DOCKER_CONFIG="$CACHE/docker-config"
export CDB_SETUP_COMPOSE="$DOCKER_CONFIG/cli-plugins/docker-compose"
export WINEPREFIX="$CACHE/wine"
WINE64=/usr/lib/wine/wine64
WINESERVER=/usr/lib/wine/wineserver64
export PATH="$BIN:/usr/local/go/bin:$PATH"
if [[ -n "${CDB_SETUP_REQUIRE_ALL:-}" ]]; then export CDB_SETUP_REQUIRE_ALL; fi
FUZZTIME=${CDB_SETUP_FUZZTIME:-10s}
QUICK=0

# ---- output and timing helpers --------------------------------------------

FAILED_CHECKS=()

# Check/test phase: a failure is recorded and the next check still runs, so
# one CI run reports every failing check. The function runs in a subshell with
# errexit in force (errexit is ignored inside `if fn`, so no `if` here).
check() { # check NAME FUNCTION
    local name=$1 fn=$2 start rc=0
    start=$(now_us)
    log ""
    log "==> [$name] $(date -u +%H:%M:%S)"
    set +e
    (set -e; "$fn")
    rc=$?
    set -e
    if ((rc == 0)); then
        record "$name" "$start" ok
        log "<== [$name] ok ($(fmt_us "${PHASE_TIMES[-1]}"))"
    else
        record "$name" "$start" "FAILED (exit $rc)"
        FAILED_CHECKS+=("$name")
        log "<== [$name] FAILED exit $rc ($(fmt_us "${PHASE_TIMES[-1]}"))"
    fi
}

summary() {
    local rc=$?
    print_phase_table
    if ((rc == 0)); then
        log "test.sh: PASS"
    else
        log "test.sh: FAIL${FAILED_CHECKS[*]:+ (${FAILED_CHECKS[*]})}"
    fi
}

as_root() {
    if ((EUID == 0)); then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo "$@"
    else
        die "need root or sudo to run: $*"
    fi
}

# ---- setup phases ---------------------------------------------------------

phase_apt() {
    local pkg status missing=()
    for pkg in "${APT_PACKAGES[@]}"; do
        status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
        if [[ "$status" != "install ok installed" ]]; then
            missing+=("$pkg")
        fi
    done
    if ((${#missing[@]} == 0)); then
        log "all ${#APT_PACKAGES[@]} apt packages already installed"
        return
    fi
    log "installing apt packages: ${missing[*]}"
    local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600)
    as_root "${apt[@]}" update
    as_root "${apt[@]}" install -y --no-install-recommends "${missing[@]}"
}

phase_go() {
    command -v go >/dev/null || die "go not found (expected at /usr/local/go/bin)"
    go version
    mkdir -p "$BIN"
}

phase_gitleaks() {
    install_go_tool gitleaks "$GITLEAKS_MODULE" "$GITLEAKS_VERSION"
    # (`gitleaks version` prints no version when built by go install.)
    gitleaks help >/dev/null
    log "gitleaks runs: $(command -v gitleaks)"
}

phase_goreleaser() {
    install_go_tool goreleaser "$GORELEASER_MODULE" "$GORELEASER_VERSION"
    goreleaser --version >/dev/null
    log "goreleaser runs: $(command -v goreleaser)"
}

phase_staticcheck() {
    install_go_tool staticcheck "$STATICCHECK_MODULE" "$STATICCHECK_VERSION" "$STATICCHECK_MODULE/cmd/staticcheck"
    staticcheck -version
}

phase_actionlint() {
    install_go_tool actionlint "$ACTIONLINT_MODULE" "$ACTIONLINT_VERSION" "$ACTIONLINT_MODULE/cmd/actionlint"
    log "actionlint runs: $(command -v actionlint) (shellcheck: $(command -v shellcheck || echo none))"
}

# Compose v2 as a CLI plugin under our own DOCKER_CONFIG (never the user's
# ~/.docker).
phase_compose() {
    mkdir -p "$DOCKER_CONFIG"
    [[ -f "$DOCKER_CONFIG/config.json" ]] || echo '{}' >"$DOCKER_CONFIG/config.json"
    install_compose "$CDB_SETUP_COMPOSE"
}

# Prove compose works against the running engine: build a FROM scratch image
# from a throwaway static Go binary, `up -d --wait` until healthy, tear down.
phase_compose_verify() {
    if ! command -v docker >/dev/null; then
        [[ -z "${CDB_SETUP_REQUIRE_ALL:-}" ]] || die "docker CLI not found"
        log "WARNING: docker CLI not found: skipping the compose check (Docker tests will skip)"
        return
    fi
    if ! docker info >/dev/null 2>&1; then
        [[ -z "${CDB_SETUP_REQUIRE_ALL:-}" ]] || die "Docker Engine not reachable (docker info failed)"
        log "WARNING: Docker Engine not reachable: skipping the compose check (Docker tests will skip)"
        return
    fi
    docker version --format 'docker client {{.Client.Version}}, engine {{.Server.Version}} (API {{.Server.APIVersion}})'
    docker compose version

    local tmp tag project rc=0
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/cdb-compose-smoke.XXXXXX")
    project="cdbci-smoke-$$"
    tag="cdb-setup-ci-smoke:$$"
    # The service is healthy once it sees its file secret and can write to
    # its volume: this exercises what the real stack uses (secrets, volumes,
    # two networks, depends_on: service_healthy) against the engine's API.
    cat >"$tmp/main.go" <<'GO'
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "probe" {
		b, err := os.ReadFile("/run/secrets/smoke_value")
		if err != nil || string(b) != "smoke" {
			os.Exit(1)
		}
		if err := os.WriteFile("/data/probe", b, 0o600); err != nil {
			os.Exit(1)
		}
		return
	}
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM, syscall.SIGINT)
	<-c
}
GO
    printf 'module smoke\n\ngo 1.22\n' >"$tmp/go.mod"
    printf 'smoke' >"$tmp/smoke_value"
    cat >"$tmp/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY svc /svc
HEALTHCHECK --interval=1s --timeout=3s --retries=5 CMD ["/svc", "probe"]
ENTRYPOINT ["/svc"]
DOCKERFILE
    cat >"$tmp/compose.yaml" <<YAML
name: $project
services:
  db:
    image: $tag
    secrets: [smoke_value]
    volumes: ["data:/data"]
    networks: [back]
  app:
    image: $tag
    secrets: [smoke_value]
    volumes: ["data:/data"]
    networks: [front, back]
    depends_on:
      db:
        condition: service_healthy
secrets:
  smoke_value:
    file: ./smoke_value
volumes:
  data: {}
networks:
  front: {}
  back: {}
YAML
    (cd "$tmp" && CGO_ENABLED=0 GOOS=linux go build -o svc .)
    # Legacy builder: no buildx plugin is assumed, and no registry is needed.
    DOCKER_BUILDKIT=0 docker build -q -t "$tag" "$tmp" >/dev/null || rc=$?
    if ((rc == 0)); then
        docker compose -f "$tmp/compose.yaml" up -d --wait --wait-timeout 60 || rc=$?
        docker compose -f "$tmp/compose.yaml" ps || true
        ((rc == 0)) || docker compose -f "$tmp/compose.yaml" logs || true
        docker compose -f "$tmp/compose.yaml" down --volumes --timeout 5 || rc=$?
    fi
    docker image rm "$tag" >/dev/null 2>&1 || true
    rm -rf "$tmp"
    ((rc == 0)) || die "docker compose $COMPOSE_VERSION does not work against this engine"
    log "compose smoke test passed (up --wait reached healthy, down cleaned up)"
}

# Private Wine prefix with the bcryptprimitives.dll shim (Wine 8 lacks it and
# every Go 1.22+ Windows binary needs it), plus go_windows_amd64_exec on PATH.
# The real PostgreSQL 15 and Redis 7 images (cdb-setup-test/postgres:15,
# cdb-setup-test/redis:7) from Debian's packages: scripts/server-images.sh
# rebuilds them only when its recipe changed (5-15 min the first time).
phase_server_images() {
    if ! command -v docker >/dev/null || ! docker info >/dev/null 2>&1; then
        [[ -z "${CDB_SETUP_REQUIRE_ALL:-}" ]] || die "Docker Engine not reachable: cannot build the server images"
        log "WARNING: no Docker Engine: skipping the server images (the real-server tests will skip)"
        return
    fi
    "$REPO/scripts/server-images.sh"
}

phase_wine() {
    [[ -x "$WINE64" ]] || die "$WINE64 not found (apt-get install wine64)"
    local shim_dir="$CACHE/wine-shim" shim
    shim="$shim_dir/bcryptprimitives.dll"
    mkdir -p "$shim_dir"
    if [[ ! -f "$shim" || "$REPO/scripts/wine/bcryptprimitives.c" -nt "$shim" ||
        "$REPO/scripts/wine/bcryptprimitives.def" -nt "$shim" ]]; then
        log "building $shim"
        x86_64-w64-mingw32-gcc -shared -O2 -s -o "$shim.tmp" \
            "$REPO/scripts/wine/bcryptprimitives.c" "$REPO/scripts/wine/bcryptprimitives.def" -ladvapi32
        mv -f "$shim.tmp" "$shim"
    fi
    # The stamp is written only after wineboot finished: an interrupted
    # init is redone from scratch.
    if [[ ! -f "$WINEPREFIX/.cdb-setup-prefix-ok" ]]; then
        log "creating Wine prefix $WINEPREFIX"
        rm -rf "$WINEPREFIX"
        mkdir -p "$WINEPREFIX"
        # (A "syswow64\rundll32.exe" message is expected: no 32-bit Wine.)
        WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml,winemenubuilder.exe=d" \
            "$WINE64" wineboot --init
        "$WINESERVER" -w
        "$WINE64" --version >"$WINEPREFIX/.cdb-setup-prefix-ok"
    fi
    local sys32="$WINEPREFIX/drive_c/windows/system32"
    [[ -d "$sys32" ]] || die "Wine prefix has no $sys32"
    if ! cmp -s "$shim" "$sys32/bcryptprimitives.dll"; then
        cp -f "$shim" "$sys32/bcryptprimitives.dll"
        log "installed bcryptprimitives.dll shim into the prefix"
    fi
    mkdir -p "$BIN"
    ln -sfn "$REPO/scripts/wine/go_windows_amd64_exec" "$BIN/go_windows_amd64_exec"
    [[ "$(command -v go_windows_amd64_exec)" == "$BIN/go_windows_amd64_exec" ]] ||
        die "go_windows_amd64_exec is not first on PATH"
}

# Prove a Go Windows binary runs under Wine, the exit code comes through, and
# `GOOS=windows go test` works on a real package of ours.
phase_wine_verify() {
    local tmp out rc=0
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/cdb-wine-smoke.XXXXXX")
    cat >"$tmp/main.go" <<'GO'
package main

import (
	"crypto/rand"
	"fmt"
	"os"
)

func main() {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	fmt.Println("hello from windows")
	if len(os.Args) > 1 && os.Args[1] == "fail" {
		os.Exit(3)
	}
}
GO
    cat >"$tmp/main_test.go" <<'GO'
package main

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestUnderWine(t *testing.T) {
	if runtime.GOOS != "windows" {
		t.Fatalf("GOOS = %s, want windows", runtime.GOOS)
	}
	if os.Getenv("CDB_WINE_SMOKE_FAIL") == "1" {
		t.Fatal("failing on purpose: the failure must reach go test")
	}
	f := filepath.Join(os.TempDir(), "cdb-wine-smoke.txt")
	if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = os.Remove(f)
}
GO
    printf 'module winsmoke\n\ngo 1.22\n' >"$tmp/go.mod"
    (cd "$tmp" && GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go build -o hello.exe .)
    out=$(go_windows_amd64_exec "$tmp/hello.exe") || die "hello.exe failed under Wine (exit $?)"
    [[ "$out" == "hello from windows"* ]] || die "hello.exe printed: $out"
    go_windows_amd64_exec "$tmp/hello.exe" fail >/dev/null || rc=$?
    ((rc == 3)) || die "exit code not passed through Wine: want 3, got $rc"
    log "hello.exe ran under Wine; exit code 3 passed through"
    (cd "$tmp" && windows_go_test -count=1 -v .)
    rc=0
    (cd "$tmp" && CDB_WINE_SMOKE_FAIL=1 windows_go_test -count=1 . >/dev/null) || rc=$?
    ((rc != 0)) || die "a failing test under Wine made go test pass"
    log "go test under Wine: pass reported as pass, failure as failure"
    rm -rf "$tmp"
    windows_go_test -count=1 ./internal/testenv/
}

# ---- checks and tests -----------------------------------------------------

check_gofmt() {
    local f files=() bad
    # Tracked and new (not ignored) Go files; none at all is fine.
    while IFS= read -r f; do
        [[ -f "$f" ]] && files+=("$f")
    done < <(git ls-files --cached --others --exclude-standard -- '*.go')
    ((${#files[@]} > 0)) || { log "no Go files"; return 0; }
    bad=$(gofmt -l "${files[@]}")
    if [[ -n "$bad" ]]; then
        log "gofmt needed on (run: gofmt -w <file>):"
        log "$bad"
        return 1
    fi
    log "${#files[@]} Go files formatted"
}

vet_for() { GOOS=$1 GOARCH=amd64 go vet ./...; }
check_vet_linux() { vet_for linux; }
check_vet_windows() { vet_for windows; }
check_vet_darwin() { vet_for darwin; }

# One run over the three GOOS we ship: -matrix merges the results, so code
# used on only one OS (a _unix.go helper) is not reported as unused, and a
# finding in an OS-specific file is still reported.
check_staticcheck() {
    printf '%s\n' 'linux: GOOS=linux GOARCH=amd64' 'windows: GOOS=windows GOARCH=amd64' \
        'darwin: GOOS=darwin GOARCH=amd64' | staticcheck -matrix ./...
}

check_test_linux() {
    "$REPO/scripts/with-secret-service.sh" go test -race -count=1 ./...
}

# Wine starts its services (services.exe, winedevice.exe, ...) from the first
# Windows program of a wineserver session, and they inherit that program's
# stdout. They live as long as the wineserver, so a test binary's output pipe
# stayed open after it exited while another package kept Wine busy, and
# `go test` failed the package: "Test I/O incomplete 1m0s after exiting".
# wine_session_start boots the prefix once, before go test, with its output on
# /dev/null and a wineserver that stays until wine_session_stop; test binaries
# then join a session whose services are already running.
wine_session_start() {
    "$WINESERVER" -k >/dev/null 2>&1 || true
    "$WINESERVER" -w >/dev/null 2>&1 || true
    "$WINESERVER" -p </dev/null >/dev/null 2>&1
    WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml,winemenubuilder.exe=d" \
        "$WINE64" wineboot </dev/null >/dev/null 2>&1
}

wine_session_stop() {
    "$WINESERVER" -k >/dev/null 2>&1 || true
}

# windows_go_test ARGS...: `go test` of Windows binaries under Wine, in one
# Wine session (wine_session_start).
windows_go_test() {
    local rc=0
    wine_session_start
    GOOS=windows GOARCH=amd64 go test "$@" || rc=$?
    wine_session_stop
    return "$rc"
}

check_test_windows() {
    windows_go_test -count=1 ./...
}

# third_party/jsonschema is upstream's module without tests plus
# third_party/jsonschema.patch, and the build really uses it (see
# third_party/README.md).
check_third_party() {
    local module=github.com/santhosh-tekuri/jsonschema/v6 version=v6.0.1 up tmp
    [[ "$(go list -m "$module")" == "$module $version => ./third_party/jsonschema" ]] ||
        die "go.work no longer replaces $module $version (go list -m: $(go list -m "$module")); see third_party/README.md"
    up=$(go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    [[ -d "$up" ]] || die "go mod download $module@$version gave no Dir"
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/cdb-third-party.XXXXXX")
    cp -r "$up" "$tmp/full"
    chmod -R u+w "$tmp/full"
    local rc=0
    (
        cd "$tmp/full"
        rm -f go.work
        patch -s -p1 <"$REPO/third_party/jsonschema.patch"
        # Upstream's own tests on the patched library (all but the one that
        # fetches a schema over HTTPS; the draft test suite is a submodule
        # the module zip does not carry, its extra suite is there).
        GOWORK=off GOFLAGS=-mod=mod go test -count=1 -run 'Test|Example_from(Files|Strings)|Example_custom|Example_vocab' ./...
    ) || rc=$?
    ((rc == 0)) || { rm -rf "$tmp"; die "upstream's tests fail on the patched jsonschema"; }
    cp -r "$tmp/full" "$tmp/jsonschema"
    (
        cd "$tmp/jsonschema"
        rm -rf testdata .github .gitmodules .golangci.yml .pre-commit-hooks.yaml
        find . -name '*_test.go' -delete
        find . -type d -empty -delete
    )
    diff -r "$tmp/jsonschema" "$REPO/third_party/jsonschema" || rc=$?
    rm -rf "$tmp"
    ((rc == 0)) || die "third_party/jsonschema is not upstream $version plus jsonschema.patch"
    log "third_party/jsonschema = $module $version + jsonschema.patch (upstream's tests pass on it), used by the build"
}

# Every `func Fuzz*` in the module, each fuzzed for $FUZZTIME.
check_fuzz() {
    local listing line pkg name pending=() targets=() t
    listing=$(go test -list '^Fuzz' ./...)
    # Output per package: the matching names, then "ok  <pkg>  <time>".
    while IFS= read -r line; do
        if [[ "$line" =~ ^Fuzz[[:alnum:]_]*$ ]]; then
            pending+=("$line")
        elif [[ "$line" =~ ^ok[[:space:]]+([^[:space:]]+) ]]; then
            pkg=${BASH_REMATCH[1]}
            for t in "${pending[@]}"; do targets+=("$pkg $t"); done
            pending=()
        fi
    done <<<"$listing"
    if ((${#targets[@]} == 0)); then
        log "no fuzz targets in ./..."
        return 0
    fi
    log "fuzz targets (${#targets[@]}), -fuzztime=$FUZZTIME each:"
    printf '  %s\n' "${targets[@]}" >&2
    local failed=0 out rc
    for t in "${targets[@]}"; do
        read -r pkg name <<<"$t"
        local attempt=1
        while :; do
            out=$(fuzz_one "$pkg" "$name") && rc=0 || rc=$?
            printf '%s\n' "$out"
            # Go 1.26's fuzz coordinator can report a bare "context deadline
            # exceeded" when -fuzztime ends while a worker is mid-input on a
            # loaded machine (golang/go#75804, fixed in Go 1.27). A real
            # failure always names a failing input; that race never does, so
            # it gets up to two re-runs.
            if ((rc != 0 && attempt < 3)) && grep -q 'context deadline exceeded' <<<"$out" &&
                ! grep -q 'Failing input written' <<<"$out"; then
                log "$name: Go fuzz coordinator deadline race (golang/go#75804), no failing input: running it again"
                attempt=$((attempt + 1))
                continue
            fi
            break
        done
        ((rc == 0)) || failed=1
    done
    return "$failed"
}

fuzz_one() {
    go test -run='^$' -fuzz="^${2}\$" -fuzztime="$FUZZTIME" "$1" 2>&1
}

# The GitHub workflows (ci.yml, release.yml): syntax, expressions, action
# inputs, job graph, and their run: scripts through shellcheck.
check_actionlint() {
    command -v shellcheck >/dev/null || { log "shellcheck missing (apt phase)"; return 1; }
    actionlint -no-color
    log "$(find .github/workflows -name '*.yml' | wc -l) workflows clean"
}

check_release() {
    bash "$REPO/scripts/release-check.sh"
}

# ---- main -----------------------------------------------------------------

usage() {
    sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

main() {
    while (($#)); do
        case $1 in
            --quick) QUICK=1 ;;
            -h | --help) usage; exit 0 ;;
            *) log "unknown argument: $1"; usage >&2; exit 2 ;;
        esac
        shift
    done
    trap summary EXIT
    log "cdb-setup tests in $REPO (quick=$QUICK, CDB_SETUP_REQUIRE_ALL=${CDB_SETUP_REQUIRE_ALL:-unset})"

    phase apt phase_apt
    phase go phase_go
    phase gitleaks phase_gitleaks
    phase goreleaser phase_goreleaser
    phase actionlint phase_actionlint
    phase staticcheck phase_staticcheck
    local compose_was_there=0 wine_was_there=0
    [[ -x "$CDB_SETUP_COMPOSE" ]] && compose_was_there=1
    [[ -f "$WINEPREFIX/.cdb-setup-prefix-ok" ]] && wine_was_there=1
    phase compose phase_compose
    if ((QUICK == 0 || compose_was_there == 0)); then
        phase compose-verify phase_compose_verify
    fi
    phase server-images phase_server_images
    phase wine phase_wine
    if ((QUICK == 0 || wine_was_there == 0)); then
        phase wine-verify phase_wine_verify
    fi

    check gofmt check_gofmt
    check vet-linux check_vet_linux
    check vet-windows check_vet_windows
    check vet-darwin check_vet_darwin
    check actionlint check_actionlint
    check staticcheck check_staticcheck
    check third-party check_third_party
    check test-linux check_test_linux
    check test-windows check_test_windows
    if ((QUICK == 0)); then
        check fuzz check_fuzz
    fi
    if [[ -f "$REPO/scripts/release-check.sh" ]]; then
        check release-check check_release
    else
        log ""
        log "scripts/release-check.sh not present: release check skipped"
    fi

    ((${#FAILED_CHECKS[@]} == 0))
}

# Sourcing the file (e.g. to run one phase by hand) defines everything, runs nothing.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    main "$@"
fi
