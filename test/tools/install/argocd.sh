# argocd: Argo CD of test/tools/argocd/go.mod, one binary with a link per component, put on PATH
# Argo CD needs Go 1.27: the build runs with GOTOOLCHAIN=go1.27.3 (ARGOCD_GOTOOLCHAIN overrides
# it), which the go command fetches from the module proxy. Cached as argocd-<version>/argocd with
# links argocd-{application-controller,repo-server,applicationset-controller}, and
# git-verify-wrapper.sh, gpg-wrapper.sh (the repo-server runs them from PATH).
# shellcheck shell=bash

ARGOCD_MOD=$HERE/argocd
ARGOCD_VERSION=$(require_version "$ARGOCD_MOD/go.mod" github.com/argoproj/argo-cd/v3)
ARGOCD_GOTOOLCHAIN=${ARGOCD_GOTOOLCHAIN:-go1.27.3}
ARGOCD_COMPONENTS=(argocd-application-controller argocd-repo-server argocd-applicationset-controller)

install_argocd() {
  [ -n "$ARGOCD_VERSION" ] || { echo "install.sh: cannot read the argo-cd version from $ARGOCD_MOD/go.mod" >&2; exit 1; }
  local dir=$CACHE/argocd-$ARGOCD_VERSION ldx moddir h c
  if [ -x "$dir/argocd" ] && [ -e "$dir/.argocd.ok" ]; then
    progress "building argocd $ARGOCD_VERSION (cached: yes)"
  else
    progress "building argocd $ARGOCD_VERSION with $ARGOCD_GOTOOLCHAIN (cached: no)… (10-20 min on 2 cores)"
    mkdir -p "$dir"
    rm -f "$dir/.argocd.ok"
    # go.sum in test/tools/argocd pins every module, so no checksum-database lookup is needed.
    ldx="-X github.com/argoproj/argo-cd/v3/common.version=${ARGOCD_VERSION#v}"
    logged "$LOGS/argocd-$ARGOCD_VERSION.log" env -C "$ARGOCD_MOD" GOTOOLCHAIN="$ARGOCD_GOTOOLCHAIN" \
      GOFLAGS="-mod=mod -buildvcs=false" \
      go build -trimpath -ldflags "-s -w $ldx" -o "$dir/.argocd.tmp.$$" github.com/argoproj/argo-cd/v3/cmd
    mv -f "$dir/.argocd.tmp.$$" "$dir/argocd"
    # The repo-server runs these two from PATH (without git-verify-wrapper.sh every request
    # fails with "permission denied"). The module cache is read-only: copy, then chmod.
    moddir=$(env -C "$ARGOCD_MOD" GOTOOLCHAIN="$ARGOCD_GOTOOLCHAIN" GOFLAGS=-mod=mod \
      go list -m -f '{{.Dir}}' github.com/argoproj/argo-cd/v3)
    for h in git-verify-wrapper.sh gpg-wrapper.sh; do
      cp -f "$moddir/hack/$h" "$dir/$h"
      chmod 0755 "$dir/$h"
    done
    for c in "${ARGOCD_COMPONENTS[@]}"; do ln -sfn argocd "$dir/$c"; done
    touch "$dir/.argocd.ok"
  fi
  add_path "$dir"
}
