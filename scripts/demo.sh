#!/usr/bin/env bash
# scripts/demo.sh: build cdb-setup and run its main job on the bundled demo
# stack (examples/demo): secrets, SECRETS_PATH for new shells, the gitleaks
# pre-commit hook, and the stack started and proven healthy.
#
#   scripts/demo.sh            every default (--yes): same with or without a terminal
#   scripts/demo.sh --repo examples/demo   any other arguments go to cdb-setup as
#                              they are: without --yes, a terminal gets the questions
#
# Needs Go, git and a running Docker Engine. It uses the machine's own Docker
# Compose v2 and gitleaks when they are new enough (minimums and reasons:
# scripts/tools.sh), and only otherwise builds the versions the tests pin
# under .cache/ (a fresh Debian 12 has no gitleaks and only Compose v1).
# Each phase prints its time; a table with the total closes the run.
# Undo: bin/cdb-setup uninstall --purge, then
# bin/cdb-setup down --repo examples/demo --volumes --yes.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
SCRIPT_NAME=demo.sh
CACHE="$REPO/.cache"
BIN="$CACHE/bin"
# shellcheck source=scripts/tools.sh
source "$REPO/scripts/tools.sh"

phase_go() {
    command -v go >/dev/null || PATH="/usr/local/go/bin:$PATH"
    command -v go >/dev/null || die "go not found on PATH or in /usr/local/go/bin: install Go (https://go.dev/doc/install)"
    go version
}

# gitleaks: the first on PATH (where cdb-setup looks first too) if it is
# 8.19 or newer; otherwise the pinned one from .cache/bin, put first on PATH
# so cdb-setup's hook uses it.
phase_gitleaks() {
    local p v out reason need="≥ $GITLEAKS_MIN_VERSION required: the hook runs \`gitleaks git --pre-commit --staged\`"
    if p=$(command -v gitleaks); then
        v=$(plain_version "$("$p" version 2>/dev/null || true)")
        if [[ -z "$v" ]]; then
            # A `go install`ed gitleaks prints no version; its Go build
            # information has the module version (as cdb-setup reads it).
            v=$(plain_version "$({ go version -m "$p" 2>/dev/null || true; } | awk '$1 == "mod" { print $3; exit }')")
        fi
        if [[ -n "$v" ]] && version_ge "$v" "$GITLEAKS_MIN_VERSION"; then
            log "gitleaks v$v at $p ($need)"
            return
        elif [[ -n "$v" ]]; then
            reason="$p is v$v"
        else
            # No version anywhere: ask it for the one thing the hook needs.
            out=$("$p" git --help 2>&1 || true)
            if [[ "$out" == *--pre-commit* && "$out" == *--staged* ]]; then
                log "gitleaks (version unknown) at $p: \`gitleaks git --help\` lists --pre-commit and --staged ($need)"
                return
            fi
            reason="$p reports no version and has no \`gitleaks git --pre-commit --staged\`"
        fi
    else
        reason="no gitleaks on PATH"
    fi
    log "pinned gitleaks $GITLEAKS_VERSION in .cache/bin (built if not there yet): $reason ($need)"
    install_go_tool gitleaks "$GITLEAKS_MODULE" "$GITLEAKS_VERSION"
    export PATH="$BIN:$PATH"
    log "gitleaks $GITLEAKS_VERSION at $BIN/gitleaks, first on PATH for cdb-setup"
}

# compose_version ARGV...: the x.y.z `ARGV version` prints ("" if it fails).
compose_version() {
    plain_version "$("$@" version 2>/dev/null || true)"
}

# described VERSION: "v2.40.3", or "of unknown version" for "".
described() {
    if [[ -n "$1" ]]; then printf 'v%s' "$1"; else printf 'of unknown version'; fi
}

