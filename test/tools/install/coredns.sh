# coredns: the cluster DNS of test/tools/cluster/, with the plugins its Corefile uses (test/tools/kube/coredns; opt-in)
# A static binary (the cluster program packs it into a one-layer image), built in the kube module
# (test/tools/kube/go.mod pins its version) from the main package there that chooses the plugins.
# shellcheck shell=bash

COREDNS_VERSION=$(require_version "$KUBE_MOD/go.mod" github.com/coredns/coredns)

install_coredns() {
  build_in_module "$KUBE_MOD" "$CACHE/coredns-$COREDNS_VERSION" coredns=./coredns
  add_path "$CACHE/coredns-$COREDNS_VERSION"
}
