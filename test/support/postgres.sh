#!/usr/bin/env bash
# Throwaway PostgreSQL cluster for tests.
#
#   postgres.sh start DIR   create a fresh cluster in DIR, start it on a free
#                           127.0.0.1 port and print sourceable `export PG...=`
#                           lines on stdout (progress goes to stderr).
#   postgres.sh stop DIR    stop the cluster and remove DIR.
#
# Shared by the Go tests (app/test.sh) and the TypeScript end-to-end tests, so
# stdout carries nothing but the export line.
set -euo pipefail

readonly MARKER=.postgres-sh-cluster
readonly PG_ROLE=todo
readonly PG_DB=todo

log() { printf 'postgres.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

find_bindir() {
  local d
  # Newest major version wins when several are installed. The paths are
  # fixed Debian ones, so parsing ls output is safe here.
  # shellcheck disable=SC2012
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [[ -x "$d/initdb" && -x "$d/pg_ctl" && -x "$d/postgres" ]]; then
      printf '%s\n' "$d"
      return 0
    fi
  done
  die "PostgreSQL server not found under /usr/lib/postgresql/*/bin (install it: apt-get install -y postgresql)"
}

# Postgres refuses to run as root, so when we are root every server-side
# command runs as the unprivileged `postgres` OS user instead.
as_pg() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u "$PG_OS_USER" -- "$@"
  else
    "$@"
  fi
}

port_in_use() {
  # A successful connect means something is already listening there.
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

random_port() {
  echo $(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
}

start() {
  local dir=$1 bindir port password attempt
  bindir=$(find_bindir)

  if [[ -e "$dir" ]]; then
    [[ -d "$dir" ]] || die "$dir exists and is not a directory"
    [[ -z "$(ls -A "$dir")" ]] || die "$dir is not empty"
  else
    mkdir -p "$dir"
  fi
  dir=$(cd "$dir" && pwd)
  touch "$dir/$MARKER"

  if [[ $(id -u) -eq 0 ]]; then
    PG_OS_USER=postgres
    id "$PG_OS_USER" >/dev/null 2>&1 || die "OS user '$PG_OS_USER' missing (it comes with the postgresql package)"
    chown "$PG_OS_USER" "$dir"
    as_pg test -x "$dir" || die "user $PG_OS_USER cannot reach $dir (a parent directory is not traversable); use a directory under /tmp"
  fi
  chmod 700 "$dir"

  password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  local pwfile="$dir/superuser.pw"
  as_pg sh -c "umask 077; printf '%s\n' '$password' > '$pwfile'"

  log "initdb in $dir/data ($bindir)"
  as_pg "$bindir/initdb" -D "$dir/data" -U postgres --pwfile="$pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  rm -f "$pwfile"
  as_pg mkdir -p "$dir/sock"
  # TLS too, as production serves it: clients with PGSSLMODE=require (the prod tree's) connect as well.
  as_pg openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -keyout "$dir/server.key" -out "$dir/server.crt" >/dev/null 2>&1 || die "openssl could not make a certificate"

  # A port can be taken between the probe and the bind, so retry with another.
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    port=$(random_port)
    port_in_use "$port" && continue
    log "starting on 127.0.0.1:$port (attempt $attempt)"
    # Durability settings are off: the cluster is disposable and speed matters.
    if as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start -o \
      "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir/sock -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c ssl=on -c ssl_cert_file=$dir/server.crt -c ssl_key_file=$dir/server.key" \
      >&2; then
      break
    fi
    port=
    tail -n 5 "$dir/server.log" >&2 || true
  done
  [[ -n "$port" ]] || die "could not start postgres (see $dir/server.log)"

  as_pg "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir/sock" -p "$port" -U postgres -d postgres >&2 <<SQL
CREATE ROLE $PG_ROLE LOGIN CREATEDB PASSWORD '$password';
CREATE DATABASE $PG_DB OWNER $PG_ROLE;
SQL

  # Prove that the exported credentials work over TCP before handing them out.
  for _ in $(seq 1 50); do
    if PGPASSWORD=$password "$bindir/psql" -X -q -h 127.0.0.1 -p "$port" -U "$PG_ROLE" -d "$PG_DB" -c 'SELECT 1' >/dev/null 2>&1; then
      log "ready"
      printf 'export PGHOST=127.0.0.1 PGPORT=%s PGUSER=%s PGPASSWORD=%s PGDATABASE=%s PGSSLMODE=disable\n' \
        "$port" "$PG_ROLE" "$password" "$PG_DB"
      return 0
    fi
    sleep 0.2
  done
  die "postgres started but $PG_ROLE cannot log in over TCP (see $dir/server.log)"
}

stop() {
  local dir=$1 bindir
  if [[ ! -e "$dir" ]]; then
    log "$dir does not exist; nothing to stop"
    return 0
  fi
  # Refuse to delete a directory this script did not create.
  [[ -f "$dir/$MARKER" ]] || die "$dir was not created by postgres.sh start; not removing it"
  PG_OS_USER=postgres
  if [[ -f "$dir/data/postmaster.pid" ]]; then
    bindir=$(find_bindir)
    log "stopping cluster in $dir/data"
    as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || log "pg_ctl stop failed; removing anyway"
  fi
  rm -rf "$dir"
  log "removed $dir"
}

usage() { die "usage: $0 start DIR | stop DIR"; }

[[ $# -eq 2 ]] || usage
PG_OS_USER=postgres
case $1 in
  start) start "$2" ;;
  stop) stop "$2" ;;
  *) usage ;;
esac
