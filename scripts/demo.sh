#!/usr/bin/env bash
# scripts/demo.sh: build cdb-setup and run its main job on the bundled demo
# stack (examples/demo): secrets, SECRETS_PATH for new shells, the gitleaks
# pre-commit hook, and the stack started and proven healthy.
#
#   scripts/demo.sh            every default (--yes): same with or without a terminal
#   scripts/demo.sh --repo examples/demo   any other arguments go to cdb-setup as
#                              they are: without --yes, a terminal gets the questions
#
# The tools cdb-setup drives are installed the way the tests get them (see
# scripts/test.sh): gitleaks and Docker Compose v2 under .cache/, because a
# fresh Debian 12 has no gitleaks and only the old Compose v1. Needs Go, git
# and a running Docker Engine. Undo: bin/cdb-setup uninstall --purge, then
# bin/cdb-setup down --repo examples/demo --volumes --yes.
set -euo pipefail
# shellcheck source=scripts/test.sh
source "$(dirname "${BASH_SOURCE[0]}")/test.sh"

phase go phase_go
phase gitleaks phase_gitleaks
phase compose phase_compose

log ""
log "==> building bin/cdb-setup and the demo's fake service"
go build -o bin/cdb-setup ./cmd/cdb-setup
examples/demo/build.sh >&2

args=("$@")
((${#args[@]} > 0)) || args=(--repo examples/demo --yes)
log "==> bin/cdb-setup ${args[*]}"
exec bin/cdb-setup "${args[@]}"
