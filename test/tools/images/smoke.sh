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
# network namespace and temp dir it makes is removed on exit.
#
# (SC2015: ok/bad always succeed, so `check && ok || bad` is if/else here. SC2016: the
# single-quoted $ expressions are meant for the container's shell or for node.)
# shellcheck disable=SC2015,SC2016,SC2012
set -euo pipefail
usage() { sed -n '2,/^# (SC2015/p' "$0" | sed '$d' | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
case "${1:-}" in postgres|kaniko) ;; *) usage ;; esac
[ "$(id -u)" = 0 ] || { echo "smoke.sh: run as root (runc, ip netns)" >&2; exit 2; }
for t in runc ip crane node curl; do command -v $t >/dev/null || { echo "smoke.sh: $t not found" >&2; exit 2; }; done

WORK=$(mktemp -d /tmp/images-smoke.XXXXXX)
chmod 0755 "$WORK"
RUNC=(runc --root "$WORK/runc-state")
NETNS=
CONTAINERS=()
passed=0 failed=0
say() { echo "[smoke] $*" >&2; }
ok() { passed=$((passed + 1)); say "ok: $*"; }
bad() { failed=$((failed + 1)); say "FAILED: $*"; }
cleanup() {
  local rc=$? c
  for c in "${CONTAINERS[@]}"; do "${RUNC[@]}" delete --force "$c" >/dev/null 2>&1 || true; done
  [ -z "$NETNS" ] || ip netns delete "$NETNS" 2>/dev/null || true
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# rootfs REF DIR: the image's filesystem, as root would see it in the container.
rootfs() { mkdir -p "$2"; crane export ${IMAGES_INSECURE:+--insecure} "$1" - | tar -x -C "$2" --numeric-owner --same-permissions; }

# bundle DIR ROOTFS SPEC_JSON: writes DIR/config.json, an OCI runtime spec from a small JSON of
# what differs between our containers: {image: <image config>, args, env, user, groups,
# readonly, caps, binds: [[src, dst, ro?]], tmpfs: [[dst, opts]], netns, hostname}.
bundle() {
  mkdir -p "$1"
  SPEC=$3 ROOT=$2 OUT=$1/config.json node -e '
    const s = JSON.parse(process.env.SPEC);
    const env = new Map();
    for (const e of [...(s.image.Env || []), ...(s.env || [])]) { const i = e.indexOf("="); env.set(e.slice(0, i), e.slice(i + 1)); }
    env.set("HOSTNAME", s.hostname);
    const caps = s.caps || [];
    const mounts = [
      { destination: "/proc", type: "proc", source: "proc" },
      { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
      { destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"] },
      { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
      { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
      ...(s.tmpfs || []).map(([d, o]) => ({ destination: d, type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", ...o] })),
      ...(s.binds || []).map(([src, d, ro]) => ({ destination: d, type: "bind", source: src, options: ["rbind", ro ? "ro" : "rw"] })),
    ];
    const ns = [{ type: "pid" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }];
    if (s.netns) ns.push({ type: "network", path: s.netns });
    const spec = {
      ociVersion: "1.0.2",
      process: {
        terminal: false,
        user: { uid: s.user, gid: s.group, additionalGids: s.groups || [] },
        args: [...(s.args || [...(s.image.Entrypoint || []), ...(s.image.Cmd || [])])],
        env: [...env].map(([k, v]) => `${k}=${v}`),
        cwd: s.image.WorkingDir || "/",
        capabilities: { bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: [] },
        noNewPrivileges: true,
      },
      root: { path: process.env.ROOT, readonly: !!s.readonly },
      hostname: s.hostname,
      mounts,
      linux: {
        namespaces: ns,
        resources: { devices: [{ allow: false, access: "rwm" }] },
        maskedPaths: ["/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware"],
        readonlyPaths: ["/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
      },
    };
    require("fs").writeFileSync(process.env.OUT, JSON.stringify(spec, null, 1));
  '
}

# start ID BUNDLE: runs the container detached, output to $WORK/ID.log.
start() {
  CONTAINERS+=("$1")
  "${RUNC[@]}" run --detach --bundle "$2" "$1" >"$WORK/$1.log" 2>&1 </dev/null \
    || { bad "runc run $1"; show_log "$1"; return 1; }
}
status() { "${RUNC[@]}" state "$1" 2>/dev/null | sed -n 's/.*"status": "\([a-z]*\)".*/\1/p'; }
# wait_for SECONDS DESCRIPTION CMD...: polls CMD until it succeeds.
wait_for() {
  local t=$1 what=$2; shift 2
  local end=$((SECONDS + t))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $end ] || { bad "$what (not within ${t}s)"; return 1; }
    sleep 0.5
  done
}
stopped() { [ "$(status "$1")" = stopped ]; }
show_log() { sed 's/^/[smoke]   | /' "$WORK/$1.log" >&2; }
in_pod() { ip netns exec "$NETNS" "$@"; }

smoke_postgres() {
  local pg_ref=$1 exp_ref=$2
  local pw=smoke-password-1 pg_cfg exp_cfg POD_IP=198.18.0.1
  say "postgres: $pg_ref"
  say "exporter: $exp_ref"
  rootfs "$pg_ref" "$WORK/pg-root"
  rootfs "$exp_ref" "$WORK/exp-root"
  pg_cfg=$(crane config ${IMAGES_INSECURE:+--insecure} "$pg_ref" | node -e 'process.stdout.write(JSON.stringify(JSON.parse(require("fs").readFileSync(0)).config))')
  exp_cfg=$(crane config ${IMAGES_INSECURE:+--insecure} "$exp_ref" | node -e 'process.stdout.write(JSON.stringify(JSON.parse(require("fs").readFileSync(0)).config))')

  # The pod: its network namespace (the sandbox's), and its volumes as the kubelet makes them
  # with fsGroup 70: the data PVC's root group 70 and group-writable with setgid (a fresh
  # filesystem, owned by root), emptyDirs 0777 + setgid group 70.
  NETNS=images-smoke-$$
  ip netns add "$NETNS"
  ip netns exec "$NETNS" ip link set lo up
  # The pod's own address, only inside this namespace (198.18.0.0/15 is reserved for such
  # tests): clients of other pods come from an address like it, not from 127.0.0.1, which the
  # pg_hba.conf initdb writes trusts without a password (as in the official image).
  ip netns exec "$NETNS" ip addr add "$POD_IP/32" dev lo
  mkdir -p "$WORK/vol/data" "$WORK/vol/run" "$WORK/vol/tmp" "$WORK/vol/backups" "$WORK/vol/backup-tmp"
  chown 0:70 "$WORK/vol/data" && chmod 2775 "$WORK/vol/data"
  for d in run tmp backups backup-tmp; do chown 0:70 "$WORK/vol/$d"; chmod 2777 "$WORK/vol/$d"; done

  local pg_spec
  pg_spec=$(cat <<EOF
{"image": $pg_cfg, "hostname": "db-0", "user": 70, "group": 70, "groups": [70], "readonly": true,
 "netns": "/var/run/netns/$NETNS",
 "env": ["POSTGRES_USER=app", "POSTGRES_PASSWORD=$pw", "POSTGRES_DB=app", "PGDATA=/var/lib/postgresql/data/pgdata"],
 "binds": [["$WORK/vol/data", "/var/lib/postgresql/data"], ["$WORK/vol/run", "/var/run/postgresql"], ["$WORK/vol/tmp", "/tmp"]],
 "tmpfs": [["/dev/shm", ["mode=1777", "size=262144k"]]]}
EOF
)
  bundle "$WORK/pg-1" "$WORK/pg-root" "$pg_spec"
  local t0=$SECONDS
  start pg-1 "$WORK/pg-1"
  # The startup/readiness probe, exactly: exec pg_isready in the container.
  if wait_for 120 "postgres ready (pg_isready probe)" "${RUNC[@]}" exec pg-1 pg_isready --host=127.0.0.1 --port=5432; then
    ok "first start: initdb + start, pg_isready probe passes after $((SECONDS - t0))s"
  else show_log pg-1; return 1; fi
  grep -q 'PostgreSQL init process complete; ready for start up.' "$WORK/pg-1.log" && ok "entrypoint ran initdb and its setup (\"init process complete\")" || bad "no 'init process complete' in the log"
  grep -E 'initdb|fixing permissions|creating subdirectories|listening on' "$WORK/pg-1.log" | head -n 6 | sed 's/^/[smoke]   | /' >&2

  # A client over TCP to the pod's address with the password (pg_hba.conf: the entrypoint's
  # "host all all all scram-sha-256"), from outside the container in the pod's network
  # namespace: the host's psql, else the image's.
  pgq() { if command -v psql >/dev/null; then in_pod psql "$@"; else "${RUNC[@]}" exec "$PGC" psql "$@"; fi; }
  local PGC=pg-1 psql_url="postgresql://app:$pw@$POD_IP:5432/app?sslmode=disable"
  local out
  out=$(pgq "$psql_url" -Atc "CREATE TABLE todo (id int primary key, title text); INSERT INTO todo VALUES (1, 'survive a restart'); SELECT current_user, current_database(), version();" 2>&1) \
    && ok "query over TCP with password: $out" || { bad "query over TCP: $out"; show_log pg-1; return 1; }
  out=$(pgq "postgresql://app:wrong@$POD_IP:5432/app?sslmode=disable" -Atc 'select 1' 2>&1) \
    && bad "a wrong password was accepted" || ok "wrong password refused: ${out##*FATAL:  }"
  out=$("${RUNC[@]}" exec pg-1 sh -c 'id; echo "PGDATA=$PGDATA"; ls -ld "$PGDATA" /var/run/postgresql; touch /probe 2>&1; grep -v "^#" "$PGDATA/pg_hba.conf" | grep .; psql -U app -d app -Atc "show data_directory; show jit; set jit_above_cost=0; select count(*) from generate_series(1,1000)"' 2>&1) || true
  printf '%s\n' "$out" | sed 's/^/[smoke]   | /' >&2
  case $out in *"Read-only file system"*) ok "root filesystem is read-only in the container" ;; *) bad "root filesystem writable?" ;; esac

  # The backup CronJob's container: same image, the sh -c script of src/postgres/backup.ts
  # (copied; retention 7 days), /backups + /tmp volumes, connecting to the pod's address.
  local script
  script=$(node -e 'process.stdout.write(JSON.stringify(process.argv[1]))' "$(printf '%s\n' 'set -eu' \
    'file="/backups/${PGDATABASE}-$(date -u +%Y%m%dT%H%M%SZ).dump"' 'pg_dump --format=custom --file="${file}.partial"' \
    'mv "${file}.partial" "${file}"' "find /backups -name '*.dump' -mtime +7 -delete" 'echo "backup written: ${file}"')")
  bundle "$WORK/backup" "$WORK/pg-root" "$(cat <<EOF
{"image": $pg_cfg, "hostname": "db-backup", "user": 70, "group": 70, "groups": [70], "readonly": true,
 "netns": "/var/run/netns/$NETNS", "args": ["sh", "-c", $script],
 "env": ["PGHOST=$POD_IP", "PGPORT=5432", "PGDATABASE=app", "PGUSER=app", "PGPASSWORD=$pw"],
 "binds": [["$WORK/vol/backups", "/backups"], ["$WORK/vol/backup-tmp", "/tmp"]]}
EOF
)"
  start backup "$WORK/backup"
  wait_for 60 "backup job finished" stopped backup || true
  if grep -q 'backup written: /backups/app-' "$WORK/backup.log" && ls "$WORK"/vol/backups/app-*.dump >/dev/null 2>&1; then
    ok "backup CronJob script: $(tail -n1 "$WORK/backup.log"), $(stat -c %s "$WORK"/vol/backups/app-*.dump) bytes"
    out=$("${RUNC[@]}" exec pg-1 sh -c 'cat > /tmp/b.dump && pg_restore --list /tmp/b.dump | grep -c "TABLE DATA"' <"$(ls "$WORK"/vol/backups/app-*.dump)" 2>&1) \
      && ok "pg_restore --list reads the dump ($out TABLE DATA entry)" || bad "pg_restore --list: $out"
  else bad "backup job"; show_log backup; fi

  # The metrics sidecar: uid 65534, pod group 70, read-only root, no volumes.
  bundle "$WORK/exp" "$WORK/exp-root" "$(cat <<EOF
{"image": $exp_cfg, "hostname": "db-0", "user": 65534, "group": 70, "groups": [70], "readonly": true,
 "netns": "/var/run/netns/$NETNS",
 "env": ["DATA_SOURCE_URI=127.0.0.1:5432/app?sslmode=disable", "DATA_SOURCE_USER=app", "DATA_SOURCE_PASS=$pw"]}
EOF
)"
  start exp "$WORK/exp"
  if wait_for 30 "exporter answers on :9187" in_pod curl -fsS -o /dev/null http://127.0.0.1:9187/; then
    out=$(in_pod curl -fsS http://127.0.0.1:9187/metrics | grep -E '^(pg_up|pg_static|postgres_exporter_build_info)' || true)
    printf '%s\n' "$out" | sed 's/^/[smoke]   | /' >&2
    grep -q '^pg_up 1$' <<<"$out" && ok "exporter /metrics has pg_up 1" || { bad "no pg_up 1"; show_log exp; }
  else show_log exp; fi

  # Stop as the kubelet does: the image's STOPSIGNAL (SIGINT, fast shutdown), then restart.
  t0=$SECONDS
  "${RUNC[@]}" kill pg-1 SIGINT
  wait_for 60 "postgres stopped on SIGINT" stopped pg-1 && ok "SIGINT: stopped in $((SECONDS - t0))s: $(grep -o 'database system is shut down' "$WORK/pg-1.log" | tail -n1)"
  "${RUNC[@]}" delete pg-1
  bundle "$WORK/pg-2" "$WORK/pg-root" "$pg_spec"
  start pg-2 "$WORK/pg-2"; PGC=pg-2
  if wait_for 60 "postgres ready after restart" "${RUNC[@]}" exec pg-2 pg_isready --host=127.0.0.1 --port=5432; then
    grep -q 'Skipping initialization' "$WORK/pg-2.log" && ok "restart: entrypoint found the database and skipped initialization" || bad "restart re-initialized?"
    out=$(pgq "$psql_url" -Atc "SELECT title FROM todo WHERE id = 1" 2>&1)
    [ "$out" = "survive a restart" ] && ok "restart kept the data: '$out'" || bad "after restart: $out"
  else show_log pg-2; fi
  "${RUNC[@]}" kill exp SIGTERM || true
  "${RUNC[@]}" kill pg-2 SIGINT || true
  wait_for 60 "postgres stopped" stopped pg-2 || true
  ls -ln "$WORK/vol/data" | sed 's/^/[smoke]   data volume: /' >&2
}

smoke_kaniko() {
  local ref=$1 registry=$2 cfg out
  say "kaniko: $ref"
  rootfs "$ref" "$WORK/kaniko-root"
  cfg=$(crane config ${IMAGES_INSECURE:+--insecure} "$ref" | node -e 'process.stdout.write(JSON.stringify(JSON.parse(require("fs").readFileSync(0)).config))')
  # Root with only KANIKO_CAPABILITIES (src/image-build/kaniko-build-job.ts), its own private
  # copy of the image as a writable root filesystem, the host's network (the registry listens on
  # the host's loopback).
  local caps='["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FOWNER","CAP_FSETID","CAP_SETGID","CAP_SETUID"]'
  bundle "$WORK/kaniko-version" "$WORK/kaniko-root" "{\"image\": $cfg, \"hostname\": \"kaniko\", \"user\": 0, \"group\": 0, \"caps\": $caps, \"args\": [\"/kaniko/executor\", \"version\"]}"
  start kaniko-version "$WORK/kaniko-version"
  wait_for 30 "executor version exits" stopped kaniko-version || true
  out=$(cat "$WORK/kaniko-version.log")
  case $out in *v1.*) ok "/kaniko/executor version in the container: $out" ;; *) bad "executor version: $out" ;; esac

  # A build: base image pulled from the registry, one COPY, pushed with --digest-file.
  local base="$registry/prometheuscommunity/postgres-exporter:v0.19.1"
  mkdir -p "$WORK/context"
  printf 'FROM %s\nCOPY hello.txt /hello.txt\n' "$base" >"$WORK/context/Dockerfile"
  echo "built by kaniko in smoke.sh" >"$WORK/context/hello.txt"
  # --force: kaniko looks for a container runtime in /proc/self/cgroup, /proc/mounts and the like;
  # a bare runc container with a directory rootfs on cgroup v1 shows none of them.
  bundle "$WORK/kaniko-build" "$WORK/kaniko-root" "$(cat <<EOF
{"image": $cfg, "hostname": "kaniko", "user": 0, "group": 0, "caps": $caps,
 "args": ["/kaniko/executor", "--force", "--context=dir:///workspace", "--dockerfile=Dockerfile",
   "--destination=$registry/smoke/kaniko-built:latest", "--digest-file=/workspace/digest", "--reproducible",
   "--insecure", "--insecure-pull", "--skip-tls-verify", "--skip-tls-verify-pull"],
 "binds": [["$WORK/context", "/workspace"]]}
EOF
)"
  local t0=$SECONDS
  start kaniko-build "$WORK/kaniko-build"
  wait_for 300 "kaniko build finished" stopped kaniko-build || true
  sed 's/^/[smoke]   | /' "$WORK/kaniko-build.log" | tail -n 12 >&2
  if [ -s "$WORK/context/digest" ]; then
    local d; d=$(cat "$WORK/context/digest")
    ok "kaniko built and pushed $registry/smoke/kaniko-built@$d in $((SECONDS - t0))s"
    out=$(crane export ${IMAGES_INSECURE:+--insecure} "$registry/smoke/kaniko-built@$d" - | tar -xO hello.txt 2>&1)
    [ "$out" = "built by kaniko in smoke.sh" ] && ok "the pushed image has the COPY'd file" || bad "pushed image content: $out"
  else bad "kaniko build (no digest file)"; fi
}

IMAGES_INSECURE=${IMAGES_INSECURE-1}
case "${1:-}" in
  postgres) [ $# -eq 3 ] || { echo "usage: smoke.sh postgres POSTGRES_REF EXPORTER_REF" >&2; exit 2; }; smoke_postgres "$2" "$3" ;;
  kaniko) [ $# -eq 3 ] || { echo "usage: smoke.sh kaniko KANIKO_REF REGISTRY" >&2; exit 2; }; smoke_kaniko "$2" "$3" ;;
  *) usage ;;
esac
echo "smoke: $passed passed, $failed failed" >&2
[ "$failed" = 0 ]
