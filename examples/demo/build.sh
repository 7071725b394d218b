#!/bin/sh
# Compiles the fake service into the demo's build context. Run it once before
# `cdb-setup up --repo examples/demo --build`: the Dockerfile only copies the
# binary, because a golang build image cannot be pulled on machines without
# registry access.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"
# -buildvcs=false: no commit stamped in, so the binary (and the image's cached
# layer) stays the same from one commit to the next while fakesvc does not change.
CGO_ENABLED=0 GOOS=linux go build -trimpath -buildvcs=false -ldflags "-s -w" -o "$here/image/svc" ./internal/fakesvc
echo "built $here/image/svc; now: cdb-setup up --repo examples/demo --build"
