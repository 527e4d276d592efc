#!/usr/bin/env bash
# test/tools/images/postgres/customize.sh ROOTFS ENTRYPOINT_DIR PG_MAJOR [PG_UID [PG_GID]]
#
# mmdebstrap's --customize-hook for the postgres stand-in image: runs on the host, as root,
# after every package is installed in ROOTFS. Turns a Debian rootfs with postgresql-PG_MAJOR
# into the layout of the official image (third_party/postgres-image/16-alpine3.22/Dockerfile):
# user postgres 70:70 (PG_UID:PG_GID), /var/lib/postgresql{,/data},
# /docker-entrypoint-initdb.d, the entrypoint scripts unchanged in /usr/local/bin, and
# listen_addresses = '*' in the sample config.
set -euo pipefail
root=$1 src=$2 pg_major=$3
# 70:70 is the official Alpine image's postgres uid/gid, the Postgres construct's runAsUser
# default. cloudnative-pg-postgresql passes 26:999, the user of ghcr.io/cloudnative-pg/postgresql
# (`usermod -u 26 postgres` over the Debian image's 999:999; gid 26 is Debian's "tape"): 26 is
# CloudNativePG's spec.postgresUID default, and initdb refuses to run as a uid without a passwd entry.
PG_UID=${4:-70}
PG_GID=${5:-$PG_UID}

# 1. postgres as PG_UID:PG_GID. postgresql-common's postinst made the user with a dynamic system uid
# (adduser refuses to reuse an existing uid below FIRST_SYSTEM_UID=100, so it cannot be made
# 70 up front); move it and everything it owns to PG_UID:PG_GID now.
old_uid=$(awk -F: '$1 == "postgres" {print $3}' "$root/etc/passwd")
old_gid=$(awk -F: '$1 == "postgres" {print $3}' "$root/etc/group")
if [ -z "$old_uid" ] || [ -z "$old_gid" ]; then echo "customize: no postgres user/group in the rootfs" >&2; exit 1; fi
if [ "$old_uid" != "$PG_UID" ] || [ "$old_gid" != "$PG_GID" ]; then
  if awk -F: -v u="$PG_UID" '$3 == u && $1 != "postgres" {f=1} END {exit !f}' "$root/etc/passwd" \
    || awk -F: -v g="$PG_GID" '$3 == g && $1 != "postgres" {f=1} END {exit !f}' "$root/etc/group"; then
    echo "customize: uid $PG_UID or gid $PG_GID is taken in the rootfs" >&2; exit 1
  fi
  find "$root" -xdev -uid "$old_uid" -exec chown -h "$PG_UID" {} +
  find "$root" -xdev -gid "$old_gid" -exec chgrp -h "$PG_GID" {} +
  sed -i -E "s/^postgres:([^:]*):$old_uid:$old_gid:/postgres:\\1:$PG_UID:$PG_GID:/" "$root/etc/passwd"
  sed -i -E "s/^postgres:([^:]*):$old_gid:/postgres:\\1:$PG_GID:/" "$root/etc/group"
fi
grep -q "^postgres:[^:]*:$PG_UID:$PG_GID:" "$root/etc/passwd"
grep -q "^postgres:[^:]*:$PG_GID:" "$root/etc/group"

# 2. Drop what the packages' maintainer scripts generated that an image must not carry: the
# "main" cluster pg_createcluster made (the entrypoint runs initdb itself), its config and
# logs, and ssl-cert's snakeoil key pair (a private key generated at build time).
rm -rf "$root/etc/postgresql/$pg_major" "$root/var/lib/postgresql/$pg_major"
rm -rf "$root/var/log/postgresql" && install -d -o "$PG_UID" -g "$PG_GID" -m 2775 "$root/var/log/postgresql"
rm -f "$root/etc/ssl/private/ssl-cert-snakeoil.key" "$root/etc/ssl/certs/ssl-cert-snakeoil.pem"

# 3. The en_US.UTF-8 locale behind LANG=en_US.utf8, as the official Debian-based image makes it
# (glibc needs it compiled; Alpine's musl did not).
chroot "$root" localedef -i en_US -c -f UTF-8 -A /usr/share/locale/locale.alias en_US.UTF-8

# 4. "make the sample config easier to munge (and "correct by default")" — same sed as upstream.
sample=$root/usr/share/postgresql/$pg_major/postgresql.conf.sample
cp "$sample" "$sample.orig"
sed -ri "s!^#?(listen_addresses)\s*=\s*\S+.*!\1 = '*'!" "$sample"
grep -F "listen_addresses = '*'" "$sample" >/dev/null

# 5. Directories, modes as upstream. (/var/run/postgresql: recipe.sh, after mmdebstrap's cleanup
# of /run.)
install -d -o "$PG_UID" -g "$PG_GID" -m 1777 "$root/var/lib/postgresql"
install -d -o "$PG_UID" -g "$PG_GID" -m 1777 "$root/var/lib/postgresql/data"
install -d -m 0755 "$root/docker-entrypoint-initdb.d"

# 6. The official entrypoint files, byte for byte, and upstream's links.
install -m 0755 "$src/docker-entrypoint.sh" "$src/docker-ensure-initdb.sh" "$root/usr/local/bin/"
ln -sfT docker-ensure-initdb.sh "$root/usr/local/bin/docker-enforce-initdb.sh"
# The entrypoint steps down with `gosu postgres` when started as root; Debian's gosu package
# installs /usr/sbin/gosu. su-exec is upstream's backwards-compatibility name for it.
ln -sfT /usr/sbin/gosu "$root/usr/local/bin/su-exec"

# 7. Trim: caches, logs and backup files of the package tools, nothing the image runs.
rm -rf "$root/var/cache/apt/"* "$root/var/lib/apt/lists/"* "$root/var/cache/debconf/"*-old \
  "$root/var/lib/dpkg/"*-old "$root/var/log/"*.log "$root/var/log/apt" "$root/root/.cache"
