# scripts/tools.sh: sourced by scripts/test.sh and scripts/demo.sh (runs nothing).
# The pinned tool versions, the minimum versions cdb-setup works with, timed
# phases, and the installers that build the pinned tools under .cache/.
# The sourcing script sets REPO, CACHE and BIN first.

# ---- pinned versions (what the tests run against; CI must be reproducible) -

GITLEAKS_MODULE=github.com/zricethezav/gitleaks/v8
GITLEAKS_VERSION=v8.30.1 # keep equal to internal/hook.GitleaksModule
COMPOSE_MODULE=github.com/docker/compose/v2
# v2.40.3 works against the CI engine (Docker 20.10.24, API 1.41): its client
# negotiates the API version down, and `up -d --wait` with a healthcheck and the
# default network was verified against that engine (see phase_compose_verify).
COMPOSE_VERSION=v2.40.3

# ---- minimum versions (what scripts/demo.sh accepts from the machine) -----

# Compose: cdb-setup runs `compose version`, `up -d [--build] <services>`,
# `down [--volumes]` and `rm --stop --force <services>`, always with -f and
# -p, and follows the containers by the com.docker.compose.project/service/
# oneoff labels on the Engine's events (no `ps --format json`, no `--wait`,
# no `config`): every Compose v2 has all of that. What older ones lack is the
# top-level `name:` that CDB's base.yml and the demo's have: compose-go
# v1.1.0 added it (compose-spec/compose-go#231). v2.3.2 is the oldest Compose
# release on the Go module proxy built with it (v2.3.0 and v2.3.1 are not
# there to check); v2.2.3, on compose-go v1.0.9-pre, refuses the file
# ("Additional property name is not allowed"), as v1 does. Only v2.40.3 is
# tested; older v2 releases are accepted on this reasoning.
COMPOSE_MIN_VERSION=2.3.2
# gitleaks: the hook cdb-setup installs runs `gitleaks git --pre-commit
# --staged`, which gitleaks 8.19.0 introduced (internal/hook: GitCommand; 8.0
# to 8.18 only have the deprecated `protect`).
GITLEAKS_MIN_VERSION=8.19.0

# ---- output and timing ----------------------------------------------------

SCRIPT_NAME=${SCRIPT_NAME:-$(basename "$0")}
PHASE_NAMES=()
PHASE_TIMES=()
PHASE_RESULTS=()
CURRENT_PHASE=""

log() { printf '%s\n' "$*" >&2; }
die() { log "$SCRIPT_NAME: error: $*"; exit 1; }
now_us() { local t=${EPOCHREALTIME/./}; echo "${t#0}"; }
fmt_us() { printf '%d.%01ds' $(($1 / 1000000)) $((($1 % 1000000) / 100000)); }

record() { # record NAME START_US RESULT
    PHASE_NAMES+=("$1")
    PHASE_TIMES+=($(($(now_us) - $2)))
    PHASE_RESULTS+=("$3")
}

# Install/setup phase: any failure stops the whole run.
phase() { # phase NAME FUNCTION
    local name=$1 fn=$2 start
    start=$(now_us)
    CURRENT_PHASE=$name
    log ""
    log "==> [$name] $(date -u +%H:%M:%S)"
    "$fn"
    CURRENT_PHASE=""
    record "$name" "$start" ok
    log "<== [$name] ok ($(fmt_us "${PHASE_TIMES[-1]}"))"
}

# The per-phase table and the total; the caller prints its verdict.
print_phase_table() {
    local i total=0
    log ""
    log "==== summary ===="
    for i in "${!PHASE_NAMES[@]}"; do
        printf '  %-24s %9s  %s\n' "${PHASE_NAMES[$i]}" "$(fmt_us "${PHASE_TIMES[$i]}")" "${PHASE_RESULTS[$i]}" >&2
        total=$((total + PHASE_TIMES[i]))
    done
    if [[ -n "$CURRENT_PHASE" ]]; then
        printf '  %-24s %9s  %s\n' "$CURRENT_PHASE" "-" "FAILED (setup stopped here)" >&2
    fi
    printf '  %-24s %9s\n' "total" "$(fmt_us "$total")" >&2
}

# ---- versions -------------------------------------------------------------

# plain_version TEXT: the first x.y.z in TEXT, without a leading v ("" if none).
plain_version() {
    [[ "$1" =~ ([0-9]+\.[0-9]+\.[0-9]+) ]] && printf '%s' "${BASH_REMATCH[1]}"
    return 0
}

# version_ge A B: true when x.y.z A >= B.
version_ge() {
    local a b i
    IFS=. read -r -a a <<<"$1"
    IFS=. read -r -a b <<<"$2"
    for i in 0 1 2; do
        ((10#${a[i]:-0} > 10#${b[i]:-0})) && return 0
        ((10#${a[i]:-0} < 10#${b[i]:-0})) && return 1
    done
    return 0
}

# go_mod_version BINARY MODULE: the module version a Go binary was built from.
go_mod_version() {
    [[ -x "$1" ]] || return 0
    { go version -m "$1" 2>/dev/null || true; } | awk -v m="$2" '$1 == "mod" && $2 == m { print $3 }'
}

# ---- installers of the pinned tools ---------------------------------------

install_go_tool() { # install_go_tool NAME MODULE VERSION [PACKAGE, default MODULE]
    local name=$1 module=$2 version=$3 pkg=${4:-$2} have
    mkdir -p "$BIN"
    have=$(go_mod_version "$BIN/$name" "$module")
    if [[ "$have" == "$version" ]]; then
        log "$name $version already in $BIN"
        return
    fi
    log "installing $name $version (had: ${have:-none})"
    GOBIN="$BIN" CGO_ENABLED=0 go install "$pkg@$version"
    [[ "$(go_mod_version "$BIN/$name" "$module")" == "$version" ]] ||
        die "$name: installed binary does not report $version"
}

# install_compose PATH: Docker Compose $COMPOSE_VERSION at PATH (a CLI plugin
# location, or any file for CDB_SETUP_COMPOSE). Compose v2 cannot be
# `go install`ed (its go.mod has exclude directives), so it is built from a
# copy of the module source.
install_compose() {
    local out=$1 have=""
    mkdir -p "$(dirname "$out")"
    # `go build ./cmd` inside the module records no module version, so ask
    # the binary for the version stamped in with -X (internal.Version).
    [[ -x "$out" ]] && have=$("$out" version --short 2>/dev/null || true)
    have=${have:+v${have#v}}
    if [[ "$have" == "$COMPOSE_VERSION" ]]; then
        log "docker-compose $COMPOSE_VERSION already at $out"
        return
    fi
    log "building docker-compose $COMPOSE_VERSION (had: ${have:-none})"
    local dir src
    dir=$(go mod download -json "$COMPOSE_MODULE@$COMPOSE_VERSION" |
        sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
    [[ -n "$dir" && -d "$dir" ]] || die "go mod download $COMPOSE_MODULE@$COMPOSE_VERSION gave no Dir"
    src=$(mktemp -d "${TMPDIR:-/tmp}/cdb-compose-src.XXXXXX")
    cp -R "$dir/." "$src/"
    chmod -R u+w "$src"
    (
        cd "$src"
        CGO_ENABLED=0 go build -trimpath \
            -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$COMPOSE_VERSION" \
            -o "$out.tmp" ./cmd
    )
    rm -rf "$src"
    mv -f "$out.tmp" "$out"
    "$out" version
}
