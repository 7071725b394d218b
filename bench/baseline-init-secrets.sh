#!/bin/sh
# The original project's way of creating secrets (init-secrets.sh), kept as
# the benchmark baseline: 3 base64 secrets of 24 random bytes, no newline,
# folder 700, files 600. Usage: baseline-init-secrets.sh DIR
set -eu
dir=${1:?usage: baseline-init-secrets.sh DIR}
mkdir -p "$dir"
for name in REDIS_PASSWORD POSTGRES_PASSWORD GRAFANA_PASSWORD; do
    if [ ! -s "$dir/$name" ]; then
        openssl rand -base64 24 | tr -d '\n' > "$dir/$name"
    fi
done
chmod 700 "$dir"
chmod 600 "$dir"/*
