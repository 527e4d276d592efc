# argocd: Argo CD, built in the kube module, one binary with a link per component, put on PATH
# test/tools/kube/go.mod pins its version (and carries Argo CD's own replaces); Argo CD 3.6 needs
# Go 1.27, so that module names go1.27.3 as its toolchain, which the go command fetches from the
# module proxy. Cached as argocd-<version>/argocd with links
# argocd-{application-controller,repo-server,applicationset-controller}, and git-verify-wrapper.sh,
# gpg-wrapper.sh (the repo-server runs them from PATH).
# shellcheck shell=bash

ARGOCD_VERSION=$(require_version "$KUBE_MOD/go.mod" github.com/argoproj/argo-cd/v3)
ARGOCD_COMPONENTS=(argocd-application-controller argocd-repo-server argocd-applicationset-controller)

install_argocd() {
  local dir=$CACHE/argocd-$ARGOCD_VERSION moddir h c
  LDX="-X github.com/argoproj/argo-cd/v3/common.version=${ARGOCD_VERSION#v}" \
    build_in_module "$KUBE_MOD" "$dir" argocd=github.com/argoproj/argo-cd/v3/cmd
  # The repo-server runs these two from PATH (without git-verify-wrapper.sh every request fails
  # with "permission denied"). The module cache is read-only: copy, then chmod.
  if [ ! -x "$dir/gpg-wrapper.sh" ]; then
    moddir=$(module_go "$KUBE_MOD" list -m -f '{{.Dir}}' github.com/argoproj/argo-cd/v3)
    for h in git-verify-wrapper.sh gpg-wrapper.sh; do
      cp -f "$moddir/hack/$h" "$dir/.$h.tmp.$$"
      chmod 0755 "$dir/.$h.tmp.$$"
      mv -f "$dir/.$h.tmp.$$" "$dir/$h"
    done
  fi
  for c in "${ARGOCD_COMPONENTS[@]}"; do ln -sfn argocd "$dir/$c"; done
  add_path "$dir"
}
