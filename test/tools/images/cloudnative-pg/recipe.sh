# test/tools/images/cloudnative-pg/recipe.sh — the CloudNativePG operator image; sourced by build.sh.
#
# The manager binary comes from `test/tools/install.sh cloudnative-pg` (the module
# github.com/cloudnative-pg/cloudnative-pg@v1.30.0 from the Go module proxy, its cmd/manager built
# with CGO off in test/tools/cnpg, cached in <tools cache>/cloudnative-pg-<version>/). The image is laid out like upstream's
# Dockerfile (ghcr.io/cloudnative-pg/cloudnative-pg): the binary at /operator/manager_<arch> and
# /manager a symlink to it (the operator learns which architectures it can give its instances
# from the names operator/manager_*, relative to WORKDIR /), USER 65532:65532, on a from-scratch
# base with /etc/passwd and /etc/group for 65532 and /tmp instead of distroless. Every Postgres
# pod's init container runs this image's `/manager bootstrap` to copy the instance manager into
# the pod, so the binary must stay static.
# shellcheck shell=bash

CLOUDNATIVE_PG_IMAGE_VERSION=v1.30.0   # keep in step with github.com/cloudnative-pg/cloudnative-pg in test/tools/cnpg/go.mod
CLOUDNATIVE_PG_REPOSITORY=cloudnative-pg/cloudnative-pg


build_cloudnative_pg() {
  local dir=$1 root=$1/root src arch
  src=$(tool_dir cloudnative-pg "$CLOUDNATIVE_PG_IMAGE_VERSION")
  arch=$(go env GOARCH)
  scratch_base "$root" nonroot 65532 /home/nonroot
  install -d -m 0755 "$root/operator"
  install -m 0755 "$src/manager" "$root/operator/manager_$arch"
  ln -s "operator/manager_$arch" "$root/manager"
  scratch_layer "$root" "$dir/layer.tar"

  local config
  config="{\"Env\":[\"PATH=/usr/local/bin:/usr/bin:/bin\"],\"Entrypoint\":[\"/manager\"],\"User\":\"65532:65532\",\"WorkingDir\":\"/\""
  config+=",\"Labels\":{\"org.opencontainers.image.title\":\"cloudnative-pg\",\"org.opencontainers.image.version\":\"${CLOUDNATIVE_PG_IMAGE_VERSION#v}\""
  config+=",\"org.opencontainers.image.licenses\":\"Apache-2.0\""
  config+=",\"org.opencontainers.image.description\":$(json_str "Stand-in for ghcr.io/cloudnative-pg/cloudnative-pg:${CLOUDNATIVE_PG_IMAGE_VERSION#v}: github.com/cloudnative-pg/cloudnative-pg/cmd/manager@$CLOUDNATIVE_PG_IMAGE_VERSION from the Go module proxy, static, on a from-scratch base, by test/tools/images")}}"
  oci_layout "$dir/oci" "$config" \
    "$dir/layer.tar=cloudnative-pg manager $CLOUDNATIVE_PG_IMAGE_VERSION (built from the module, CGO off), passwd/group (65532), /tmp" >/dev/null
  rm -f "$dir/layer.tar"
  echo "${CLOUDNATIVE_PG_IMAGE_VERSION#v}" >"$dir/tag"
}

image_cloudnative_pg() {
  progress "cloudnative-pg manager binary (test/tools/install.sh cloudnative-pg)"
  "$REPO_ROOT/test/tools/install.sh" cloudnative-pg >/dev/null
  local src; src=$(tool_dir cloudnative-pg "$CLOUDNATIVE_PG_IMAGE_VERSION")
  [ -x "$src/manager" ] || die "install.sh cloudnative-pg left no $src/manager"
  cached_or_build cloudnative-pg "$CLOUDNATIVE_PG_IMAGE_VERSION-$(key_of "$IMAGES_DIR/lib.sh" "$IMAGES_DIR/scratch.sh" \
    "$IMAGES_DIR/cloudnative-pg/recipe.sh" "$src/manager")" build_cloudnative_pg
  progress "pushing cloudnative-pg to $REGISTRY/$CLOUDNATIVE_PG_REPOSITORY"
  push_layout "$CACHED_DIR/oci" "$REGISTRY/$CLOUDNATIVE_PG_REPOSITORY" "$(cat "$CACHED_DIR/tag")"
}
