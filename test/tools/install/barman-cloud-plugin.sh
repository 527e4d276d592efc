# barman-cloud-plugin: CloudNativePG's Barman Cloud plugin, static, for the image build.sh packs (opt-in; put on PATH)
# github.com/cloudnative-pg/plugin-barman-cloud/cmd/manager at the version test/tools/cnpg/go.mod
# requires, built in that module with the CloudNativePG manager's libraries (so after it, about a
# minute). One binary is the plugin's operator side (a CNPG-I server beside CloudNativePG's
# operator, and the ObjectStore controller) and the sidecar injected into every Postgres pod that
# archives WAL and takes and restores base backups with barman-cloud. v0.14.0, not the newest
# v0.15.0: the proxy refuses two of v0.15.0's dependencies (github.com/cloudnative-pg/machinery
# v0.6.0 and barman-cloud v0.6.0: "403 Forbidden ... This module version is not available");
# v0.14.0 is the release for CloudNativePG 1.30 (its go.mod requires it).
# shellcheck shell=bash

BARMAN_CLOUD_PLUGIN_VERSION=$(require_version "$CNPG_MOD/go.mod" github.com/cloudnative-pg/plugin-barman-cloud)

install_barman_cloud_plugin() {
  local dir=$CACHE/barman-cloud-plugin-$BARMAN_CLOUD_PLUGIN_VERSION
  build_in_module "$CNPG_MOD" "$dir" manager=github.com/cloudnative-pg/plugin-barman-cloud/cmd/manager
  add_path "$dir"
}
