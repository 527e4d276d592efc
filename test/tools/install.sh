#!/usr/bin/env bash
# test/tools/install.sh — provision the pinned CLI tools the tests need.
#
# Usage:
#   eval "$(test/tools/install.sh)"                 # install everything, put it on PATH
#   test/tools/install.sh -o .tools.env && . .tools.env
#   test/tools/install.sh kube ko                   # only some tools
#
# Arguments:
#   -o FILE   also write the `export PATH=...` line to FILE (stdout gets it too)
#   TOOL...   subset of: ko crane helm kube-linter kwok debs kube argocd   (default: all)
#
# stdout: exactly one line, `export PATH="<dir>:<dir>:...:$PATH"`, to be eval'ed/sourced.
# stderr: progress, e.g. "[tools 7/10] building kube-apiserver v1.28.15 (cached: no)…"
#
# Everything is built from registries only (Go module proxy, Debian apt) and cached
# OUTSIDE the repo, keyed by version, so a re-run is instant:
#   ${TODO_GITOPS_TOOLS_CACHE:-~/.cache/todo-gitops/tools}/
#     ko-v0.19.1/ko  crane-v0.22.1/crane  helm-v3.22.0/helm  kwok-v0.8.0/kwok
#     kubernetes-v1.28.15/{kube-apiserver,kubectl,kube-controller-manager,kube-scheduler}
#     argocd-v3.6.1/argocd + links argocd-{application-controller,repo-server,applicationset-controller},
#       git-verify-wrapper.sh, gpg-wrapper.sh (the repo-server runs them from PATH)
#     <dir>/.<binary>.ok   stamp written only after a successful build
#     logs/<tool>-<version>.log   build output (tail shown on failure)
# The Kubernetes version comes from test/tools/kube/go.mod, Argo CD's from test/tools/argocd/go.mod
# (see the comments there). Argo CD needs Go 1.27: the build runs with GOTOOLCHAIN=go1.27.3
# (ARGOCD_GOTOOLCHAIN overrides it), which the go command fetches from the module proxy.
# Debian packages (etcd-server -> etcd, buildah, postgresql -> postgres/initdb/pg_ctl,
# redis-server and git for Argo CD) are
# apt-installed only when the binary is missing; PostgreSQL's bin dir is added to PATH.
#
# Environment:
#   TODO_GITOPS_TOOLS_CACHE  cache root (default ~/.cache/todo-gitops/tools)
#   TOOLS_STRICT=1           make the best-effort tools (kube-linter, kwok) fatal on failure
set -euo pipefail

KO_VERSION=v0.19.1
CRANE_VERSION=v0.22.1
HELM_VERSION=v3.22.0
KWOK_VERSION=v0.8.0
# kube-linter: neither golang.stackrox.io/kube-linter nor github.com/stackrox/kube-linter is
# served by the Go module proxy reachable here (403 on the version list and on every version
# tried), so this step is best-effort and is skipped with a warning.
KUBE_LINTER_VERSION=v0.7.6

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${TODO_GITOPS_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/todo-gitops/tools}
LOGS=$CACHE/logs
KUBE_MOD=$HERE/kube
KUBE_VERSION=$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" {print $3} $1 == "k8s.io/kubernetes" && $2 ~ /^v/ {print $2}' "$KUBE_MOD/go.mod" | head -n1)
KUBE_BINS=(kube-apiserver kubectl kube-controller-manager kube-scheduler)
ARGOCD_MOD=$HERE/argocd
ARGOCD_VERSION=$(awk '$1 == "require" && $2 == "github.com/argoproj/argo-cd/v3" {print $3}' "$ARGOCD_MOD/go.mod" | head -n1)
ARGOCD_GOTOOLCHAIN=${ARGOCD_GOTOOLCHAIN:-go1.27.3}
ARGOCD_COMPONENTS=(argocd-application-controller argocd-repo-server argocd-applicationset-controller)
ALL_TOOLS=(ko crane helm kube-linter kwok debs kube argocd)

