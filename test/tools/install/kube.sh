# kube: kubectl, kube-apiserver, kube-controller-manager and kube-scheduler of test/tools/kube/go.mod
# The Kubernetes version is the one test/tools/kube/go.mod requires (why: the comments there),
# cached in kubernetes-<version>/ and put on PATH. build_k8s is shared with cluster. That module
# also builds the other tools made of Kubernetes' libraries (helm, kwok, metrics-server, CoreDNS):
# one set of dependency versions, so a cold build compiles client-go and the rest once.
# shellcheck shell=bash

KUBE_MOD=$HERE/kube
KUBE_VERSION=$(require_version "$KUBE_MOD/go.mod" k8s.io/kubernetes)
KUBE_MINOR=${KUBE_VERSION#v*.}; KUBE_MINOR=${KUBE_MINOR%%.*}
KUBE_BINS=(kube-apiserver kubectl kube-controller-manager kube-scheduler)

# build_k8s BIN... : k8s.io/kubernetes/cmd/BIN of the kube module into $CACHE/kubernetes-VERSION/,
# put on PATH, with the version stamps the Kubernetes release build sets (hack/lib/version.sh), so
# that `kubectl version`, /version and helm's kubeVersion checks see the real version. Static,
# as upstream's release binaries are.
build_k8s() {
  local major ldx="" p bin specs=()
  major=${KUBE_VERSION#v}; major=${major%%.*}
  for p in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    ldx+=" -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=$major -X $p.gitMinor=$KUBE_MINOR"
    ldx+=" -X $p.gitCommit= -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  for bin in "$@"; do specs+=("$bin=k8s.io/kubernetes/cmd/$bin"); done
  LDX=$ldx build_in_module "$KUBE_MOD" "$CACHE/kubernetes-$KUBE_VERSION" "${specs[@]}"
  add_path "$CACHE/kubernetes-$KUBE_VERSION"
}

install_kube() { build_k8s "${KUBE_BINS[@]}"; }