# Compose, in cdb-setup's own order (internal/stack.LocateCompose):
# CDB_SETUP_COMPOSE, the `docker compose` plugin, a standalone docker-compose.
# The first one found is used if it is new enough; otherwise the pinned one
# is built and handed to cdb-setup as CDB_SETUP_COMPOSE, which it tries first.
phase_compose() {
    local v p out reason need="≥ $COMPOSE_MIN_VERSION required: older ones refuse the top-level \`name:\` of CDB's and the demo's compose files"
    if [[ -n "${CDB_SETUP_COMPOSE:-}" ]]; then
        v=$(compose_version "$CDB_SETUP_COMPOSE")
        if [[ -n "$v" ]] && version_ge "$v" "$COMPOSE_MIN_VERSION"; then
            log "Compose v$v at CDB_SETUP_COMPOSE=$CDB_SETUP_COMPOSE ($need)"
            return
        fi
        reason="CDB_SETUP_COMPOSE=$CDB_SETUP_COMPOSE is $(described "$v")"
    elif command -v docker >/dev/null && out=$(docker compose version 2>/dev/null); then
        v=$(plain_version "$out")
        if [[ -n "$v" ]] && version_ge "$v" "$COMPOSE_MIN_VERSION"; then
            # Where Docker found the plugin (the CLI's own answer; needs no Engine).
            p=$(docker info --format '{{range .ClientInfo.Plugins}}{{if eq .Name "compose"}}{{.Path}}{{end}}{{end}}' 2>/dev/null || true)
            log "Compose v$v at ${p:-the \`docker compose\` plugin} ($need)"
            return
        fi
        reason="\`docker compose\` is $(described "$v")"
    elif p=$(command -v docker-compose); then
        v=$(compose_version "$p")
        if [[ -n "$v" ]] && version_ge "$v" "$COMPOSE_MIN_VERSION"; then
            log "Compose v$v at $p, standalone (\`docker compose\` not found) ($need)"
            return
        fi
        reason="\`docker compose\` not found, and $p is $(described "$v")"
    else
        reason="\`docker compose\` not found"
    fi
    log "pinned Compose $COMPOSE_VERSION in .cache/ (built if not there yet): $reason ($need)"
    install_compose "$CACHE/docker-config/cli-plugins/docker-compose"
    export CDB_SETUP_COMPOSE="$CACHE/docker-config/cli-plugins/docker-compose"
    log "Compose $COMPOSE_VERSION at $CDB_SETUP_COMPOSE (given to cdb-setup as CDB_SETUP_COMPOSE)"
}

# -trimpath: the build cache then serves any clone of the same sources.
# -s -w: no symbol table or DWARF, which makes the link (most of this phase
# once the cache is warm) about 40% faster; panics still name functions, and
# `cdb-setup version` and `go version -m` still read the build information.
phase_build_cli() {
    go build -trimpath -ldflags "-s -w" -o bin/cdb-setup ./cmd/cdb-setup
    log "built bin/cdb-setup"
}

phase_build_svc() {
    examples/demo/build.sh >/dev/null
    log "built examples/demo/image/svc (the demo's fake service)"
}

# The image is built here rather than left to `compose up` (which builds only
# a missing image), so a changed fake service never runs as an older image.
phase_image() {
    local image=${DEMO_IMAGE:-cdbdemo-svc:dev}
    if ! command -v docker >/dev/null || ! docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then
        log "image $image not built: no Docker Engine answers (cdb-setup's preflight below says why and what to do)"
        return
    fi
    docker build -q -t "$image" examples/demo/image >/dev/null
    log "built image $image"
}

finish() {
    local rc=$?
    print_phase_table
    if ((rc == 0)); then
        log "demo.sh: done"
    else
        log "demo.sh: FAILED (exit $rc)"
    fi
}
trap finish EXIT

phase go phase_go
phase gitleaks phase_gitleaks
phase compose phase_compose
phase build-cli phase_build_cli
phase build-svc phase_build_svc
phase image phase_image

args=("$@")
((${#args[@]} > 0)) || args=(--repo examples/demo --yes)
log ""
log "==> [cdb-setup] $(date -u +%H:%M:%S) bin/cdb-setup ${args[*]}"
start=$(now_us)
CURRENT_PHASE=cdb-setup
rc=0
bin/cdb-setup "${args[@]}" || rc=$?
CURRENT_PHASE=""
if ((rc == 0)); then result=ok; else result="exit $rc"; fi
record cdb-setup "$start" "$result"
log "<== [cdb-setup] $result ($(fmt_us "${PHASE_TIMES[-1]}"))"
exit "$rc"
