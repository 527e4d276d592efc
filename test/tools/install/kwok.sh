# kwok: fake nodes for the Argo CD and fleet suites, built in the kube module, put on PATH
# test/tools/kube/go.mod pins its version (test/e2e/cluster-support.ts reads it there, for kwok's
# Stage objects).
# shellcheck shell=bash

KWOK_VERSION=$(require_version "$KUBE_MOD/go.mod" sigs.k8s.io/kwok)

install_kwok() {
  build_in_module "$KUBE_MOD" "$CACHE/kwok-$KWOK_VERSION" kwok=sigs.k8s.io/kwok/cmd/kwok
  add_path "$CACHE/kwok-$KWOK_VERSION"
}
