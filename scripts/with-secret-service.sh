#!/usr/bin/env bash
# with-secret-service.sh CMD [ARGS...]
#
# Runs CMD with a real, unlocked Secret Service (gnome-keyring-daemon) on a
# private D-Bus session bus, headless (no X), so go-keyring and secret-tool
# work as on a desktop. Everything lives in a temp dir removed afterwards:
# the user's own keyring is never touched.
#
# Exports for CMD: DBUS_SESSION_BUS_ADDRESS, XDG_DATA_HOME, XDG_RUNTIME_DIR.
# Needs: dbus (dbus-run-session, dbus-send), gnome-keyring, libsecret-tools.
# CDB_SETUP_KEYRING_WAIT: seconds to wait for the service (default 20).
set -euo pipefail

die() { echo "with-secret-service: $*" >&2; exit 1; }

if [[ $# -eq 0 ]]; then
    echo "usage: $0 CMD [ARGS...]" >&2
    exit 2
fi

if [[ "${_CDB_SETUP_IN_DBUS_SESSION:-}" != "1" ]]; then
    # Outer half: private XDG dirs, then re-run this script inside a new bus.
    for c in dbus-run-session dbus-send gnome-keyring-daemon secret-tool; do
        command -v "$c" >/dev/null || die "$c not found (apt-get install dbus gnome-keyring libsecret-tools)"
    done
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/cdb-secret-service.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    mkdir -p "$tmp/data" "$tmp/run"
    chmod 700 "$tmp" "$tmp/run"
    export XDG_DATA_HOME="$tmp/data" XDG_RUNTIME_DIR="$tmp/run"
    rc=0
    _CDB_SETUP_IN_DBUS_SESSION=1 dbus-run-session -- "$(readlink -f "${BASH_SOURCE[0]}")" "$@" || rc=$?
    exit "$rc"
fi

# Inner half: we are on the private session bus.
unset _CDB_SETUP_IN_DBUS_SESSION

# A throwaway password for the throwaway login keyring (never printed).
password=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
# --foreground so that we own the daemon's PID and can stop it ourselves;
# --unlock reads the password from stdin (creating the login keyring).
printf '%s' "$password" |
    gnome-keyring-daemon --foreground --unlock --components=secrets \
        >"$XDG_RUNTIME_DIR/gnome-keyring.log" 2>&1 &
keyring_pid=$!
unset password

# shellcheck disable=SC2317 # called from the EXIT trap
stop_daemon() {
    kill "$keyring_pid" 2>/dev/null || true
    wait "$keyring_pid" 2>/dev/null || true
}
trap stop_daemon EXIT

name_has_owner() {
    dbus-send --session --print-reply --dest=org.freedesktop.DBus \
        /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner \
        string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true'
}

# Poll (bounded) until the daemon owns org.freedesktop.secrets.
wait_s=${CDB_SETUP_KEYRING_WAIT:-20}
deadline=$((SECONDS + wait_s))
until name_has_owner; do
    if ! kill -0 "$keyring_pid" 2>/dev/null; then
        cat "$XDG_RUNTIME_DIR/gnome-keyring.log" >&2 || true
        die "gnome-keyring-daemon exited before owning org.freedesktop.secrets"
    fi
    if ((SECONDS >= deadline)); then
        cat "$XDG_RUNTIME_DIR/gnome-keyring.log" >&2 || true
        die "org.freedesktop.secrets has no owner after ${wait_s}s"
    fi
    sleep 0.1
done

# Prove the default collection is unlocked and usable: store, read, clear.
probe_attrs=(service cdb-setup-ci-probe username probe)
printf 'probe-value' | timeout 10 secret-tool store --label=cdb-setup-probe "${probe_attrs[@]}" ||
    die "secret-tool store failed: the login collection is not usable"
[[ "$(timeout 10 secret-tool lookup "${probe_attrs[@]}")" == "probe-value" ]] ||
    die "secret-tool lookup did not return what was stored"
timeout 10 secret-tool clear "${probe_attrs[@]}" || die "secret-tool clear failed"
echo "with-secret-service: org.freedesktop.secrets ready on $DBUS_SESSION_BUS_ADDRESS" >&2

rc=0
"$@" || rc=$?
exit "$rc"
