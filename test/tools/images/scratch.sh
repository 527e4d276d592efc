# test/tools/images/scratch.sh — the from-scratch base of the images that hold one static Go
# binary (sealed-secrets-controller, cloudnative-pg, versitygw, metrics-server); sourced by
# build.sh. Its own file, not lib.sh, so that only those images' cache keys name it.
# shellcheck shell=bash

# scratch_base ROOT USER UID HOME: /etc/passwd and /etc/group with root and USER (UID, a group
# of its own), and /tmp (1777), which Go programs expect; nothing else.
scratch_base() {
  local root=$1 user=$2 uid=$3 home=$4
  install -d -m 0755 "$root/etc"
  install -d -m 1777 "$root/tmp"
  printf 'root:x:0:0:root:/root:/sbin/nologin\n%s:x:%s:%s::%s:/sbin/nologin\n' "$user" "$uid" "$uid" "$home" >"$root/etc/passwd"
  printf 'root:x:0:\n%s:x:%s:\n' "$user" "$uid" >"$root/etc/group"
  chmod 0644 "$root/etc/passwd" "$root/etc/group"
}

# scratch_layer ROOT LAYER: ROOT as a layer owned by root, then ROOT removed.
scratch_layer() {
  tar_layer "$1" "$2" --owner=0 --group=0
  rm -rf "$1"
}
