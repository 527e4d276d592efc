# cloudnative-pg: the CloudNativePG manager, static, for the operator image build.sh packs (opt-in; put on PATH)
# github.com/cloudnative-pg/cloudnative-pg/cmd/manager at the version test/tools/cnpg/go.mod requires
# (why a module of its own, shared with the Barman Cloud plugin: the comments there); its CRDs and
# release manifest are vendored in third_party/ from the same version. One static binary is the
# operator, the instance manager injected into every Postgres pod, and the bootstrap that copies
# itself there. With the version stamp upstream's Makefile sets. ~3 min on 2 cores.
# shellcheck shell=bash

CNPG_MOD=$HERE/cnpg
CLOUDNATIVE_PG_VERSION=$(require_version "$CNPG_MOD/go.mod" github.com/cloudnative-pg/cloudnative-pg)

install_cloudnative_pg() {
  local dir=$CACHE/cloudnative-pg-$CLOUDNATIVE_PG_VERSION
  LDX="-X github.com/cloudnative-pg/cloudnative-pg/pkg/versions.buildVersion=${CLOUDNATIVE_PG_VERSION#v}" \
    build_in_module "$CNPG_MOD" "$dir" manager=github.com/cloudnative-pg/cloudnative-pg/cmd/manager
  add_path "$dir"
}
