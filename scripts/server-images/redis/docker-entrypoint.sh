#!/bin/sh
# Entrypoint of cdb-setup-test/redis:7, following the official redis image's
# docker-entrypoint.sh: a first argument starting with "-" or ending in ".conf"
# means `redis-server <args>`; `redis-server …` run as root fixes the owner of
# /data and drops to the redis user (Debian's uid, looked up by name); any other
# command (e.g. the CDB compose's `sh -c 'redis-server --requirepass "$(cat
# /run/secrets/redis_password)"'`) runs as given, as root, like the official image.
set -e

if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
    set -- redis-server "$@"
fi

if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
    find . \! -user redis -exec chown redis '{}' +
    exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi

# Files redis writes (dump.rdb, appendonly) are for redis only.
um="$(umask)"
if [ "$um" = 0022 ]; then
    umask 0077
fi

exec "$@"
