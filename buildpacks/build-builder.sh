#!/usr/bin/env bash
# buildpacks/build-builder.sh — make the Cloud Native Buildpacks builder image for
# `npm run build:image -- --builder buildpacks` (CNB_BUILDER_IMAGE), push it, print it by digest.
#
# Usage: buildpacks/build-builder.sh REPOSITORY RUN_IMAGE
#   REPOSITORY  where to push the builder, e.g. ghcr.io/acme/cnb-builder or 127.0.0.1:5000/cnb/builder
#   RUN_IMAGE   the image apps are exported onto (a non-root base, by digest); recorded in /cnb/run.toml
# stdout: REPOSITORY@sha256:<digest>; stderr: progress.
#
# What Paketo's builders hold, made from this repository and the module proxy: the build image is
# busybox (the buildpacks are shell scripts) with the CA roots and the user cnb (65532, the run
# image's user too, so the app's layers belong to the user it runs as); /cnb/lifecycle holds the
# lifecycle (every phase is that binary under its own name) and the launcher; /cnb/buildpacks the
# buildpacks of this directory; /cnb/order.toml their detection order; /cnb/run.toml the run image.
#
# Needs: crane, go (for the SBOMs of the lifecycle and launcher); the lifecycle and launcher binaries (LIFECYCLE_DIR, default the cache of
# `bash test/tools/install.sh lifecycle`); a static busybox (BUSYBOX, default /bin/busybox from
# Debian's busybox-static).
set -euo pipefail
[ $# -eq 2 ] || { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
repository=$1 run_image=$2
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LIFECYCLE_VERSION=v0.20.8
CACHE=${TODO_GITOPS_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/todo-gitops/tools}
LIFECYCLE_DIR=${LIFECYCLE_DIR:-$CACHE/lifecycle-$LIFECYCLE_VERSION}
BUSYBOX=${BUSYBOX:-/bin/busybox}
CNB_UID=65532
PHASES=(detector analyzer restorer builder exporter creator rebaser extender)

say() { echo "[builder] $*" >&2; }
for f in "$LIFECYCLE_DIR/lifecycle" "$LIFECYCLE_DIR/launcher"; do
  [ -x "$f" ] || { echo "build-builder.sh: $f not found; run: bash test/tools/install.sh lifecycle (or set LIFECYCLE_DIR)" >&2; exit 1; }
done
[ -x "$BUSYBOX" ] || { echo "build-builder.sh: $BUSYBOX not found; apt-get install busybox-static (or set BUSYBOX to a static busybox)" >&2; exit 1; }
command -v crane >/dev/null || { echo "build-builder.sh: crane not found; eval \"\$(bash test/tools/install.sh crane)\"" >&2; exit 1; }
# crane assumes plain HTTP by itself only for registries on loopback; CRANE_INSECURE=1 for others.
insecure=(); [ "${CRANE_INSECURE:-0}" != 1 ] || insecure=(--insecure)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
say "1/4 build image tree: busybox, CA roots, user cnb ($CNB_UID)"
mkdir -p "$root"/{bin,etc/ssl/certs,tmp,layers,workspace,home/cnb,cnb/lifecycle,cnb/buildpacks}
cp "$BUSYBOX" "$root/bin/busybox"
for applet in $("$BUSYBOX" --list); do [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"; done
printf 'root:x:0:0:root:/root:/bin/sh\ncnb:x:%d:%d:cnb:/home/cnb:/bin/sh\n' $CNB_UID $CNB_UID >"$root/etc/passwd"
printf 'root:x:0:\ncnb:x:%d:\n' $CNB_UID >"$root/etc/group"
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"

say "2/4 lifecycle $LIFECYCLE_VERSION ($("$LIFECYCLE_DIR/lifecycle" -version 2>/dev/null || echo '?')), launcher, buildpacks, order, run image $run_image"
cp "$LIFECYCLE_DIR/lifecycle" "$LIFECYCLE_DIR/launcher" "$root/cnb/lifecycle/"
for phase in "${PHASES[@]}"; do ln -s lifecycle "$root/cnb/lifecycle/$phase"; done
# Their SBOMs, which the exporter adds to every image (as the lifecycle's release archive has them).
for bin in lifecycle launcher; do
  go version -m "$LIFECYCLE_DIR/$bin" | awk -v name="$bin" -v module="github.com/buildpacks/lifecycle@$LIFECYCLE_VERSION" \
    -v go="$(go version -m "$LIFECYCLE_DIR/$bin" | awk 'NR == 1 {sub(/^go/, "", $2); print $2}')" \
    -f "$HERE/go/lib/cyclonedx.awk" >"$root/cnb/lifecycle/$bin.sbom.cdx.json"
done
for bp in "$HERE"/*/buildpack.toml; do
  dir=$(dirname "$bp")
  id=$(awk -F'"' '$1 ~ /^ *id = $/ {print $2; exit}' "$bp")
  version=$(awk -F'"' '$1 ~ /^ *version = $/ {print $2; exit}' "$bp")
  dest=$root/cnb/buildpacks/${id//\//_}/$version
  mkdir -p "$dest"
  cp -r "$dir"/. "$dest/"
  say "    buildpack $id $version"
done
cp "$HERE/order.toml" "$root/cnb/order.toml"
printf '[[images]]\n  image = "%s"\n' "$run_image" >"$root/cnb/run.toml"
chmod 1777 "$root/tmp"
chown -R 0:0 "$root"
chown $CNB_UID:$CNB_UID "$root/layers" "$root/workspace" "$root/home/cnb"

say "3/4 one layer, reproducible (sorted, mtime 0)"
tar --numeric-owner --sort=name --mtime=@0 -C "$root" -cf "$tmp/builder.tar" .
crane append "${insecure[@]}" -f "$tmp/builder.tar" -t "$repository:layer" >&2
say "4/4 config: user $CNB_UID, CNB_USER_ID/CNB_GROUP_ID, platform linux/amd64"
crane mutate "${insecure[@]}" "$repository:layer" --set-platform linux/amd64 --user "$CNB_UID:$CNB_UID" \
  --env "CNB_USER_ID=$CNB_UID" --env "CNB_GROUP_ID=$CNB_UID" --env PATH=/bin --env HOME=/home/cnb \
  --workdir /layers -t "$repository:latest" >&2
echo "$repository@$(crane digest "${insecure[@]}" "$repository:latest")"
