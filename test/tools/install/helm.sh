# helm: renders and lints helm/todo/; built in the kube module with the version stamps of helm's Makefile, put on PATH
# test/tools/kube/go.mod pins its version. Without those stamps `helm version` says "v3.22" and
# .Capabilities.KubeVersion of `helm template`/lint defaults to v1.20.0 instead of the Kubernetes
# minor of the client-go helm is built with (Makefile: K8S_MODULES_*_VER): in the kube module that
# is the Kubernetes version's own (every k8s.io staging module is replaced by its tag).
# shellcheck shell=bash

HELM_VERSION=$(require_version "$KUBE_MOD/go.mod" helm.sh/helm/v3)

install_helm() {
  local ldx="-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" p
  ldx+=" -X helm.sh/helm/v3/internal/version.metadata= -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  for p in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
    ldx+=" -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=$KUBE_MINOR"
  done
  LDX=$ldx build_in_module "$KUBE_MOD" "$CACHE/helm-$HELM_VERSION" helm=helm.sh/helm/v3/cmd/helm
  add_path "$CACHE/helm-$HELM_VERSION"
}
