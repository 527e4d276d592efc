#!/usr/bin/env bash
# scripts/restore-postgres.sh — restore a dump of a Postgres construct's backup CronJob into a
# fresh database, inside the cluster, with kubectl only.
#
# Usage:
#   scripts/restore-postgres.sh NAMESPACE NAME TARGET [DUMP]
#     NAME    the Postgres construct's name: its CronJob is NAME-backup (e.g. todo-db)
#     TARGET  the database to create and restore into; it must not exist (e.g. todo_restored)
#     DUMP    a file name on the backup volume (default: the newest *.dump)
#
# It runs a Job made from the CronJob's own template (`kubectl create job --from=cronjob/...`):
# the same image (its pg_restore matches the server), the same credentials, the backup volume
# mounted, the labels the database's NetworkPolicy admits. Its command is replaced by
# `createdb TARGET && pg_restore --exit-on-error --no-owner --dbname=TARGET DUMP`. The live
# database is not touched: check the restored one, then point the service at it (PGDATABASE)
# or rename the databases in psql. Prints the Job's log; exits non-zero if the restore failed.
#
# Environment: KUBECTL (default kubectl), RESTORE_TIMEOUT seconds (default 600).
set -euo pipefail

if [ $# -lt 3 ] || [ $# -gt 4 ]; then sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; fi
ns=$1 name=$2 target=$3 dump=${4:-}
kubectl=${KUBECTL:-kubectl}
timeout=${RESTORE_TIMEOUT:-600}
[[ $target =~ ^[a-z_][a-z0-9_]*$ ]] || { echo "restore-postgres: TARGET \"$target\" must be a lower-case SQL identifier" >&2; exit 2; }
job="$name-restore-$(date -u +%Y%m%d%H%M%S)"

# The script runs in the backup image's sh; DUMP and TARGET come in as environment variables.
# shellcheck disable=SC2016
script='set -eu
for i in $(seq 60); do pg_isready --timeout=2 --quiet && break; sleep 1; done
dump=${DUMP:-$(ls -1 /backups/*.dump | sort | tail -n 1)}
case $dump in /*) ;; *) dump=/backups/$dump ;; esac
echo "restoring $dump into database $TARGET"
createdb "$TARGET"
pg_restore --exit-on-error --no-owner --dbname="$TARGET" "$dump"
echo "restored $dump into database $TARGET"'

json_string() { # json_string TEXT : TEXT as a JSON string
  local s=$1
  s=${s//\\/\\\\}; s=${s//\"/\\\"}; s=${s//$'\n'/\\n}; s=${s//$'\t'/\\t}
  printf '"%s"' "$s"
}
patch="[{\"op\":\"replace\",\"path\":\"/spec/template/spec/containers/0/command\",\"value\":[\"sh\",\"-c\",$(json_string "$script")]},
{\"op\":\"add\",\"path\":\"/spec/template/spec/containers/0/env/-\",\"value\":{\"name\":\"TARGET\",\"value\":$(json_string "$target")}},
{\"op\":\"add\",\"path\":\"/spec/template/spec/containers/0/env/-\",\"value\":{\"name\":\"DUMP\",\"value\":$(json_string "$dump")}}]"

echo "[restore 1/3] Job $ns/$job from cronjob/$name-backup" >&2
"$kubectl" -n "$ns" create job "$job" --from="cronjob/$name-backup" --dry-run=client -o json \
  | "$kubectl" patch --local -f - --type=json -p "$patch" -o json \
  | "$kubectl" create -f - >/dev/null

echo "[restore 2/3] waiting for it (up to ${timeout}s)" >&2
deadline=$((SECONDS + timeout))
until status=$("$kubectl" -n "$ns" get job "$job" -o 'jsonpath={.status.succeeded}/{.status.failed}') \
    && { [ "${status%/*}" = 1 ] || [ -n "${status#*/}" ]; }; do
  [ $SECONDS -lt $deadline ] || { echo "restore-postgres: Job $job did not finish within ${timeout}s" >&2; break; }
  sleep 2
done

echo "[restore 3/3] its log:" >&2
"$kubectl" -n "$ns" logs "job/$job" || true
[ "${status%/*}" = 1 ] || { echo "restore-postgres: Job $ns/$job failed (status succeeded/failed: $status)" >&2; exit 1; }
