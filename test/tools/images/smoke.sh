#!/usr/bin/env bash
# test/tools/images/smoke.sh — run the images build.sh made, for real, without Docker: each
# container is the image's rootfs (crane export) started by runc, shaped like the pod the
# constructs in src/ render.
#
# Usage (as root; needs runc, ip, crane, node, curl):
#   test/tools/images/smoke.sh postgres POSTGRES_REF EXPORTER_REF
#       One "pod" (a network namespace, so both containers share 127.0.0.1 like a pod):
#       postgres as uid/gid 70 with supplementary group 70 (fsGroup), read-only root, no
#       capabilities, no_new_privs, the StatefulSet's env (POSTGRES_USER/PASSWORD/DB,
#       PGDATA=<mount>/pgdata) and mounts (data volume, /var/run/postgresql, /tmp, /dev/shm);
#       checks initdb + start, the probe command, a query over TCP with the password, the
#       backup CronJob's script (pg_dump to /backups, read back with pg_restore --list), the
#       postgres_exporter sidecar (uid 65534, /metrics with pg_up 1), a stop with the image's
#       STOPSIGNAL, and a restart on the same data that keeps the rows.
#   test/tools/images/smoke.sh kaniko KANIKO_REF REGISTRY
#       kaniko as root with a private copy of its image as root filesystem and the build Job's
#       capabilities only: `executor version`, then a build of a two-line Dockerfile whose base
#       is pulled from REGISTRY, pushed back to REGISTRY (plain HTTP), with --digest-file.
#
# stderr: progress and results; exit status 0 only if every check passed. Every container,
# network namespace and temp dir it makes is removed on exit. The program is smoke.ts beside
# this script.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec node -r "$HERE/../register-ts.js" "$HERE/smoke.ts" "$@"
