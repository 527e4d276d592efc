# test/tools/images/kaniko/recipe.sh — the kaniko executor image; sourced by build.sh.
#
# The executor binary comes from `test/tools/install.sh kaniko` (built from the vendored source
# tarball, GOFLAGS=-mod=vendor, GOPROXY=off, cached in <tools cache>/kaniko-<version>/). The
# image is laid out like upstream's deploy/Dockerfile "kaniko-executor" stage
# (gcr.io/kaniko-project/executor): /kaniko (mode 0777) with executor, ssl/certs/ca-certificates.crt
# and .docker/, /etc/nsswitch.conf from the source's files/, /workspace, and upstream's ENV,
# WORKDIR and ENTRYPOINT; no USER (root), as upstream. Left out: the gcr/ecr/acr docker
# credential helpers (no such registry is reachable here) and the warmer.
# shellcheck shell=bash

KANIKO_IMAGE_VERSION=v1.25.5   # keep in step with KANIKO_VERSION in test/tools/install.sh
KANIKO_REPOSITORY=kaniko-project/executor
KANIKO_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt


build_kaniko() {
  local dir=$1 root=$1/root src
  src=$(tool_dir kaniko "$KANIKO_IMAGE_VERSION")
  [ -r "$KANIKO_CA_BUNDLE" ] || die "$KANIKO_CA_BUNDLE missing (apt-get install ca-certificates)"
  install -d -m 0777 "$root/kaniko"
  install -d -m 0755 "$root/kaniko/ssl/certs" "$root/kaniko/.docker" "$root/etc" "$root/workspace"
  install -m 0755 "$src/executor" "$root/kaniko/executor"
  install -m 0644 "$KANIKO_CA_BUNDLE" "$root/kaniko/ssl/certs/ca-certificates.crt"
  install -m 0644 "$src/nsswitch.conf" "$root/etc/nsswitch.conf"
  tar_layer "$root" "$dir/layer.tar" --owner=0 --group=0
  rm -rf "$root"

  local config
  config="{\"Env\":$(json_arr HOME=/root USER=root PATH=/usr/local/bin:/kaniko SSL_CERT_DIR=/kaniko/ssl/certs DOCKER_CONFIG=/kaniko/.docker/)"
  config+=",\"WorkingDir\":\"/workspace\",\"Entrypoint\":[\"/kaniko/executor\"]"
  config+=",\"Labels\":{\"org.opencontainers.image.title\":\"kaniko-executor\",\"org.opencontainers.image.version\":\"$KANIKO_IMAGE_VERSION\""
  config+=",\"org.opencontainers.image.licenses\":\"Apache-2.0\""
  config+=",\"org.opencontainers.image.description\":$(json_str "Stand-in for gcr.io/kaniko-project/executor:$KANIKO_IMAGE_VERSION: chainguard-dev/kaniko $KANIKO_IMAGE_VERSION built from the vendored source tarball with $(go env GOVERSION), by test/tools/images")}}"
  oci_layout "$dir/oci" "$config" \
    "$dir/layer.tar=kaniko $KANIKO_IMAGE_VERSION executor (go build ./cmd/executor, -mod=vendor), CA roots, nsswitch.conf" >/dev/null
  rm -f "$dir/layer.tar"
  echo "$KANIKO_IMAGE_VERSION" >"$dir/tag"
}

image_kaniko() {
  progress "kaniko executor binary (test/tools/install.sh kaniko)"
  "$REPO_ROOT/test/tools/install.sh" kaniko >/dev/null
  local src; src=$(tool_dir kaniko "$KANIKO_IMAGE_VERSION")
  if [ ! -x "$src/executor" ] || [ ! -r "$src/nsswitch.conf" ]; then die "install.sh kaniko left no $src/executor"; fi
  cached_or_build kaniko "$KANIKO_IMAGE_VERSION-$(key_of "$IMAGES_DIR/lib.sh" "$IMAGES_DIR/kaniko/recipe.sh" \
    "$src/executor" "$src/nsswitch.conf" "$KANIKO_CA_BUNDLE")" build_kaniko
  progress "pushing kaniko to $REGISTRY/$KANIKO_REPOSITORY"
  push_layout "$CACHED_DIR/oci" "$REGISTRY/$KANIKO_REPOSITORY" "$(cat "$CACHED_DIR/tag")"
}
