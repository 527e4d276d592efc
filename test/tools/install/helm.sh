# helm: renders and lints helm/todo/; go-installed with the version stamps of helm's Makefile, put on PATH
# Without those stamps `helm version` says "v3.22" and .Capabilities.KubeVersion of `helm
# template`/lint defaults to v1.20.0 instead of the Kubernetes minor of the client-go helm is
# built with (Makefile: K8S_MODULES_*_VER).
# shellcheck shell=bash

HELM_VERSION=v3.22.0

install_helm() {
  local ldx="-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" gomod cg cg_minor p
  ldx+=" -X helm.sh/helm/v3/internal/version.metadata= -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  if [ ! -e "$CACHE/helm-$HELM_VERSION/.helm.ok" ]; then
    gomod=$(GOFLAGS=-buildvcs=false go mod download -json "helm.sh/helm/v3@$HELM_VERSION" | awk -F'"' '$2 == "GoMod" {print $4}')
    cg=$(awk '$1 == "k8s.io/client-go" {print $2}' "$gomod")   # v0.MINOR.PATCH
    cg_minor=${cg#v0.}; cg_minor=${cg_minor%%.*}
    for p in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
      ldx+=" -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=$cg_minor"
    done
  fi
  LDX=$ldx go_install helm "$HELM_VERSION" helm helm.sh/helm/v3/cmd/helm
}
