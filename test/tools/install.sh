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
#             (kube: kubectl, kube-apiserver, kube-controller-manager and kube-scheduler of the
#             Kubernetes version of test/tools/kube/go.mod)
#             opt-in (never in the default set): netpol (kube-router, for its NetworkPolicy firewall only: test/tools/netpol/go.mod),
#             cluster (the whole Kubernetes of the cluster program test/tools/cluster/: kube-apiserver,
#             kube-controller-manager, kube-scheduler, kubelet, kube-proxy of the kube version and
#             k8s-pause, the sandbox binary, into kubernetes-<kube version>/; Debian containerd
#             runc containernetworking-plugins iptables conntrack ipset when missing),
#             coredns (CoreDNS with the plugins the cluster program's Corefile uses: test/tools/coredns),
#             kaniko (the kaniko executor binary, from the vendored source tarball, for the image
#             test/tools/images/build.sh kaniko makes; cached in kaniko-<version>/, NOT put on PATH),
#             lifecycle (the Cloud Native Buildpacks lifecycle and launcher, for the builder image
#             buildpacks/build-builder.sh makes; cached in lifecycle-<version>/, NOT put on PATH),
#             docker (Debian's docker.io: dockerd and the docker client, for --builder docker/buildpacks)
#             tanka (Grafana Tanka's `tk`, from the vendored source tarball, for test/e2e/tanka.ts;
#             cached in tanka-<version>/ and put on PATH)
#             versitygw (the versitygw S3 gateway, static, for the image test/tools/images/build.sh
#             versitygw makes and the backup drills' object store; cached in versitygw-<version>/, put on PATH)
#             metrics-server (the Kubernetes resource metrics API server, static, for the image
#             test/tools/images/build.sh metrics-server makes; cached in metrics-server-<version>/, NOT put on PATH)
#
# stdout: exactly one line, `export PATH="<dir>:<dir>:...:$PATH"`, to be eval'ed/sourced.
# stderr: progress, e.g. "[tools 7/10] building kube-apiserver v1.37.2 (cached: no)…"
#
# Everything is built from registries only (Go module proxy, Debian apt) and cached
# OUTSIDE the repo, keyed by version, so a re-run is instant:
#   ${TODO_GITOPS_TOOLS_CACHE:-~/.cache/todo-gitops/tools}/
#     ko-v0.19.1/ko  crane-v0.22.1/crane  helm-v3.22.0/helm  kwok-v0.8.0/kwok
#     kubernetes-v1.37.2/{kube-apiserver,kubectl,kube-controller-manager,kube-scheduler,kubelet,kube-proxy,k8s-pause}
#     argocd-v3.6.1/argocd + links argocd-{application-controller,repo-server,applicationset-controller},
#       git-verify-wrapper.sh, gpg-wrapper.sh (the repo-server runs them from PATH)
#     <dir>/.<binary>.ok   stamp written only after a successful build
#     logs/<tool>-<version>.log   build output (tail shown on failure)
# The Kubernetes version comes from test/tools/kube/go.mod, Argo CD's from test/tools/argocd/go.mod
# (see the comments there). Argo CD needs Go 1.27: the build runs with GOTOOLCHAIN=go1.27.3
# (ARGOCD_GOTOOLCHAIN overrides it), which the go command fetches from the module proxy.
# Debian packages (etcd-server -> etcd, buildah, postgresql -> postgres/initdb/pg_ctl,
# redis-server and git for Argo CD, runc and jq for kaniko-executor.sh) are
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
# kaniko: chainguard-dev/kaniko (the maintained fork the gcr.io/kaniko-project/executor image
# is built from) is not reachable as a module here, so its release source is vendored in
# shared/ beside the repo; KANIKO_SOURCE_TARBALL points elsewhere. The sha256 pins it.
KANIKO_VERSION=v1.25.5
KANIKO_SHA256=944500410ad375799ac7c2ff8d63a1875b0a4527d06962c318ebd781641556e2
# The Cloud Native Buildpacks lifecycle (github.com/buildpacks/lifecycle, served by the module proxy).
LIFECYCLE_VERSION=v0.20.8
# tanka: the module proxy refuses github.com/grafana/tanka (403), so its release source with
# vendor/ is in shared/ beside the repo like kaniko's; TANKA_SOURCE_TARBALL points elsewhere.
TANKA_VERSION=v0.38.0
TANKA_SHA256=e8213ebace8af23514866d04cfbe6cf249f0344048446ebc0613e3117364a411
# Sealed Secrets: v0.27.1 is the newest release under the module path github.com/bitnami-labs/
# sealed-secrets; later ones moved to github.com/bitnami/sealed-secrets, which the checksum
# database here does not know (404). Its CRD is vendored in third_party/ from the same version.
SEALED_SECRETS_VERSION=v0.27.1
# CloudNativePG: the operator's manager (github.com/cloudnative-pg/cloudnative-pg/cmd/manager, served
# by the module proxy as this exact version; its CRDs and release manifest are vendored in
# third_party/ from the same version). One static binary is the operator, the instance manager
# injected into every Postgres pod, and the bootstrap that copies itself there.
CLOUDNATIVE_PG_VERSION=v1.30.0
# versitygw: an S3 gateway over a POSIX directory (github.com/versity/versitygw, Apache-2.0), the
# object store CloudNativePG's barman-cloud backs up to in the drills (the MinIO server module is
# refused by the proxy here). Served by the module proxy as this exact version.
VERSITYGW_VERSION=v1.8.0
# metrics-server: the resource metrics API (metrics.k8s.io) the HorizontalPodAutoscaler reads CPU
# from (sigs.k8s.io/metrics-server, served by the module proxy as this exact version).
METRICS_SERVER_VERSION=v0.9.0

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${TODO_GITOPS_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/todo-gitops/tools}
LOGS=$CACHE/logs
KUBE_MOD=$HERE/kube
KUBE_VERSION=$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" {print $3} $1 == "k8s.io/kubernetes" && $2 ~ /^v/ {print $2}' "$KUBE_MOD/go.mod" | head -n1)
KUBE_BINS=(kube-apiserver kubectl kube-controller-manager kube-scheduler)
NETPOL_MOD=$HERE/netpol
NETPOL_VERSION=$(awk '$1 == "require" && $2 == "github.com/cloudnativelabs/kube-router" {print $3}' "$NETPOL_MOD/go.mod" | head -n1)
PAUSE_MOD=$HERE/pause
# cluster: the control plane, kubelet and kube-proxy of the kube version (test/tools/kube/tools.go).
CLUSTER_BINS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy)
COREDNS_MOD=$HERE/coredns
COREDNS_VERSION=$(awk '$1 == "require" && $2 == "github.com/coredns/coredns" {print $3}' "$COREDNS_MOD/go.mod" | head -n1)
ARGOCD_MOD=$HERE/argocd
ARGOCD_VERSION=$(awk '$1 == "require" && $2 == "github.com/argoproj/argo-cd/v3" {print $3}' "$ARGOCD_MOD/go.mod" | head -n1)
ARGOCD_GOTOOLCHAIN=${ARGOCD_GOTOOLCHAIN:-go1.27.3}
ARGOCD_COMPONENTS=(argocd-application-controller argocd-repo-server argocd-applicationset-controller)
ALL_TOOLS=(ko crane helm kube-linter kwok debs kube argocd)
OPT_TOOLS=(netpol cluster coredns kaniko lifecycle docker tanka sealed-secrets cloudnative-pg versitygw metrics-server)   # known tools built only when named

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
  case " ${ALL_TOOLS[*]} ${OPT_TOOLS[*]} " in *" $t "*) ;; *) echo "install.sh: unknown tool $t (known: ${ALL_TOOLS[*]} ${OPT_TOOLS[*]})" >&2; exit 2 ;; esac
