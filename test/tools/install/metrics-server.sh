# metrics-server: the resource metrics API the HPA reads, static, for the image build.sh makes (opt-in; not on PATH)
# sigs.k8s.io/metrics-server at the version test/tools/kube/go.mod pins, built in that module:
# metrics.k8s.io, which the HorizontalPodAutoscaler reads CPU from. Packed into an image by
# test/tools/images/build.sh and run on a from-scratch base, never on the host. With the version
# stamps of upstream's Makefile (k8s.io/client-go/pkg/version; the commit is not in the module zip
# and stays empty, the build date is fixed at the epoch so the binary, and the image, are the same
# on a rebuild).
# shellcheck shell=bash

METRICS_SERVER_VERSION=$(require_version "$KUBE_MOD/go.mod" sigs.k8s.io/metrics-server)

install_metrics_server() {
  local v=k8s.io/client-go/pkg/version
  LDX="-X $v.gitVersion=$METRICS_SERVER_VERSION -X $v.gitCommit= -X $v.buildDate=1970-01-01T00:00:00Z" \
    build_in_module "$KUBE_MOD" "$CACHE/metrics-server-$METRICS_SERVER_VERSION" \
    metrics-server=sigs.k8s.io/metrics-server/cmd/metrics-server
}
