# debs: Debian's etcd, buildah, PostgreSQL, redis-server, git, runc and jq, installed when missing
# etcd-server -> etcd, buildah, postgresql -> postgres/initdb/pg_ctl, redis-server and git for
# Argo CD, runc (test/tools/images/kaniko-executor.sh and smoke.sh run images in runc containers)
# and jq (the README's deploy commands read images.lock.json with it). Each is apt-installed only
# when its binary is missing; PostgreSQL's bin dir is put on PATH.
# shellcheck shell=bash

pg_bindir() {
  local p
  p=$(command -v postgres 2>/dev/null || true)
  if [ -n "$p" ]; then dirname "$(readlink -f "$p")"; return 0; fi
  p=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
  [ -n "$p" ] && [ -x "$p/postgres" ] && { echo "$p"; return 0; }
  return 1
}

install_debs() {
  local missing=() d
  command -v etcd >/dev/null || missing+=(etcd-server)
  command -v buildah >/dev/null || missing+=(buildah)
  pg_bindir >/dev/null || missing+=(postgresql)
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v git >/dev/null || missing+=(git)
  command -v runc >/dev/null || missing+=(runc)
  command -v jq >/dev/null || missing+=(jq)
  debian_packages apt.log "etcd-server buildah postgresql redis-server git runc jq" "${missing[@]}"
  if d=$(pg_bindir); then add_path "$d"; else warn "postgres not found after install"; fi
}
