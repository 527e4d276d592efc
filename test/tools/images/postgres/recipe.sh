# test/tools/images/postgres/recipe.sh — the postgres stand-in image; sourced by build.sh.
#
# A stand-in for docker.io/library/postgres:16-alpine that can be built here: Debian
# bookworm's PostgreSQL (bookworm ships 15, not 16) in a `mmdebstrap --variant=minbase`
# rootfs, started by the official image's docker-entrypoint.sh, unchanged
# (third_party/postgres-image/16-alpine3.22/), with the official image's user (70:70),
# directories, ENV, STOPSIGNAL, ENTRYPOINT, CMD and EXPOSE. See README.md beside build.sh.
# The same rootfs recipe (build_postgres) makes cloudnative-pg-postgresql too, with more packages
# and another user (cloudnative-pg-postgresql/recipe.sh); the defaults below make this image.
# shellcheck shell=bash

POSTGRES_SUITE=bookworm
POSTGRES_PG_MAJOR=15
POSTGRES_REPOSITORY=library/postgres
POSTGRES_UID=70   # the official Alpine image's postgres uid/gid; the Postgres construct's runAsUser default
POSTGRES_ENTRYPOINT_DIR=$REPO_ROOT/third_party/postgres-image/16-alpine3.22
# Beyond minbase (bash, coreutils, findutils, grep, sed, dash as sh, ...):
#   postgresql-15   server, initdb, pg_ctl; pulls postgresql-client-15 (psql, pg_dump,
#                   pg_restore, pg_isready: the backup CronJob and the probes run them)
#   gosu            the entrypoint's `gosu postgres` step-down when started as root
#   libnss-wrapper  the entrypoint's fallback when started as a uid without a passwd entry
#   locales         localedef for en_US.UTF-8 (LANG=en_US.utf8)
#   zstd xz-utils   the entrypoint's *.sql.zst / *.sql.xz init files (gzip is in minbase)
POSTGRES_PACKAGES=postgresql-$POSTGRES_PG_MAJOR,gosu,libnss-wrapper,locales,zstd,xz-utils
# Files left out of the packages as dpkg unpacks them: documentation (copyright files kept),
# man/info pages, message translations, and LLVM JIT (libLLVM alone is 105 MB; without
# llvmjit.so Postgres runs with JIT unavailable, the same as jit=off; our queries are far below
# jit_above_cost anyway).
POSTGRES_DPKG_EXCLUDES=(
  'path-exclude=/usr/share/doc/*' 'path-include=/usr/share/doc/*/copyright'
  'path-exclude=/usr/share/man/*' 'path-exclude=/usr/share/info/*'
  'path-exclude=/usr/share/locale/*' 'path-include=/usr/share/locale/locale.alias'
  'path-exclude=/usr/lib/x86_64-linux-gnu/libLLVM-*'
  "path-exclude=/usr/lib/postgresql/$POSTGRES_PG_MAJOR/lib/llvmjit*"
  "path-exclude=/usr/lib/postgresql/$POSTGRES_PG_MAJOR/lib/bitcode/*"
)
# A fixed SOURCE_DATE_EPOCH makes mmdebstrap's own outputs (/etc/shadow dates, ...) stable.
POSTGRES_SOURCE_DATE_EPOCH=1735689600   # 2025-01-01T00:00:00Z

# postgres_key [FILE...]: the cache key of an image of this rootfs recipe; another image's recipe
# names its own file(s).
postgres_key() {
  echo "$POSTGRES_PG_MAJOR-$POSTGRES_SUITE-$(key_of "$IMAGES_DIR/lib.sh" "$IMAGES_DIR/debian.sh" "$IMAGES_DIR/postgres/recipe.sh" \
    "$IMAGES_DIR/postgres/customize.sh" "$POSTGRES_ENTRYPOINT_DIR/docker-entrypoint.sh" \
    "$POSTGRES_ENTRYPOINT_DIR/docker-ensure-initdb.sh" "$@")"
}

