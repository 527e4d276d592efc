# test/tools/images/sealed-secrets-controller/recipe.sh — the Sealed Secrets controller image;
# sourced by build.sh.
#
# The controller binary comes from `test/tools/install.sh sealed-secrets` (go install
# github.com/bitnami-labs/sealed-secrets/cmd/controller@v0.27.1 from the Go module proxy, CGO off,
# cached in <tools cache>/sealed-secrets-<version>/). The image is laid out like upstream's
# docker/controller.Dockerfile (bitnami/sealed-secrets-controller): the binary at
# /usr/local/bin/controller, USER 1001, EXPOSE 8080 8081, ENTRYPOINT controller; here on a
# from-scratch base with /etc/passwd and /etc/group for 1001 and /tmp instead of distroless.
# shellcheck shell=bash

SEALED_SECRETS_IMAGE_VERSION=v0.27.1   # keep in step with SEALED_SECRETS_VERSION in test/tools/install.sh
SEALED_SECRETS_REPOSITORY=bitnami/sealed-secrets-controller


build_sealed_secrets_controller() {
  local dir=$1 root=$1/root src
  src=$(tool_dir sealed-secrets "$SEALED_SECRETS_IMAGE_VERSION")
  scratch_base "$root" sealed-secrets 1001 /tmp
  install -d -m 0755 "$root/usr/local/bin"
  install -m 0755 "$src/controller" "$root/usr/local/bin/controller"
  scratch_layer "$root" "$dir/layer.tar"

  local config
  config="{\"Env\":[\"PATH=/usr/local/bin:/usr/bin:/bin\"],\"Entrypoint\":[\"controller\"],\"User\":\"1001\""
  config+=",\"ExposedPorts\":{\"8080/tcp\":{},\"8081/tcp\":{}}"
  config+=",\"Labels\":{\"org.opencontainers.image.title\":\"sealed-secrets-controller\",\"org.opencontainers.image.version\":\"$SEALED_SECRETS_IMAGE_VERSION\""
  config+=",\"org.opencontainers.image.licenses\":\"Apache-2.0\""
  config+=",\"org.opencontainers.image.description\":$(json_str "Stand-in for bitnami/sealed-secrets-controller:$SEALED_SECRETS_IMAGE_VERSION: github.com/bitnami-labs/sealed-secrets/cmd/controller@$SEALED_SECRETS_IMAGE_VERSION from the Go module proxy, static, on a from-scratch base, by test/tools/images")}}"
  oci_layout "$dir/oci" "$config" \
    "$dir/layer.tar=sealed-secrets controller $SEALED_SECRETS_IMAGE_VERSION (go install, CGO off), passwd/group (1001), /tmp" >/dev/null
  rm -f "$dir/layer.tar"
  echo "$SEALED_SECRETS_IMAGE_VERSION" >"$dir/tag"
}

image_sealed_secrets_controller() {
  progress "sealed-secrets controller binary (test/tools/install.sh sealed-secrets)"
  "$REPO_ROOT/test/tools/install.sh" sealed-secrets >/dev/null
  local src; src=$(tool_dir sealed-secrets "$SEALED_SECRETS_IMAGE_VERSION")
  [ -x "$src/controller" ] || die "install.sh sealed-secrets left no $src/controller"
  cached_or_build sealed-secrets-controller "$SEALED_SECRETS_IMAGE_VERSION-$(key_of "$IMAGES_DIR/lib.sh" "$IMAGES_DIR/scratch.sh" \
    "$IMAGES_DIR/sealed-secrets-controller/recipe.sh" "$src/controller")" build_sealed_secrets_controller
  progress "pushing sealed-secrets-controller to $REGISTRY/$SEALED_SECRETS_REPOSITORY"
  push_layout "$CACHED_DIR/oci" "$REGISTRY/$SEALED_SECRETS_REPOSITORY" "$(cat "$CACHED_DIR/tag")"
}
