#!/usr/bin/env bash
# scripts/server-images.sh: build the real PostgreSQL 15 and Redis 7 images the
# tests (and the demo) run, from Debian 12's packages, without any image registry.
#
#   scripts/server-images.sh          build what is missing or out of date
#   scripts/server-images.sh --force  rebuild both images
#
# How: debootstrap makes one Debian root filesystem holding postgresql-15 and
# redis-server from the mirror this machine's apt already uses; `docker import`
# turns it into a base image; a small Dockerfile per server (legacy builder, so
# nothing is pulled) adds the entrypoint, ENV, USER, VOLUME, EXPOSE and
# HEALTHCHECK. See scripts/server-images/ and scripts/README.md.
#
# Tags (a contract with the tests, internal/testenv.PostgresImage/RedisImage):
#   cdb-setup-test/postgres:15   cdb-setup-test/redis:7
# Each carries the label cdb-setup.recipe=<sha256 of this script and
# scripts/server-images/**>: the images are rebuilt only when that changes or an
# image is missing, so after the first run (5-15 min on 2 cores) this takes a
# second and says "already built".
#
# Needs: root (debootstrap), a reachable Debian mirror, a Docker Engine.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR="$REPO/scripts/server-images"
SUITE=bookworm
POSTGRES_TAG=cdb-setup-test/postgres:15
REDIS_TAG=cdb-setup-test/redis:7
BASE_REPO=cdb-setup-test/bookworm-servers
# What the entrypoints need beyond minbase (bash, coreutils, findutils and
# util-linux's setpriv are Essential, so always there).
PACKAGES=postgresql-15,redis-server,redis-tools
FORCE=0

log() { printf 'server-images: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

for arg in "$@"; do
    case "$arg" in
        --force) FORCE=1 ;;
        -h|--help) sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) log "unknown argument: $arg (usage: scripts/server-images.sh [--force])"; exit 2 ;;
    esac
done

command -v docker >/dev/null || { log "docker CLI not found: install Docker Engine"; exit 3; }
docker info >/dev/null 2>&1 || { log "Docker Engine not reachable: start it (systemctl start docker)"; exit 3; }

# The recipe: every file that decides what the images contain, plus the package
# list and suite (both are in this script). Sorted so the hash is stable.
recipe() {
    (
        cd "$REPO"
        { echo scripts/server-images.sh; find scripts/server-images -type f; } | LC_ALL=C sort |
            while read -r f; do printf '%s\n' "$f"; sha256sum <"$f"; done
    ) | sha256sum | cut -d' ' -f1
}

image_recipe() { # image_recipe TAG: the label, or nothing when the image is missing
    docker image inspect --format '{{index .Config.Labels "cdb-setup.recipe"}}' "$1" 2>/dev/null || true
}

# The Debian mirror apt uses here (deb822 first, then the one-line format).
debian_mirror() {
    local m=""
    if [[ -r /etc/apt/sources.list.d/debian.sources ]]; then
        m=$(awk '/^URIs:/ && !/security/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)
    fi
    if [[ -z "$m" && -r /etc/apt/sources.list ]]; then
        m=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }' /etc/apt/sources.list)
    fi
    echo "${m:-http://deb.debian.org/debian}"
}

ensure_debootstrap() {
    command -v debootstrap >/dev/null && return
    [[ $(id -u) == 0 ]] || die "debootstrap is missing and we are not root: apt-get install debootstrap"
    log "installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q debootstrap >&2
}

# The base image depends only on the suite and the package list, so changing an
# entrypoint rebuilds in seconds instead of re-running debootstrap.
base_tag() {
    echo "$BASE_REPO:$(printf '%s %s\n' "$SUITE" "$PACKAGES" | sha256sum | cut -c1-12)"
}

build_base() { # build_base: debootstrap + docker import, tagged $(base_tag)
    local tag
    tag=$(base_tag)
    if docker image inspect "$tag" >/dev/null 2>&1 && ((FORCE == 0)); then
        log "base root filesystem $tag already imported"
        return
    fi
    [[ $(id -u) == 0 ]] || die "debootstrap needs root: run scripts/server-images.sh as root"
    ensure_debootstrap
    local mirror root
    mirror=$(debian_mirror)
    root=$(mktemp -d /var/tmp/cdb-setup-rootfs.XXXXXX)
    # Remove the half-made root filesystem on any exit (it holds device nodes).
    trap 'rm -rf --one-file-system "$root"' EXIT
    log "debootstrap $SUITE from $mirror into $root (5-15 min the first time)"
    # policy-rc.d is not there yet, but in a chroot without a running init,
    # invoke-rc.d starts nothing; the Debian cluster the postgresql package
    # makes is removed in the postgres Dockerfile (our entrypoint uses PGDATA).
    debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$root" "$mirror" >&2 ||
        die "debootstrap failed (see above; the mirror is $mirror)"
    # Drop what a container does not need: apt lists and caches, man pages.
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
        "$root"/usr/share/man "$root"/usr/share/doc
    log "importing the root filesystem as $tag"
    tar -C "$root" --numeric-owner -c . |
        docker import - "$tag" >/dev/null
    rm -rf --one-file-system "$root"
    trap - EXIT
    # Older bases only take space.
    local old
    for old in $(docker image ls --format '{{.Repository}}:{{.Tag}}' "$BASE_REPO"); do
        [[ "$old" == "$tag" ]] || docker image rm "$old" >/dev/null 2>&1 || true
    done
}

build_image() { # build_image NAME TAG RECIPE
    local ctx="$DIR/$1" base old
    base=$(base_tag)
    old=$(docker image inspect --format '{{.Id}}' "$2" 2>/dev/null || true)
    log "building $2"
    local out
    # Output only on failure: the legacy builder's deprecation notice is noise.
    out=$(DOCKER_BUILDKIT=0 docker build --quiet --pull=false \
        --build-arg "BASE=$base" \
        --label "cdb-setup.recipe=$3" -t "$2" "$ctx" 2>&1) || {
        printf '%s\n' "$out" >&2
        die "docker build of $2 failed (run: DOCKER_BUILDKIT=0 docker build --build-arg BASE=$base $ctx)"
    }
    # The replaced version is now untagged: remove it unless a container uses it.
    if [[ -n "$old" && "$old" != "$(docker image inspect --format '{{.Id}}' "$2")" ]]; then
        docker image rm "$old" >/dev/null 2>&1 || true
    fi
}

main() {
    local want start pg rd
    start=$SECONDS
    want=$(recipe)
    pg=$(image_recipe "$POSTGRES_TAG")
    rd=$(image_recipe "$REDIS_TAG")
    if ((FORCE == 0)) && [[ "$pg" == "$want" && "$rd" == "$want" ]]; then
        log "$POSTGRES_TAG and $REDIS_TAG already built (recipe ${want:0:12})"
        return
    fi
    build_base
    build_image postgres "$POSTGRES_TAG" "$want"
    build_image redis "$REDIS_TAG" "$want"
    # Smoke test: the servers start and report their versions.
    docker run --rm --entrypoint postgres "$POSTGRES_TAG" --version >&2
    docker run --rm --entrypoint redis-server "$REDIS_TAG" --version >&2
    log "built $POSTGRES_TAG and $REDIS_TAG (recipe ${want:0:12}) in $((SECONDS - start))s"
}

main
