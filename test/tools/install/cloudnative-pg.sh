# cloudnative-pg: the CloudNativePG manager, static, for the operator image build.sh packs (opt-in; put on PATH)
# github.com/cloudnative-pg/cloudnative-pg/cmd/manager, served by the module proxy as this exact
# version; its CRDs and release manifest are vendored in third_party/ from the same version. One
# static binary is the operator, the instance manager injected into every Postgres pod, and the
# bootstrap that copies itself there. With the version stamp upstream's Makefile sets. ~3 min on
# 2 cores.
# shellcheck shell=bash

CLOUDNATIVE_PG_VERSION=v1.30.0

install_cloudnative_pg() {
  CGO_ENABLED=0 LDX="-X github.com/cloudnative-pg/cloudnative-pg/pkg/versions.buildVersion=${CLOUDNATIVE_PG_VERSION#v}" \
    go_build_exact cloudnative-pg "$CLOUDNATIVE_PG_VERSION" github.com/cloudnative-pg/cloudnative-pg manager=cmd/manager || exit 1
  add_path "$CACHE/cloudnative-pg-$CLOUDNATIVE_PG_VERSION"
}
