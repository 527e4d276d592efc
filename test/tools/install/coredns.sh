# coredns: the cluster DNS of test/tools/cluster/, with the plugins its Corefile uses (test/tools/coredns; opt-in)
# A static binary (the cluster program packs it into a one-layer image); the stamp holds the hash
# of the wrapper module, whose main.go chooses the plugins.
# shellcheck shell=bash

COREDNS_MOD=$HERE/coredns
COREDNS_VERSION=$(require_version "$COREDNS_MOD/go.mod" github.com/coredns/coredns)

install_coredns() {
  [ -n "$COREDNS_VERSION" ] || { echo "install.sh: cannot read the coredns version from $COREDNS_MOD/go.mod" >&2; exit 1; }
  build_static "$COREDNS_MOD" "$CACHE/coredns-$COREDNS_VERSION" coredns "coredns $COREDNS_VERSION"
}
