# test/tools/images/plugin-barman-cloud/recipe.sh — the Barman Cloud plugin's image, both of its
# sides; sourced by build.sh (after cloudnative-pg-postgresql/recipe.sh, whose image it extends).
#
# The manager binary comes from `test/tools/install.sh barman-cloud-plugin`
# (github.com/cloudnative-pg/plugin-barman-cloud@v0.14.0 from the Go module proxy, cmd/manager built
# with CGO off in test/tools/cnpg, the module it shares with CloudNativePG's manager). Upstream ships two images: the plugin's (`/manager operator`, static) and
# the sidecar's (`/manager instance` beside a Python virtualenv with barman 3.20). Here one image
# serves both: the cloudnative-pg-postgresql image's layer, which holds Debian's barman-cli-cloud
# (the barman-cloud-* commands the sidecar runs, the same ones the in-tree barmanObjectStore runs),
# and a layer with /manager, as upstream lays it out (ENTRYPOINT /manager, USER 26:26). The shared
# first layer is byte-identical (same tar, `gzip -n`), so a node that pulled the Postgres image pulls
# only the manager's layer.
# shellcheck shell=bash

PLUGIN_BARMAN_CLOUD_IMAGE_VERSION=v0.14.0   # keep in step with github.com/cloudnative-pg/plugin-barman-cloud in test/tools/cnpg/go.mod
PLUGIN_BARMAN_CLOUD_REPOSITORY=cloudnative-pg/plugin-barman-cloud

build_plugin_barman_cloud() {
  local dir=$1 base=$PLUGIN_BARMAN_CLOUD_BASE src manifest base_layer
  src=$(tool_dir barman-cloud-plugin "$PLUGIN_BARMAN_CLOUD_IMAGE_VERSION")
  # The base layout's single layer, uncompressed again (oci_layout compresses it the same way).
  manifest=$(sed -n 's/.*"digest":"sha256:\([0-9a-f]\{64\}\)".*/\1/p' "$base/oci/index.json")
  base_layer=$(grep -o '"layers":\[{[^]]*' "$base/oci/blobs/sha256/$manifest" | sed -n 's/.*"digest":"sha256:\([0-9a-f]\{64\}\)".*/\1/p')
  gzip -dc "$base/oci/blobs/sha256/$base_layer" >"$dir/base.tar"
  install -d -m 0755 "$dir/root"
  install -m 0755 "$src/manager" "$dir/root/manager"
  tar_layer "$dir/root" "$dir/manager.tar"
  rm -rf "$dir/root"

  local config
  config="{\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"],\"Entrypoint\":[\"/manager\"],\"User\":\"26:26\",\"WorkingDir\":\"/\""
  config+=",\"Labels\":{\"org.opencontainers.image.title\":\"plugin-barman-cloud\",\"org.opencontainers.image.version\":\"${PLUGIN_BARMAN_CLOUD_IMAGE_VERSION#v}\""
  config+=",\"org.opencontainers.image.licenses\":\"Apache-2.0 AND PostgreSQL AND MIT AND GPL-3.0-or-later\""
  config+=",\"org.opencontainers.image.description\":$(json_str "Stand-in for ghcr.io/cloudnative-pg/plugin-barman-cloud and plugin-barman-cloud-sidecar ${PLUGIN_BARMAN_CLOUD_IMAGE_VERSION#v}: github.com/cloudnative-pg/plugin-barman-cloud/cmd/manager@$PLUGIN_BARMAN_CLOUD_IMAGE_VERSION from the Go module proxy, static, on the cloudnative-pg-postgresql image (Debian barman-cli-cloud), by test/tools/images")}}"
  oci_layout "$dir/oci" "$config" \
    "$dir/base.tar=the cloudnative-pg-postgresql image's layer (Debian bookworm, PostgreSQL, barman-cli-cloud)" \
    "$dir/manager.tar=plugin-barman-cloud manager $PLUGIN_BARMAN_CLOUD_IMAGE_VERSION (built from the module, CGO off)" >/dev/null
  rm -f "$dir/base.tar" "$dir/manager.tar"
  echo "${PLUGIN_BARMAN_CLOUD_IMAGE_VERSION#v}" >"$dir/tag"
}

image_plugin_barman_cloud() {
  progress "plugin-barman-cloud manager binary (test/tools/install.sh barman-cloud-plugin)"
  "$REPO_ROOT/test/tools/install.sh" barman-cloud-plugin >/dev/null
  local src; src=$(tool_dir barman-cloud-plugin "$PLUGIN_BARMAN_CLOUD_IMAGE_VERSION")
  [ -x "$src/manager" ] || die "install.sh barman-cloud-plugin left no $src/manager"
  # The base image, built here when no run has yet (under its own lock: another run may be building it).
  exec 7>"$IMAGES_CACHE/.lock-cloudnative-pg-postgresql"
  flock 7
  cached_or_build cloudnative-pg-postgresql \
    "$(postgres_key "$IMAGES_DIR/cloudnative-pg-postgresql/recipe.sh")" build_cloudnative_pg_postgresql
  exec 7>&-
  PLUGIN_BARMAN_CLOUD_BASE=$CACHED_DIR
  cached_or_build plugin-barman-cloud "$PLUGIN_BARMAN_CLOUD_IMAGE_VERSION-$(key_of "$IMAGES_DIR/lib.sh" \
    "$IMAGES_DIR/plugin-barman-cloud/recipe.sh" "$src/manager" "$PLUGIN_BARMAN_CLOUD_BASE/oci/index.json")" build_plugin_barman_cloud
  progress "pushing plugin-barman-cloud to $REGISTRY/$PLUGIN_BARMAN_CLOUD_REPOSITORY"
  push_layout "$CACHED_DIR/oci" "$REGISTRY/$PLUGIN_BARMAN_CLOUD_REPOSITORY" "$(cat "$CACHED_DIR/tag")"
}