# build_postgres DIR [NAME STANDIN EXTRA_PACKAGES UID GID LICENSES]: an image of this rootfs recipe
# into DIR (oci/, tag, packages.txt). NAME is its title (and its log's name), STANDIN the upstream
# image it stands in for, EXTRA_PACKAGES (comma-separated) are installed beside $POSTGRES_PACKAGES
# and named with their versions in the description, UID:GID is the postgres user's, LICENSES the
# SPDX expression of its label. Without them: the postgres image (the same bytes as before they
# existed: its digest is pinned).
build_postgres() {
  local dir=$1 name=${2:-postgres} standin=${3:-docker.io/library/postgres:16-alpine} extra=${4:-}
  local uid=${5:-$POSTGRES_UID} gid=${6:-$POSTGRES_UID} licenses=${7:-PostgreSQL AND MIT}
  local packages=$POSTGRES_PACKAGES${extra:+,$extra}
  local rootfs=$1/rootfs mirror sec keyring opts=()
  [ "$(id -u)" = 0 ] || die "building the postgres rootfs needs root (mmdebstrap --mode=root, chroot)"
  ensure_mmdebstrap
  mirror=$(debian_mirror); sec=$(debian_security_mirror)
  keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  local signed=; [ -r $keyring ] && signed="[signed-by=$keyring] "
  for o in "${POSTGRES_DPKG_EXCLUDES[@]}"; do opts+=(--dpkgopt="$o"); done
  note "mmdebstrap $POSTGRES_SUITE minbase + $packages from $mirror (+ ${POSTGRES_SUITE}-updates, $sec ${POSTGRES_SUITE}-security)"
  # unshare --mount: mmdebstrap's /proc, /sys and /dev mounts in the rootfs live in a private
  # mount namespace, so none survives an interrupted build.
  logged "$IMAGES_LOGS/$name-mmdebstrap.log" env SOURCE_DATE_EPOCH=$POSTGRES_SOURCE_DATE_EPOCH \
    unshare --mount --propagation private -- \
    mmdebstrap --mode=root --variant=minbase --format=directory \
      --aptopt='Acquire::Retries "3"' \
      --include="$packages" "${opts[@]}" \
      --customize-hook="\"$IMAGES_DIR/postgres/customize.sh\" \"\$1\" \"$POSTGRES_ENTRYPOINT_DIR\" $POSTGRES_PG_MAJOR $uid $gid" \
      "$POSTGRES_SUITE" "$rootfs" \
      "deb ${signed}$mirror $POSTGRES_SUITE main" \
      "deb ${signed}$mirror $POSTGRES_SUITE-updates main" \
      "deb ${signed}$sec $POSTGRES_SUITE-security main"

  # /var/run/postgresql as upstream makes it (owner postgres, mode 3777). Debian's /var/run is a
  # link to /run, whose contents mmdebstrap empties after the customize hook.
  install -d -o "$uid" -g "$gid" -m 3777 "$rootfs/run/postgresql"
  # apt leaves lists/partial owned by _apt, or by root when its sandbox user could not reach the
  # build dir (a cache under a 0700 home): root either way, so the layer does not depend on it.
  chown 0:0 "$rootfs/var/lib/apt/lists/partial"
  local deb_version pg_version extra_desc='' p
  # shellcheck disable=SC2016  # dpkg-query's own ${field} syntax
  deb_version=$(chroot "$rootfs" dpkg-query -W -f '${Version}' "postgresql-$POSTGRES_PG_MAJOR")
  pg_version=${deb_version%%-*}
  for p in ${extra//,/ }; do
    # shellcheck disable=SC2016
    extra_desc+=" + $p $(chroot "$rootfs" dpkg-query -W -f '${Version}' "$p")"
  done
  "$rootfs/usr/lib/postgresql/$POSTGRES_PG_MAJOR/bin/postgres" --version >&2
  # shellcheck disable=SC2016
  chroot "$rootfs" dpkg-query -W -f '${Package}\t${Version}\n' >"$dir/packages.txt"

  # The layer: the rootfs without what a container runtime provides (/dev, /proc, /sys, /run
  # contents other than /run/postgresql) and with the owners and modes customize.sh set.
  tar_layer "$rootfs" "$dir/layer.tar" '--exclude=./dev/*' '--exclude=./proc/*' '--exclude=./sys/*' \
    '--exclude=./run/lock/*' '--exclude=./run/mount/*' '--exclude=./tmp/*' '--exclude=./var/tmp/*'
  rm -rf "$rootfs"

  local bindir=/usr/lib/postgresql/$POSTGRES_PG_MAJOR/bin labels config
  labels="{\"org.opencontainers.image.title\":$(json_str "$name")"
  labels+=",\"org.opencontainers.image.version\":$(json_str "$deb_version")"
  labels+=",\"org.opencontainers.image.description\":$(json_str "Stand-in for $standin: Debian $POSTGRES_SUITE postgresql-$POSTGRES_PG_MAJOR $deb_version$extra_desc with the official docker-entrypoint.sh (docker-library/postgres 6edb0a8c, 16/alpine3.22), built by test/tools/images")"
  labels+=",\"org.opencontainers.image.licenses\":$(json_str "$licenses")}"
  # Mirrors the official Dockerfile: bin dir on PATH (before /usr/bin, where Debian's perl
  # pg_wrapper links live), LANG, PG_MAJOR/PG_VERSION (the entrypoint reads PG_MAJOR), PGDATA.
  config="{\"Env\":$(json_arr "PATH=/usr/local/sbin:/usr/local/bin:$bindir:/usr/sbin:/usr/bin:/sbin:/bin" \
    LANG=en_US.utf8 "PG_MAJOR=$POSTGRES_PG_MAJOR" "PG_VERSION=$pg_version" PGDATA=/var/lib/postgresql/data)"
  config+=",\"Entrypoint\":[\"docker-entrypoint.sh\"],\"Cmd\":[\"postgres\"]"
  config+=",\"ExposedPorts\":{\"5432/tcp\":{}},\"Volumes\":{\"/var/lib/postgresql/data\":{}}"
  config+=",\"StopSignal\":\"SIGINT\",\"Labels\":$labels}"
  oci_layout "$dir/oci" "$config" \
    "$dir/layer.tar=mmdebstrap --variant=minbase $POSTGRES_SUITE + $packages; test/tools/images/postgres/customize.sh" >/dev/null
  rm -f "$dir/layer.tar"
  echo "$pg_version-$POSTGRES_SUITE" >"$dir/tag"
}

# image_postgres: build (or reuse) and push; prints the reference.
image_postgres() {
  cached_or_build postgres "$(postgres_key)" build_postgres
  progress "pushing postgres to $REGISTRY/$POSTGRES_REPOSITORY"
  push_layout "$CACHED_DIR/oci" "$REGISTRY/$POSTGRES_REPOSITORY" "$(cat "$CACHED_DIR/tag")"
}
