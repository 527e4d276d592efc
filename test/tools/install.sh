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
#   --every   every known tool, the opt-in ones too
#   TOOL...   subset of: ko crane helm kube-linter kwok debs kube argocd   (default: all)
#             opt-in (never in the default set): netpol cluster coredns kaniko lifecycle docker tanka
#             sealed-secrets cloudnative-pg barman-cloud-plugin versitygw metrics-server
#             Each tool's recipe, with its pinned version, is test/tools/install/<tool>.sh (listed below).
#
# stdout: exactly one line, `export PATH="<dir>:<dir>:...:$PATH"`, to be eval'ed/sourced.
# stderr: progress, e.g. "[tools 7/10] building kube-apiserver v1.37.2 (cached: no)…"
#
# Everything is built from registries only (Go module proxy, Debian apt) or a vendored source
# tarball, and cached OUTSIDE the repo, keyed by version, so a re-run is instant:
#   ${TODO_GITOPS_TOOLS_CACHE:-~/.cache/todo-gitops/tools}/
#     <tool>-<version>/<binary>   e.g. ko-v0.19.1/ko, kubernetes-v1.37.2/kube-apiserver
#     <dir>/.<binary>.ok          stamp written only after a successful build
#     logs/<tool>-<version>.log   build output (tail shown on failure)
# Debian packages are apt-installed only when their binary is missing. A tool is built by one
# install.sh at a time (a lock per tool), so suites run side by side never build a tool twice.
#
# Environment:
#   TODO_GITOPS_TOOLS_CACHE  cache root (default ~/.cache/todo-gitops/tools)
#   TOOLS_STRICT=1           make the best-effort tool (kube-linter) fatal on failure
#   KANIKO_SOURCE_TARBALL, TANKA_SOURCE_TARBALL: see their recipes
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RECIPES=$HERE/install
ALL_TOOLS=(ko crane helm kube-linter kwok debs kube argocd)
OPT_TOOLS=(netpol cluster coredns kaniko lifecycle docker tanka sealed-secrets cloudnative-pg barman-cloud-plugin versitygw metrics-server)   # known tools built only when named
# The order tools are built in, whatever order they are named in; it is the order of the PATH line.
# What the end-to-end suites need first comes first (a cluster, the Sealed Secrets controller and
# CloudNativePG's manager; then Argo CD), so a cold prebuild of everything (.ci/run) lets the first
# suites start early.
ORDER=(ko crane debs kube netpol cluster coredns sealed-secrets cloudnative-pg barman-cloud-plugin helm kwok metrics-server argocd docker versitygw kaniko lifecycle kube-linter tanka)

# shellcheck source=install/lib.sh
. "$RECIPES/lib.sh"
# shellcheck source=install/go.sh
. "$RECIPES/go.sh"
# Each recipe only defines its version and install_<tool> (dashes as underscores).
for t in "${ORDER[@]}"; do
  # shellcheck source=/dev/null
  . "$RECIPES/$t.sh"
done

env_file=
tools=()
while [ $# -gt 0 ]; do
  case $1 in
    -o) env_file=$2; shift 2 ;;
    --every) tools+=("${ORDER[@]}"); shift ;;
    -h|--help)
      { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
        echo "Tools:"; for t in "${ORDER[@]}"; do sed -n '1s/^# /  /p' "$RECIPES/$t.sh"; done; } >&2
      exit 0 ;;
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
# One build of a tool at a time per cache: suites run side by side (test/e2e/run.ts, and .ci/run's
# prebuild) must not build the same tool twice. The lock is per tool, not per run, so a suite whose
# tools are built goes on while another run builds the ones only it needs. kube and cluster build
# the same Kubernetes binaries, so they share one lock; so do cloudnative-pg and barman-cloud-plugin
# (one module: the plugin's build reuses the packages the operator's compiled, instead of compiling
# them beside it); apt has its own (apt_install).
lock_tool() {
  local name=$1
  case $name in kube|cluster) name=kubernetes ;; cloudnative-pg|barman-cloud-plugin) name=cnpg ;; esac
  exec 9>"$CACHE/.lock-$name"
  if ! flock -n 9; then
    echo "[tools] waiting for another install.sh building $name ($CACHE/.lock-$name)…" >&2
    flock 9
  fi
}

# Step counter (lib.sh's progress): one step per tool, the Kubernetes ones one per binary.
for t in "${tools[@]}"; do
  case $t in
    kube) total=$((total + ${#KUBE_BINS[@]})) ;;
    cluster) total=$((total + ${#CLUSTER_BINS[@]} + 2)) ;;   # debs, the binaries, k8s-pause
    sealed-secrets) total=$((total + 2)) ;;                  # controller, kubeseal
    *) total=$((total + 1)) ;;
  esac
done

for t in "${ORDER[@]}"; do
  if want "$t"; then lock_tool "$t"; "install_${t//-/_}"; fi
done
exec 9>&-

line="export PATH=\""
for d in "${path_dirs[@]-}"; do [ -n "$d" ] && line+="$d:"; done
line+="\$PATH\""
if [ -n "$env_file" ]; then printf '%s\n' "$line" >"$env_file"; fi
printf '%s\n' "$line"
