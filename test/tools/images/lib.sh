# test/tools/images/lib.sh — helpers shared by the image recipes; sourced by build.sh.
#
# An image is written as an OCI image layout (oci-layout, index.json, blobs/sha256/...) by
# oci_layout below, from deterministic tar layers and a config JSON, then pushed with
# `crane push`. Writing the layout ourselves (rather than `crane append` + `crane mutate`)
# is what lets a cached image be pushed again unchanged (same digest in every registry), and
# it is the only way with crane to set STOPSIGNAL and VOLUME, which `crane mutate` lacks.
# shellcheck shell=bash

IMAGES_EPOCH_RFC3339=1970-01-01T00:00:00Z

# progress MSG: "[images i/N] MSG" on stderr; build.sh sets IMAGES_TOTAL.
IMAGES_STEP=0
progress() { IMAGES_STEP=$((IMAGES_STEP + 1)); echo "[images $IMAGES_STEP/${IMAGES_TOTAL:-?}] $*" >&2; }
note() { echo "[images]   $*" >&2; }
die() { echo "[images] ERROR: $*" >&2; exit 1; }

sha256_file() { sha256sum "$1" | cut -d' ' -f1; }

# tool_dir TOOL VERSION: where test/tools/install.sh caches a tool's binaries.
tool_dir() { echo "${TODO_GITOPS_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/todo-gitops/tools}/$1-$2"; }

# key_of FILE...: a short hash of the recipe inputs, the cache key's last part. Any edit to a
# recipe (even a comment) rebuilds; that is cheap compared with a stale image.
key_of() { cat "$@" | sha256sum | cut -c1-12; }

# Run "$@" with output to LOG; on failure show the tail and return non-zero.
logged() {
  local log=$1; shift
  local start=$SECONDS
  if "$@" >"$log" 2>&1; then
    note "done in $((SECONDS - start))s (log: $log)"
    return 0
  fi
  echo "[images]   FAILED after $((SECONDS - start))s; last lines of $log:" >&2
  tail -n 30 "$log" | sed 's/^/[images]     /' >&2
  return 1
}

# json_str S: S as a JSON string. Only the escapes our constant inputs can need.
json_str() {
  local s=$1
  s=${s//\\/\\\\}; s=${s//\"/\\\"}; s=${s//$'\n'/\\n}; s=${s//$'\t'/\\t}
  printf '"%s"' "$s"
}
# json_arr S...: the arguments as a JSON array of strings.
json_arr() {
  local out='[' sep='' a
  for a in "$@"; do out+="$sep$(json_str "$a")"; sep=','; done
  printf '%s]' "$out"
}

# tar_layer ROOTDIR OUT [tar options...]: a reproducible layer tar of ROOTDIR's contents:
# sorted names, mtime 0, numeric owners, no atime/ctime, GNU format (no PAX time headers).
tar_layer() {
  local root=$1 out=$2; shift 2
  tar --create --file="$out" --directory="$root" --format=gnu --sort=name --mtime=@0 \
    --numeric-owner --no-acls --no-selinux --no-xattrs "$@" .
}

# oci_layout OUT CONFIG_JSON LAYER_TAR[=created_by]...
# Writes an OCI image layout to OUT (which must not exist): each uncompressed tar becomes a
# `gzip -n` blob (deterministic), CONFIG_JSON is the image config's "config" object, the
# platform is linux/amd64 and every timestamp is the epoch. Prints the manifest digest.
oci_layout() {
  local out=$1 config=$2; shift 2
  mkdir -p "$out/blobs/sha256"
  local diff_ids=() layers=() history=() spec tar by diff dgz size
  for spec in "$@"; do
    tar=${spec%%=*}; by=${spec#*=}; [ "$by" != "$spec" ] || by="layer $(basename "$tar")"
    diff=$(sha256_file "$tar")
    gzip -n -6 -c "$tar" >"$out/blobs/sha256/.tmp"
    dgz=$(sha256_file "$out/blobs/sha256/.tmp")
    size=$(stat -c %s "$out/blobs/sha256/.tmp")
    mv -f "$out/blobs/sha256/.tmp" "$out/blobs/sha256/$dgz"
    diff_ids+=("$(json_str "sha256:$diff")")
    layers+=("{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$dgz\",\"size\":$size}")
    history+=("{\"created\":\"$IMAGES_EPOCH_RFC3339\",\"created_by\":$(json_str "$by")}")
  done
  local IFS=,
  printf '{"architecture":"amd64","config":%s,"created":"%s","history":[%s],"os":"linux","rootfs":{"type":"layers","diff_ids":[%s]}}' \
    "$config" "$IMAGES_EPOCH_RFC3339" "${history[*]}" "${diff_ids[*]}" >"$out/config.json"
  unset IFS
  local cdig csize
  cdig=$(sha256_file "$out/config.json"); csize=$(stat -c %s "$out/config.json")
  mv "$out/config.json" "$out/blobs/sha256/$cdig"
  local IFS=,
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' \
    "$cdig" "$csize" "${layers[*]}" >"$out/manifest.json"
  unset IFS
  local mdig msize
  mdig=$(sha256_file "$out/manifest.json"); msize=$(stat -c %s "$out/manifest.json")
  mv "$out/manifest.json" "$out/blobs/sha256/$mdig"
  printf '{"imageLayoutVersion":"1.0.0"}' >"$out/oci-layout"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"amd64","os":"linux"}}]}' \
    "$mdig" "$msize" >"$out/index.json"
  echo "sha256:$mdig"
}

