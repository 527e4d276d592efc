#!/usr/bin/env bash
# Runs vet and the full test suite against a throwaway real PostgreSQL.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pg=$here/../test/support/postgres.sh

pgdir=$(mktemp -d -t todo-pg.XXXXXX)
trap '"$pg" stop "$pgdir"' EXIT
# Assign first: a failure inside "$(...)" passed straight to eval is ignored.
pgenv=$("$pg" start "$pgdir")
eval "$pgenv"
unset DATABASE_URL

cd "$here"
unformatted=$(gofmt -l .)
if [[ -n "$unformatted" ]]; then
  echo "gofmt needed on:" >&2
  echo "$unformatted" >&2
  exit 1
fi
go vet ./...

# -race needs cgo; the shipped binary is still built with CGO_ENABLED=0
# (the process tests build it that way).
race=()
if command -v gcc >/dev/null 2>&1; then
  race=(-race)
  export CGO_ENABLED=1
fi
go test "${race[@]}" -count=1 "$@" ./...
