# metrics-server: the resource metrics API the HPA reads, static, for the image build.sh makes (opt-in; not on PATH)
# sigs.k8s.io/metrics-server, served by the module proxy as this exact version: metrics.k8s.io,
# which the HorizontalPodAutoscaler reads CPU from. Packed into an image by
# test/tools/images/build.sh and run on a from-scratch base, never on the host. With the version
# stamps of upstream's Makefile (k8s.io/client-go/pkg/version; the commit is not in the module zip
# and stays empty, the build date is fixed at the epoch so the binary, and the image, are the same
# on a rebuild). ~3 min on 2 cores.
# shellcheck shell=bash

METRICS_SERVER_VERSION=v0.9.0

install_metrics_server() {
  local v=k8s.io/client-go/pkg/version
  CGO_ENABLED=0 LDX="-X $v.gitVersion=$METRICS_SERVER_VERSION -X $v.gitCommit= -X $v.buildDate=1970-01-01T00:00:00Z" \
    go_build_exact metrics-server "$METRICS_SERVER_VERSION" sigs.k8s.io/metrics-server metrics-server=cmd/metrics-server || exit 1
}