# push_layout LAYOUT REPOSITORY TAG: pushes the layout's single image as REPOSITORY:TAG and
# prints REPOSITORY@sha256:... (the digest crane reports, checked against the layout's).
push_layout() {
  local layout=$1 repo=$2 tag=$3 want got
  want=$(sed -n 's/.*"digest":"\(sha256:[0-9a-f]\{64\}\)".*/\1/p' "$layout/index.json")
  # --insecure: the registries here speak plain HTTP (crane tries HTTPS first, then HTTP).
  got=$(crane push ${IMAGES_INSECURE:+--insecure} "$layout" "$repo:$tag" 2>"$layout.push.log") \
    || { cat "$layout.push.log" >&2; rm -f "$layout.push.log"; die "crane push $repo:$tag failed"; }
  rm -f "$layout.push.log"
  got=${got##*@}
  [ "$got" = "$want" ] || die "pushed digest $got differs from the layout's $want"
  echo "$repo@$want"
}

# cached_or_build NAME KEY BUILD_FN: the layout in $IMAGES_CACHE/NAME-KEY/oci, built by
# BUILD_FN DIR (which writes DIR/oci and may write DIR/tag) into a temp dir first, so an
# interrupted build never looks cached. Sets CACHED_DIR, and CACHE_HIT to 1 or 0.
cached_or_build() {
  local name=$1 key=$2 fn=$3
  CACHED_DIR=$IMAGES_CACHE/$name-$key
  if [ -e "$CACHED_DIR/.ok" ] && [ -s "$CACHED_DIR/oci/index.json" ]; then
    progress "building image $name (cached: yes, $CACHED_DIR)"
    CACHE_HIT=1; return 0
  fi
  progress "building image $name (cached: no)…"
  # shellcheck disable=SC2034  # read by the recipes
  CACHE_HIT=0
  mkdir -p "$IMAGES_CACHE"
  local start=$SECONDS
  BUILD_TMP=$(mktemp -d "$IMAGES_CACHE/.$name-$key.XXXXXX")
  chmod 0755 "$BUILD_TMP"   # apt's _apt sandbox user must reach a rootfs inside it
  "$fn" "$BUILD_TMP"
  rm -rf "$CACHED_DIR"
  echo "$name" >"$BUILD_TMP/.name"
  mv "$BUILD_TMP" "$CACHED_DIR"
  BUILD_TMP=
  touch "$CACHED_DIR/.ok"
  # Older builds of the same image (another recipe hash) are never used again.
  local d
  for d in "$IMAGES_CACHE/$name-"*/; do
    d=${d%/}
    if [ "$d" != "$CACHED_DIR" ] && [ "$(cat "$d/.name" 2>/dev/null)" = "$name" ]; then
      note "removing the superseded $d"; rm -rf "$d"
    fi
  done
  note "image $name built in $((SECONDS - start))s"
}
