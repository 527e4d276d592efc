# kube: kubectl, kube-apiserver, kube-controller-manager and kube-scheduler of test/tools/kube/go.mod
# The Kubernetes version is the one test/tools/kube/go.mod requires (why: the comments there),
# cached in kubernetes-<version>/ and put on PATH. build_k8s is shared with cluster.
# shellcheck shell=bash

KUBE_MOD=$HERE/kube
KUBE_VERSION=$(require_version "$KUBE_MOD/go.mod" k8s.io/kubernetes)
KUBE_BINS=(kube-apiserver kubectl kube-controller-manager kube-scheduler)

# build_k8s MODULE_DIR VERSION BIN... : go build k8s.io/kubernetes/cmd/BIN in the wrapper module
# MODULE_DIR into $CACHE/kubernetes-VERSION/, each binary once (stamp .BIN.ok), and put that
# directory on PATH. The version stamps are the ones the Kubernetes release build sets
# (hack/lib/version.sh), so that `kubectl version`, /version and helm's kubeVersion checks see
# the real version.
build_k8s() {
  local mod=$1 version=$2; shift 2
  [ -n "$version" ] || { echo "install.sh: cannot read the k8s.io/kubernetes version from $mod/go.mod" >&2; exit 1; }
  local dir=$CACHE/kubernetes-$version minor major ldx="" p bin
  mkdir -p "$dir"
  minor=${version#v*.}; minor=${minor%%.*}
  major=${version#v}; major=${major%%.*}
  for p in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    ldx+=" -X $p.gitVersion=$version -X $p.gitMajor=$major -X $p.gitMinor=$minor"
    ldx+=" -X $p.gitCommit= -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  for bin in "$@"; do
    if [ -x "$dir/$bin" ] && [ -e "$dir/.$bin.ok" ]; then
      progress "building $bin $version (cached: yes)"; continue
    fi
    progress "building $bin $version (cached: no)… (1-15 min on 2 cores)"
    # go.sum in the wrapper module pins every module; with it no checksum-database lookup is
    # needed. GONOSUMDB covers re-resolving: the proxy's sumdb mirror here answers 404 for
    # several k8s.io staging modules.
    logged "$LOGS/$bin-$version.log" env -C "$mod" GOFLAGS="-mod=mod -buildvcs=false" \
      GONOSUMDB="${GONOSUMDB:+$GONOSUMDB,}k8s.io" \
      go build -trimpath -ldflags "-s -w$ldx" -o "$dir/.$bin.tmp.$$" "k8s.io/kubernetes/cmd/$bin"
    mv -f "$dir/.$bin.tmp.$$" "$dir/$bin"
    touch "$dir/.$bin.ok"
  done
  add_path "$dir"
}

install_kube() { build_k8s "$KUBE_MOD" "$KUBE_VERSION" "${KUBE_BINS[@]}"; }
