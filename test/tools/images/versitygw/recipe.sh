# test/tools/images/versitygw/recipe.sh — the versitygw S3 gateway image; sourced by build.sh.
#
# The object store CloudNativePG's barman-cloud backs up to in the drills. The binary comes from
# `test/tools/install.sh versitygw` (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
# from the Go module proxy, CGO off, cached in <tools cache>/versitygw-<version>/). Upstream's image
# (ghcr.io/versity/versitygw, its Dockerfile) is Alpine with the binary at /usr/local/bin/versitygw
# behind a shell entrypoint that turns VGW_BACKEND/VGW_BACKEND_ARG into arguments; here the binary
# is the entrypoint itself, on a from-scratch base with /etc/passwd and /etc/group for 65532 and
# /tmp, USER 65532:65532, so it runs under Pod Security "restricted" (non-root, no capabilities,
# read-only root filesystem: the posix backend writes only below the directory it is given). The
# pod passes the arguments, e.g. `posix /data` with ROOT_ACCESS_KEY_ID / ROOT_SECRET_ACCESS_KEY
# from a Secret; it listens on :7070 (--port / VGW_PORT).
# shellcheck shell=bash

VERSITYGW_IMAGE_VERSION=v1.8.0   # keep in step with VERSITYGW_VERSION in test/tools/install.sh
VERSITYGW_REPOSITORY=versity/versitygw


build_versitygw() {
  local dir=$1 root=$1/root src
  src=$(tool_dir versitygw "$VERSITYGW_IMAGE_VERSION")
  scratch_base "$root" nonroot 65532 /home/nonroot
  install -d -m 0755 "$root/usr/local/bin"
  install -m 0755 "$src/versitygw" "$root/usr/local/bin/versitygw"
  scratch_layer "$root" "$dir/layer.tar"

  local config
  config="{\"Env\":[\"PATH=/usr/local/bin:/usr/bin:/bin\"],\"Entrypoint\":[\"/usr/local/bin/versitygw\"],\"User\":\"65532:65532\",\"WorkingDir\":\"/\""
  config+=",\"ExposedPorts\":{\"7070/tcp\":{}}"
  config+=",\"Labels\":{\"org.opencontainers.image.title\":\"versitygw\",\"org.opencontainers.image.version\":\"${VERSITYGW_IMAGE_VERSION#v}\""
  config+=",\"org.opencontainers.image.licenses\":\"Apache-2.0\""
  config+=",\"org.opencontainers.image.source\":\"https://github.com/versity/versitygw\""
  config+=",\"org.opencontainers.image.description\":$(json_str "Stand-in for ghcr.io/versity/versitygw:$VERSITYGW_IMAGE_VERSION: github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_IMAGE_VERSION from the Go module proxy, static, as the entrypoint (no shell entrypoint, no VGW_BACKEND: pass the arguments) on a from-scratch base, by test/tools/images")}}"
  oci_layout "$dir/oci" "$config" \
    "$dir/layer.tar=versitygw $VERSITYGW_IMAGE_VERSION (go install, CGO off), passwd/group (65532), /tmp" >/dev/null
  rm -f "$dir/layer.tar"
  echo "$VERSITYGW_IMAGE_VERSION" >"$dir/tag"
}

image_versitygw() {
  progress "versitygw binary (test/tools/install.sh versitygw)"
  "$REPO_ROOT/test/tools/install.sh" versitygw >/dev/null
  local src; src=$(tool_dir versitygw "$VERSITYGW_IMAGE_VERSION")
  [ -x "$src/versitygw" ] || die "install.sh versitygw left no $src/versitygw"
  cached_or_build versitygw "$VERSITYGW_IMAGE_VERSION-$(key_of "$IMAGES_DIR/lib.sh" "$IMAGES_DIR/scratch.sh" \
    "$IMAGES_DIR/versitygw/recipe.sh" "$src/versitygw")" build_versitygw
  progress "pushing versitygw to $REGISTRY/$VERSITYGW_REPOSITORY"
  push_layout "$CACHED_DIR/oci" "$REGISTRY/$VERSITYGW_REPOSITORY" "$(cat "$CACHED_DIR/tag")"
}