done
want() { case " ${tools[*]} " in *" $1 "*) return 0 ;; esac; return 1; }

command -v go >/dev/null || { [ -x /usr/local/go/bin/go ] && export PATH=/usr/local/go/bin:$PATH; }
command -v go >/dev/null || { echo "install.sh: go not found" >&2; exit 1; }
mkdir -p "$CACHE" "$LOGS"
# One install.sh at a time per cache: suites run side by side (test/e2e/run.ts) must not build the
# same tool twice or run apt-get at once. A run that finds everything cached holds it a moment.
exec 9>"$CACHE/.lock"
if ! flock -n 9; then
  echo "[tools] waiting for another install.sh to finish ($CACHE/.lock)…" >&2
  flock 9
fi

# Step counter: one step per tool, the kube tool counts one step per binary.
total=0
for t in "${tools[@]}"; do
  if [ "$t" = kube ]; then total=$((total + ${#KUBE_BINS[@]}))
  elif [ "$t" = cluster ]; then total=$((total + ${#CLUSTER_BINS[@]} + 2))   # debs, the binaries, k8s-pause
  elif [ "$t" = sealed-secrets ]; then total=$((total + 2))   # controller, kubeseal
  else total=$((total + 1)); fi
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

# go_build_exact TOOL VERSION MODULE BIN=PKGDIR... : that exact module version downloaded from the
# proxy and its commands built inside it (its go.sum pins every dependency) into
# $CACHE/<tool>-<version>/, atomically; not put on PATH (callers add_path what they want there).
# For modules whose version list the proxy refuses (CloudNativePG, the CNB lifecycle): `go install
# pkg@version` reads that list, to look for a deprecation, and fails with 403 on a cold module cache.
go_build_exact() {
  local tool=$1 version=$2 module=$3; shift 3
  local dir=$CACHE/$tool-$version spec cached=yes src tmp
  for spec in "$@"; do [ -x "$dir/${spec%%=*}" ] && [ -e "$dir/.${spec%%=*}.ok" ] || cached=no; done
  if [ $cached = yes ]; then progress "building $tool $version (cached: yes)"; return 0; fi
  progress "building $tool $version (cached: no)…"
  src=$(GOFLAGS=-mod=mod go mod download -json "$module@$version" | awk -F'"' '$2 == "Dir" {print $4}')
  [ -n "$src" ] || { echo "install.sh: go mod download $module@$version printed no directory" >&2; return 1; }
  tmp=$(mktemp -d "$CACHE/.$tool-$version.XXXXXX")
  for spec in "$@"; do
    echo "[tools]   go build $module/${spec#*=} at $version" >&2
    if ! logged "$LOGS/$tool-$version-${spec%%=*}.log" env -C "$src" GOWORK=off GOFLAGS="-mod=readonly -buildvcs=false" \
        go build -trimpath -ldflags "-s -w ${LDX:-}" -o "$tmp/${spec%%=*}" "./${spec#*=}"; then
      rm -rf "$tmp"; return 1
    fi
  done
  mkdir -p "$dir"
  for spec in "$@"; do mv -f "$tmp/${spec%%=*}" "$dir/"; touch "$dir/.${spec%%=*}.ok"; done
  rm -rf "$tmp"
}

best_effort() {
  if "$@"; then return 0; fi
  if [ "${TOOLS_STRICT:-0}" = 1 ]; then exit 1; fi
  warn "$2 $3 could not be installed; continuing without it (TOOLS_STRICT=1 makes this fatal)"
}

# apt_install LOG PKG... : apt-get install PKG..., output to $LOGS/LOG. The packages' init scripts
# may not start system-wide daemons (etcd, postgres, containerd): the tests start their own.
apt_install() {
  local log=$1; shift
  local sudo='' policy=/usr/sbin/policy-rc.d created_policy=0 rc=0
  [ "$(id -u)" = 0 ] || sudo=sudo
  if [ ! -e $policy ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee $policy >/dev/null && $sudo chmod +x $policy && created_policy=1
  fi
  logged "$LOGS/$log" bash -c "$sudo apt-get update && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends $*" || rc=$?
  [ $created_policy = 1 ] && $sudo rm -f $policy
  return $rc
}

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

# build_static MODULE_DIR DIR BINARY LABEL : a static `go build .` of the wrapper module MODULE_DIR
# into DIR/BINARY. The stamp holds the hash of the module's go.mod, go.sum and Go files, so an
# edit there (a plugin chosen in main.go, say) rebuilds it.
build_static() {
  local mod=$1 dir=$2 bin=$3 label=$4 hash
  hash=$(cat "$mod"/go.* "$mod"/*.go | sha256sum | cut -c1-16)
  if [ -x "$dir/$bin" ] && [ "$(cat "$dir/.$bin.ok" 2>/dev/null)" = "$hash" ]; then
    progress "building $label (cached: yes)"; add_path "$dir"; return 0
  fi
  progress "building $label (cached: no)… (up to 5 min on 2 cores)"
  mkdir -p "$dir"
  logged "$LOGS/$bin.log" env -C "$mod" CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false" \
    GONOSUMDB="${GONOSUMDB:+$GONOSUMDB,}k8s.io" go build -trimpath -ldflags "-s -w" -o "$dir/.$bin.tmp.$$" .
  mv -f "$dir/.$bin.tmp.$$" "$dir/$bin"
  echo "$hash" >"$dir/.$bin.ok"
  add_path "$dir"
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
  # runc and jq: test/tools/images/kaniko-executor.sh runs kaniko in a runc container.
  command -v runc >/dev/null || missing+=(runc)
  command -v jq >/dev/null || missing+=(jq)
  if [ ${#missing[@]} -eq 0 ]; then
    progress "installing debian packages etcd-server buildah postgresql redis-server git runc jq (cached: yes)"
  else
    progress "installing debian packages ${missing[*]} (cached: no)…"
    apt_install apt.log "${missing[@]}"
  fi
  if d=$(pg_bindir); then add_path "$d"; else warn "postgres not found after install"; fi
fi

# ---- Kubernetes control plane from Go modules (test/tools/kube) -------------------------
if want kube; then build_k8s "$KUBE_MOD" "$KUBE_VERSION" "${KUBE_BINS[@]}"; fi

# ---- netpol: kube-router's NetworkPolicy firewall (test/tools/netpol) --------------------
# kube-router runs as a host process with only the firewall (see test/tools/netpol/go.mod):
#   kube-router --run-firewall=true --run-router=false --run-service-proxy=false \
#     --kubeconfig=KUBECONFIG --hostname-override=NODE --service-cluster-ip-range=CIDR
# It needs the iptables, iptables-save/-restore and ipset commands (Debian: iptables, ipset).
if want netpol; then
  [ -n "$NETPOL_VERSION" ] || { echo "install.sh: cannot read the kube-router version from $NETPOL_MOD/go.mod" >&2; exit 1; }
  ndir=$CACHE/netpol-$NETPOL_VERSION
  if [ -x "$ndir/kube-router" ] && [ -e "$ndir/.kube-router.ok" ]; then
    progress "building kube-router $NETPOL_VERSION (cached: yes)"
  else
    progress "building kube-router $NETPOL_VERSION (cached: no)… (2-5 min on 2 cores)"
    mkdir -p "$ndir"
    # go.sum pins every module; GONOSUMDB covers re-resolving (the sumdb mirror here answers
    # 404 for github.com/osrg/gobgp/v3).
    logged "$LOGS/kube-router-$NETPOL_VERSION.log" env -C "$NETPOL_MOD" GOFLAGS="-mod=mod -buildvcs=false" \
      GONOSUMDB="${GONOSUMDB:+$GONOSUMDB,}github.com/osrg/gobgp" \
      go build -trimpath -ldflags "-s -w -X github.com/cloudnativelabs/kube-router/pkg/version.Version=$NETPOL_VERSION -X github.com/cloudnativelabs/kube-router/pkg/version.BuildDate=1970-01-01T00:00:00Z" \
      -o "$ndir/.kube-router.tmp.$$" github.com/cloudnativelabs/kube-router/cmd/kube-router
    mv -f "$ndir/.kube-router.tmp.$$" "$ndir/kube-router"
    touch "$ndir/.kube-router.ok"
  fi
  # Its firewall runs the ipset and iptables commands (Debian packages, installed when missing).
  np_missing=()
  command -v ipset >/dev/null || np_missing+=(ipset)
  command -v iptables-save >/dev/null || np_missing+=(iptables)
  if [ ${#np_missing[@]} -gt 0 ]; then
    echo "[tools]   apt-get install ${np_missing[*]}" >&2
    apt_install apt-netpol.log "${np_missing[@]}"
  fi
  add_path "$ndir"
fi

# ---- cluster: the Kubernetes of test/tools/cluster/ (several nodes, kind-style) -----------------
# Every component of the kube-latest version (test/tools/kube-latest) into kubernetes-<version>/,
# with the same version stamps; the cluster program takes them from that directory whatever else
# is on PATH. k8s-pause is the sandbox ("pause") image's binary (test/tools/pause, standard library
# only); its stamp holds the hash of its source, so an edit rebuilds it. The nodes' container
# runtime, CNI plugins and firewall tools come from Debian (bookworm: containerd 1.6.20, runc 1.1.5,
# containernetworking-plugins 1.1.1 in /usr/lib/cni; ipset for kube-router), apt-installed only
# when missing.
if want cluster; then
  node_missing=()
  command -v containerd >/dev/null || node_missing+=(containerd)
  command -v runc >/dev/null || node_missing+=(runc)
  [ -x /usr/lib/cni/bridge ] || node_missing+=(containernetworking-plugins)
  command -v iptables >/dev/null || node_missing+=(iptables)
  command -v conntrack >/dev/null || node_missing+=(conntrack)
  command -v ipset >/dev/null || node_missing+=(ipset)
  if [ ${#node_missing[@]} -eq 0 ]; then
    progress "installing debian packages containerd runc containernetworking-plugins iptables conntrack ipset (cached: yes)"
  else
    progress "installing debian packages ${node_missing[*]} (cached: no)…"
    apt_install apt-node.log "${node_missing[@]}"
  fi
  build_k8s "$KUBE_MOD" "$KUBE_VERSION" "${CLUSTER_BINS[@]}"
  build_static "$PAUSE_MOD" "$CACHE/kubernetes-$KUBE_VERSION" k8s-pause k8s-pause
fi

# ---- coredns: the cluster DNS of test/tools/cluster/ (test/tools/coredns) --------------------
# A static binary (the cluster program packs it into a one-layer image); the stamp holds the hash of the
# wrapper module, whose main.go chooses the plugins.
if want coredns; then
  [ -n "$COREDNS_VERSION" ] || { echo "install.sh: cannot read the coredns version from $COREDNS_MOD/go.mod" >&2; exit 1; }
  build_static "$COREDNS_MOD" "$CACHE/coredns-$COREDNS_VERSION" coredns "coredns $COREDNS_VERSION"
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

# build_vendored LABEL DIR BIN VAR TARBALL SHA256 SRCDIR PKG LDX FILE... : an offline build (-mod=vendor,
# GOPROXY=off, CGO off) of PKG in the release source tarball TARBALL (the environment variable VAR
# names another one), whose sha256 must be SHA256, into
# DIR/BIN (stamp DIR/.BIN.ok), with FILE... of the source tree (under its top directory SRCDIR) copied
# beside it. The unpacked source (hundreds of MB) is removed however the build ends.
build_vendored() {
  local label=$1 dir=$2 bin=$3 var=$4 tarball=$5 want=$6 srcdir=$7 pkg=$8 ldx=$9; shift 9
  if [ -x "$dir/$bin" ] && [ -e "$dir/.$bin.ok" ]; then
    progress "building $label (cached: yes)"; return 0
  fi
  progress "building $label (cached: no)… (about a minute)"
  [ -r "$tarball" ] || { echo "install.sh: $label source $tarball not found (set $var)" >&2; exit 1; }
  local sum tmp
  sum=$(sha256sum "$tarball" | cut -d' ' -f1)
  [ "$sum" = "$want" ] || { echo "install.sh: $tarball has sha256 $sum, want $want" >&2; exit 1; }
  tmp=$(mktemp -d "$CACHE/.$(basename "$dir").XXXXXX")
  ( trap 'rm -rf "$tmp"' EXIT; trap 'exit 130' INT TERM
    tar -xzf "$tarball" -C "$tmp"
    logged "$LOGS/$(basename "$dir").log" env -C "$tmp/$srcdir" GOWORK=off GOFLAGS="-mod=vendor -buildvcs=false" \
      GOPROXY=off GOTOOLCHAIN=local CGO_ENABLED=0 GOOS=linux GOARCH=amd64 \
      go build -trimpath -ldflags "-s -w $ldx" -o "$tmp/$bin" "$pkg"
    mkdir -p "$dir"
    rm -f "$dir/.$bin.ok"
    local f
    for f in "$@"; do cp -f "$tmp/$srcdir/$f" "$dir/"; done
    mv -f "$tmp/$bin" "$dir/$bin"
    touch "$dir/.$bin.ok" )
}

# ---- kaniko executor from its vendored source tarball (opt-in) ---------------------------
# Only the binary of the kaniko image test/tools/images/build.sh packs, with the two files of
# the source tree that image also needs (files/nsswitch.conf, LICENSE). Never run it on this
# host: it unpacks base images over the root filesystem it runs in. So it is not put on PATH;
# the image recipe reads <cache>/kaniko-<version>/executor. The build is the Makefile's
# `out/executor` (CGO off, version stamp), offline (~70 s).
if want kaniko; then
  build_vendored "kaniko executor $KANIKO_VERSION" "$CACHE/kaniko-$KANIKO_VERSION" executor KANIKO_SOURCE_TARBALL \
    "${KANIKO_SOURCE_TARBALL:-$HERE/../../../shared/kaniko/kaniko-$KANIKO_VERSION.tar.gz}" "$KANIKO_SHA256" \
    kaniko ./cmd/executor "-X github.com/chainguard-dev/kaniko/pkg/version.version=$KANIKO_VERSION" \
    files/nsswitch.conf LICENSE
fi

# ---- tanka: `tk` from its vendored source tarball (opt-in) --------------------------------
# The build its README gives (CGO off, version stamp), offline (~40 s on an idle machine). `tk
# diff`, `apply` and `prune` run kubectl from PATH (the `kube` tool's).
if want tanka; then
  build_vendored "tk $TANKA_VERSION" "$CACHE/tanka-$TANKA_VERSION" tk TANKA_SOURCE_TARBALL \
    "${TANKA_SOURCE_TARBALL:-$HERE/../../../shared/tanka/tanka-$TANKA_VERSION.tar.gz}" "$TANKA_SHA256" \
    "tanka-$TANKA_VERSION" ./cmd/tk "-X github.com/grafana/tanka/pkg/tanka.CurrentVersion=$TANKA_VERSION" \
    LICENSE
  add_path "$CACHE/tanka-$TANKA_VERSION"
fi

# ---- lifecycle: the CNB lifecycle and launcher, from the Go module proxy (opt-in) -------------
# Static binaries (CGO off, the version stamps of the lifecycle's Makefile) for the builder image
# buildpacks/build-builder.sh assembles; never run on the host, so not put on PATH. One binary
# serves every phase (detector, analyzer, restorer, builder, exporter, creator) by its argv[0];
# the launcher is the exported image's entrypoint. ~2 min on 2 cores.
if want lifecycle; then
  CGO_ENABLED=0 LDX="-X github.com/buildpacks/lifecycle/cmd.Version=${LIFECYCLE_VERSION#v} -X github.com/buildpacks/lifecycle/cmd.SCMRepository=github.com/buildpacks/lifecycle" \
    go_build_exact lifecycle "$LIFECYCLE_VERSION" github.com/buildpacks/lifecycle lifecycle=cmd/lifecycle launcher=cmd/launcher || exit 1
fi

# ---- docker: Debian's docker.io (dockerd 20.10, the docker client, containerd, runc) ----------
# The tests start their own dockerd in a network namespace of their own (test/e2e/docker-support.ts);
# the package's service is never started (apt_install forbids it).
if want docker; then
  if [ -x /usr/bin/docker ] && [ -x /usr/sbin/dockerd ]; then
    progress "installing debian package docker.io (cached: yes)"
  else
    progress "installing debian package docker.io (cached: no)…"
    apt_install apt-docker.log docker.io
  fi
fi

# ---- Sealed Secrets: the controller (packed into an image by test/tools/images/build.sh, so
# static: CGO off) and kubeseal (the tests check the library's own sealing against its
# --recovery-unseal). 1-2 min each on 2 cores.
if want sealed-secrets; then
  for bin in controller kubeseal; do
    CGO_ENABLED=0 LDX="-X main.VERSION=$SEALED_SECRETS_VERSION" go_install sealed-secrets "$SEALED_SECRETS_VERSION" "$bin" \
      "github.com/bitnami-labs/sealed-secrets/cmd/$bin"
  done
fi

# ---- CloudNativePG: the manager, static (packed into the operator image by
# test/tools/images/build.sh), with the version stamp upstream's Makefile sets. ~3 min on 2 cores.
if want cloudnative-pg; then
  CGO_ENABLED=0 LDX="-X github.com/cloudnative-pg/cloudnative-pg/pkg/versions.buildVersion=${CLOUDNATIVE_PG_VERSION#v}" \
    go_build_exact cloudnative-pg "$CLOUDNATIVE_PG_VERSION" github.com/cloudnative-pg/cloudnative-pg manager=cmd/manager || exit 1
  add_path "$CACHE/cloudnative-pg-$CLOUDNATIVE_PG_VERSION"
fi

# ---- versitygw: the S3 gateway, static (packed into an image by test/tools/images/build.sh, which
# runs it on a from-scratch base), with the version stamps of upstream's Makefile (the build time
# fixed at the epoch; main.Build, the commit, is not in the module zip and stays "norev"). The
# main package is cmd/versitygw. ~2 min on 2 cores.
if want versitygw; then
  CGO_ENABLED=0 LDX="-X main.Version=$VERSITYGW_VERSION -X main.BuildTime=1970-01-01T00:00:00Z" \
    go_install versitygw "$VERSITYGW_VERSION" versitygw github.com/versity/versitygw/cmd/versitygw
fi

# ---- metrics-server, static (packed into an image by test/tools/images/build.sh, run on a
# from-scratch base), with the version stamps of upstream's Makefile (k8s.io/client-go/pkg/version;
# the commit is not in the module zip and stays empty, the build date is fixed at the epoch so the
# binary, and the image, are the same on a rebuild). Never run on the host, so not put on PATH.
# ~3 min on 2 cores.
if want metrics-server; then
  ms_pkg=k8s.io/client-go/pkg/version
  CGO_ENABLED=0 LDX="-X $ms_pkg.gitVersion=$METRICS_SERVER_VERSION -X $ms_pkg.gitCommit= -X $ms_pkg.buildDate=1970-01-01T00:00:00Z" \
    go_build_exact metrics-server "$METRICS_SERVER_VERSION" sigs.k8s.io/metrics-server metrics-server=cmd/metrics-server || exit 1
fi

line="export PATH=\""
for d in "${path_dirs[@]-}"; do [ -n "$d" ] && line+="$d:"; done
line+="\$PATH\""
if [ -n "$env_file" ]; then printf '%s\n' "$line" >"$env_file"; fi
printf '%s\n' "$line"