env_file=
tools=()
while [ $# -gt 0 ]; do
  case $1 in
    -o) env_file=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 0 ;;
    -*) echo "install.sh: unknown option $1" >&2; exit 2 ;;
    *) tools+=("$1"); shift ;;
  esac
done
[ ${#tools[@]} -gt 0 ] || tools=("${ALL_TOOLS[@]}")
for t in "${tools[@]}"; do
  case " ${ALL_TOOLS[*]} " in *" $t "*) ;; *) echo "install.sh: unknown tool $t (known: ${ALL_TOOLS[*]})" >&2; exit 2 ;; esac
done
want() { case " ${tools[*]} " in *" $1 "*) return 0 ;; esac; return 1; }

command -v go >/dev/null || { [ -x /usr/local/go/bin/go ] && export PATH=/usr/local/go/bin:$PATH; }
command -v go >/dev/null || { echo "install.sh: go not found" >&2; exit 1; }
mkdir -p "$CACHE" "$LOGS"

# Step counter: one step per tool, the kube tool counts one step per binary.
total=0
for t in "${tools[@]}"; do
  if [ "$t" = kube ]; then total=$((total + ${#KUBE_BINS[@]})); else total=$((total + 1)); fi
done
step=0
progress() { step=$((step + 1)); echo "[tools $step/$total] $*" >&2; }
warn() { echo "[tools] WARNING: $*" >&2; }

path_dirs=()
add_path() { case " ${path_dirs[*]-} " in *" $1 "*) ;; *) path_dirs+=("$1") ;; esac; }

# Run "$@" with output to a log; on failure show the log's tail and return non-zero.
logged() {
  local log=$1; shift
  local start=$SECONDS
  if "$@" >"$log" 2>&1; then
    echo "[tools]   done in $((SECONDS - start))s" | tee -a "$log" >&2
    return 0
  fi
  echo "[tools]   FAILED after $((SECONDS - start))s; last lines of $log:" >&2
  tail -n 25 "$log" | sed 's/^/[tools]     /' >&2
  echo "[tools]   FAILED after $((SECONDS - start))s" >>"$log"
  return 1
}

# go install MODULE/PKG@VERSION into $CACHE/<tool>-<version>/ (GOBIN), atomically.
# go_install TOOL VERSION BINARY PKG...   (several PKGs = alternatives tried in order)
# LDX (optional, e.g. LDX="-X a.b=c" go_install ...) is appended to -ldflags "-s -w".
go_install() {
  local tool=$1 version=$2 bin=$3; shift 3
  local dir=$CACHE/$tool-$version
  if [ -x "$dir/$bin" ] && [ -e "$dir/.$bin.ok" ]; then
    progress "building $tool $version (cached: yes)"
    add_path "$dir"; return 0
  fi
  progress "building $tool $version (cached: no)…"
  local tmp pkg
  tmp=$(mktemp -d "$CACHE/.$tool-$version.XXXXXX")
  for pkg in "$@"; do
    echo "[tools]   go install $pkg@$version" >&2
    # GOFLAGS must not carry -mod=mod here: `go install pkg@version` runs outside any module.
    if logged "$LOGS/$tool-$version.log" env GOBIN="$tmp" GOFLAGS=-buildvcs=false \
        go install -trimpath -ldflags "-s -w ${LDX:-}" "$pkg@$version"; then
      mkdir -p "$dir"
      mv -f "$tmp/$bin" "$dir/$bin" || return 1
      rm -rf "$tmp"
      touch "$dir/.$bin.ok"
      add_path "$dir"; return 0
    fi
  done
  rm -rf "$tmp"
  return 1
}

best_effort() {
  if "$@"; then return 0; fi
  if [ "${TOOLS_STRICT:-0}" = 1 ]; then exit 1; fi
  warn "$2 $3 could not be installed; continuing without it (TOOLS_STRICT=1 makes this fatal)"
}

if want ko; then go_install ko "$KO_VERSION" ko github.com/google/ko; fi
if want crane; then go_install crane "$CRANE_VERSION" crane github.com/google/go-containerregistry/cmd/crane; fi
if want helm; then
  # The version stamps helm's own Makefile sets. Without them `helm version` says "v3.22" and
  # .Capabilities.KubeVersion of `helm template`/lint defaults to v1.20.0 instead of the
  # Kubernetes minor of the client-go helm is built with (Makefile: K8S_MODULES_*_VER).
  helm_ldx="-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  helm_ldx+=" -X helm.sh/helm/v3/internal/version.metadata= -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  if [ ! -e "$CACHE/helm-$HELM_VERSION/.helm.ok" ]; then
    helm_gomod=$(GOFLAGS=-buildvcs=false go mod download -json "helm.sh/helm/v3@$HELM_VERSION" | awk -F'"' '$2 == "GoMod" {print $4}')
    cg=$(awk '$1 == "k8s.io/client-go" {print $2}' "$helm_gomod")   # v0.MINOR.PATCH
    cg_minor=${cg#v0.}; cg_minor=${cg_minor%%.*}
    for p in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
      helm_ldx+=" -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=$cg_minor"
    done
  fi
  LDX=$helm_ldx go_install helm "$HELM_VERSION" helm helm.sh/helm/v3/cmd/helm
fi
if want kube-linter; then
  best_effort go_install kube-linter "$KUBE_LINTER_VERSION" kube-linter \
    golang.stackrox.io/kube-linter/cmd/kube-linter github.com/stackrox/kube-linter/cmd/kube-linter
fi
if want kwok; then best_effort go_install kwok "$KWOK_VERSION" kwok sigs.k8s.io/kwok/cmd/kwok; fi

# ---- Debian packages -------------------------------------------------------------------
pg_bindir() {
  local p
  p=$(command -v postgres 2>/dev/null || true)
  if [ -n "$p" ]; then dirname "$(readlink -f "$p")"; return 0; fi
  p=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
  [ -n "$p" ] && [ -x "$p/postgres" ] && { echo "$p"; return 0; }
  return 1
}

if want debs; then
  missing=()
  command -v etcd >/dev/null || missing+=(etcd-server)
  command -v buildah >/dev/null || missing+=(buildah)
  pg_bindir >/dev/null || missing+=(postgresql)
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v git >/dev/null || missing+=(git)
  if [ ${#missing[@]} -eq 0 ]; then
    progress "installing debian packages etcd-server buildah postgresql redis-server git (cached: yes)"
  else
    progress "installing debian packages ${missing[*]} (cached: no)…"
    SUDO=
    [ "$(id -u)" = 0 ] || SUDO=sudo
    # Keep the packages' init scripts from starting system-wide etcd/postgres daemons:
    # the tests start their own on free ports.
    policy=/usr/sbin/policy-rc.d created_policy=0
    if [ ! -e $policy ]; then
      printf '#!/bin/sh\nexit 101\n' | $SUDO tee $policy >/dev/null && $SUDO chmod +x $policy && created_policy=1
    fi
    rc=0
    logged "$LOGS/apt.log" bash -c "$SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends ${missing[*]}" || rc=$?
    [ $created_policy = 1 ] && $SUDO rm -f $policy
    [ $rc = 0 ] || exit $rc
  fi
  if d=$(pg_bindir); then add_path "$d"; else warn "postgres not found after install"; fi
fi

# ---- Kubernetes control plane from Go modules (test/tools/kube) -------------------------
if want kube; then
  [ -n "$KUBE_VERSION" ] || { echo "install.sh: cannot read k8s.io/kubernetes version from $KUBE_MOD/go.mod" >&2; exit 1; }
  kdir=$CACHE/kubernetes-$KUBE_VERSION
  mkdir -p "$kdir"
  # The same version stamps the Kubernetes release build sets (hack/lib/version.sh), so that
  # `kubectl version`, /version and helm's kubeVersion checks see the real version.
  minor=${KUBE_VERSION#v*.}; minor=${minor%%.*}
  major=${KUBE_VERSION#v}; major=${major%%.*}
  ldx=""
  for p in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    ldx+=" -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=$major -X $p.gitMinor=$minor"
    ldx+=" -X $p.gitCommit= -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  for bin in "${KUBE_BINS[@]}"; do
    if [ -x "$kdir/$bin" ] && [ -e "$kdir/.$bin.ok" ]; then
      progress "building $bin $KUBE_VERSION (cached: yes)"; continue
    fi
    progress "building $bin $KUBE_VERSION (cached: no)… (5-15 min on 2 cores)"
    # go.sum in test/tools/kube pins every module; with it no checksum-database lookup is
    # needed. GONOSUMDB covers re-resolving: the proxy's sumdb mirror here answers 404 for
    # several k8s.io staging modules.
    logged "$LOGS/$bin-$KUBE_VERSION.log" env -C "$KUBE_MOD" GOFLAGS="-mod=mod -buildvcs=false" \
      GONOSUMDB="${GONOSUMDB:+$GONOSUMDB,}k8s.io" \
      go build -trimpath -ldflags "-s -w$ldx" -o "$kdir/.$bin.tmp.$$" "k8s.io/kubernetes/cmd/$bin"
    mv -f "$kdir/.$bin.tmp.$$" "$kdir/$bin"
    touch "$kdir/.$bin.ok"
  done
  add_path "$kdir"
fi

# ---- Argo CD from Go modules (test/tools/argocd) ----------------------------------------
if want argocd; then
  [ -n "$ARGOCD_VERSION" ] || { echo "install.sh: cannot read the argo-cd version from $ARGOCD_MOD/go.mod" >&2; exit 1; }
  adir=$CACHE/argocd-$ARGOCD_VERSION
  if [ -x "$adir/argocd" ] && [ -e "$adir/.argocd.ok" ]; then
    progress "building argocd $ARGOCD_VERSION (cached: yes)"
  else
    progress "building argocd $ARGOCD_VERSION with $ARGOCD_GOTOOLCHAIN (cached: no)… (10-20 min on 2 cores)"
    mkdir -p "$adir"
    rm -f "$adir/.argocd.ok"
    # go.sum in test/tools/argocd pins every module, so no checksum-database lookup is needed.
    ldx="-X github.com/argoproj/argo-cd/v3/common.version=${ARGOCD_VERSION#v}"
    logged "$LOGS/argocd-$ARGOCD_VERSION.log" env -C "$ARGOCD_MOD" GOTOOLCHAIN="$ARGOCD_GOTOOLCHAIN" \
      GOFLAGS="-mod=mod -buildvcs=false" \
      go build -trimpath -ldflags "-s -w $ldx" -o "$adir/.argocd.tmp.$$" github.com/argoproj/argo-cd/v3/cmd
    mv -f "$adir/.argocd.tmp.$$" "$adir/argocd"
    # The repo-server runs these two from PATH (without git-verify-wrapper.sh every request
    # fails with "permission denied"). The module cache is read-only: copy, then chmod.
    moddir=$(env -C "$ARGOCD_MOD" GOTOOLCHAIN="$ARGOCD_GOTOOLCHAIN" GOFLAGS=-mod=mod \
      go list -m -f '{{.Dir}}' github.com/argoproj/argo-cd/v3)
    for h in git-verify-wrapper.sh gpg-wrapper.sh; do
      cp -f "$moddir/hack/$h" "$adir/$h"
      chmod 0755 "$adir/$h"
    done
    for c in "${ARGOCD_COMPONENTS[@]}"; do ln -sfn argocd "$adir/$c"; done
    touch "$adir/.argocd.ok"
  fi
  add_path "$adir"
fi

line="export PATH=\""
for d in "${path_dirs[@]-}"; do [ -n "$d" ] && line+="$d:"; done
line+="\$PATH\""
if [ -n "$env_file" ]; then printf '%s\n' "$line" >"$env_file"; fi
printf '%s\n' "$line"
