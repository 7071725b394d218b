#!/usr/bin/env bash
# scripts/ci-require-ran.sh OS LOG: fail unless every test that scripts/README.md
# lists as checkable only on a real OS machine ("| OS | `TestName` | ... |" rows
# of its "Only on a real Windows or macOS machine" table) passed in LOG, the
# output of `go test -v ./...` on that OS. A skip there is a failure: the
# workflow exists so that these checks run somewhere.
set -euo pipefail
os=${1:?usage: ci-require-ran.sh windows|darwin LOG}
log=${2:?usage: ci-require-ran.sh windows|darwin LOG}
readme="$(dirname "${BASH_SOURCE[0]}")/README.md"
names=$(awk -F'|' -v os="$os" '
    /^## Only on a real Windows or macOS machine/ { on = 1; next }
    /^## / { on = 0 }
    on && NF > 3 { o = $2; gsub(/ /, "", o); n = $3; gsub(/[ `]/, "", n); if (o == os) print n }
' "$readme")
[[ -n "$names" ]] || { echo "no $os tests listed in $readme" >&2; exit 1; }
missing=0
while IFS= read -r name; do
    if grep -qF -- "--- PASS: $name " "$log"; then
        echo "ran: $name"
    else
        echo "NOT RUN or not passed on $os: $name" >&2
        grep -F -- " $name " "$log" | head -5 >&2 || true
        missing=1
    fi
done <<<"$names"
exit "$missing"
