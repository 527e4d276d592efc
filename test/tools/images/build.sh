#!/usr/bin/env bash
# test/tools/images/build.sh — build the container images the local cluster runs, here, from
# package registries only (Debian apt, Go module proxy) and a vendored kaniko source tarball,
# and push them to a registry.
#
# Usage:
#   test/tools/images/build.sh IMAGE... REGISTRY
#     IMAGE: postgres | postgres-exporter | kaniko | sealed-secrets-controller | cloudnative-pg |
#            cloudnative-pg-postgresql | plugin-barman-cloud | versitygw | metrics-server | all
#     REGISTRY: host:port[/prefix] of an OCI registry, plain HTTP or HTTPS, e.g. 127.0.0.1:5000
#
# stdout: one line per image, the pushed reference by digest, in the order asked, e.g.
#   127.0.0.1:5000/library/postgres@sha256:...
#   127.0.0.1:5000/prometheuscommunity/postgres-exporter@sha256:...
#   127.0.0.1:5000/kaniko-project/executor@sha256:...
#   127.0.0.1:5000/bitnami/sealed-secrets-controller@sha256:...
#   127.0.0.1:5000/cloudnative-pg/cloudnative-pg@sha256:...
#   127.0.0.1:5000/cloudnative-pg/postgresql@sha256:...
#   127.0.0.1:5000/cloudnative-pg/plugin-barman-cloud@sha256:...
#   127.0.0.1:5000/versity/versitygw@sha256:...
#   127.0.0.1:5000/metrics-server/metrics-server@sha256:...
# stderr: progress, "[images i/N] ...".
#
# Each image is built once and cached as an OCI layout under
#   ${TODO_GITOPS_IMAGES_CACHE:-~/.cache/todo-gitops/images}/<name>-<version>-<recipe hash>/
# (oci/ the layout, tag, packages.txt for the postgres rootfs images; logs/ beside them), so a second run only
# pushes, and pushes the same digest. Needs root (postgres, cloudnative-pg-postgresql: mmdebstrap +
# chroot), go, and crane
# (test/tools/install.sh crane puts it on PATH; this script calls it if crane is missing).
#
# Environment:
#   TODO_GITOPS_IMAGES_CACHE  image cache root (default ~/.cache/todo-gitops/images)
#   KANIKO_SOURCE_TARBALL     kaniko source (default <repo>/../shared/kaniko/kaniko-v1.25.5.tar.gz)
#   DEBIAN_MIRROR, DEBIAN_SECURITY_MIRROR   default: the URIs apt uses here (/etc/apt/sources.list*)
#   IMAGES_INSECURE=          (empty) to refuse plain HTTP; default 1 (crane --insecure)
set -euo pipefail

IMAGES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$IMAGES_DIR/../../.." && pwd)
IMAGES_CACHE=${TODO_GITOPS_IMAGES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/todo-gitops/images}
IMAGES_LOGS=$IMAGES_CACHE/logs
IMAGES_INSECURE=${IMAGES_INSECURE-1}
ALL_IMAGES=(postgres postgres-exporter kaniko sealed-secrets-controller cloudnative-pg cloudnative-pg-postgresql plugin-barman-cloud versitygw metrics-server)

# shellcheck source=lib.sh
. "$IMAGES_DIR/lib.sh"
# shellcheck source=debian.sh
. "$IMAGES_DIR/debian.sh"
# shellcheck source=scratch.sh
. "$IMAGES_DIR/scratch.sh"
# shellcheck source=postgres/recipe.sh
. "$IMAGES_DIR/postgres/recipe.sh"
# shellcheck source=postgres-exporter/recipe.sh
. "$IMAGES_DIR/postgres-exporter/recipe.sh"
# shellcheck source=kaniko/recipe.sh
. "$IMAGES_DIR/kaniko/recipe.sh"
# shellcheck source=sealed-secrets-controller/recipe.sh
. "$IMAGES_DIR/sealed-secrets-controller/recipe.sh"
# shellcheck source=cloudnative-pg/recipe.sh
. "$IMAGES_DIR/cloudnative-pg/recipe.sh"
# shellcheck source=cloudnative-pg-postgresql/recipe.sh
. "$IMAGES_DIR/cloudnative-pg-postgresql/recipe.sh"
# shellcheck source=plugin-barman-cloud/recipe.sh
. "$IMAGES_DIR/plugin-barman-cloud/recipe.sh"
# shellcheck source=versitygw/recipe.sh
. "$IMAGES_DIR/versitygw/recipe.sh"
# shellcheck source=metrics-server/recipe.sh
. "$IMAGES_DIR/metrics-server/recipe.sh"

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit "${1:-2}"; }
case "${1:-}" in -h|--help) usage 0 ;; esac
[ $# -ge 2 ] || usage
REGISTRY=${*: -1}
REGISTRY=${REGISTRY%/}
images=()
for a in "${@:1:$#-1}"; do
  case $a in
    all) images+=("${ALL_IMAGES[@]}") ;;
    postgres|postgres-exporter|kaniko|sealed-secrets-controller|cloudnative-pg|cloudnative-pg-postgresql|plugin-barman-cloud|versitygw|metrics-server) images+=("$a") ;;
    *) echo "build.sh: unknown image $a (known: ${ALL_IMAGES[*]} all)" >&2; exit 2 ;;
  esac
done
case $REGISTRY in */*:*|*@*|"") echo "build.sh: REGISTRY must be host:port[/prefix], got '$REGISTRY'" >&2; exit 2 ;; esac

# Two steps per image (build or reuse, push); the images of a Go binary add one for their
# binary (postgres and cloudnative-pg-postgresql are mmdebstrap rootfs images), and one for the tools.
IMAGES_TOTAL=1
for i in "${images[@]}"; do
  case $i in
    postgres|cloudnative-pg-postgresql) IMAGES_TOTAL=$((IMAGES_TOTAL + 2)) ;;
    plugin-barman-cloud) IMAGES_TOTAL=$((IMAGES_TOTAL + 4)) ;;   # its binary, its base image, itself, the push
    *) IMAGES_TOTAL=$((IMAGES_TOTAL + 3)) ;;
  esac
done

BUILD_TMP=
cleanup() {
  local rc=$?
  # A failed build's temp dir (rootfs, binaries) goes; mmdebstrap's mounts were private to its
  # own mount namespace, so nothing is mounted in it any more.
  if [ -n "${BUILD_TMP:-}" ] && [ -d "$BUILD_TMP" ]; then rm -rf "$BUILD_TMP"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v go >/dev/null || { [ -x /usr/local/go/bin/go ] && export PATH=/usr/local/go/bin:$PATH; }
progress "tools: crane"
if ! command -v crane >/dev/null; then
  eval "$("$REPO_ROOT/test/tools/install.sh" crane)"
fi
mkdir -p "$IMAGES_CACHE" "$IMAGES_LOGS"
# One build of an image at a time per cache: suites run side by side (test/e2e/run.ts) must not
# build the same image twice (the second would replace the directory the first pushes from). The
# lock is per image, held while it is built and pushed, so a run whose images are cached only
# waits for one another run is building; a cached image only pushes, for seconds.
lock_image() {
  exec 8>"$IMAGES_CACHE/.lock-$1"
  if ! flock -n 8; then
    note "waiting for another build.sh building $1 ($IMAGES_CACHE/.lock-$1)"
    flock 8
  fi
}

for i in "${images[@]}"; do
  lock_image "$i"
  case $i in
    postgres) image_postgres ;;
    postgres-exporter) image_postgres_exporter ;;
    kaniko) image_kaniko ;;
    sealed-secrets-controller) image_sealed_secrets_controller ;;
    cloudnative-pg) image_cloudnative_pg ;;
    cloudnative-pg-postgresql) image_cloudnative_pg_postgresql ;;
    plugin-barman-cloud) image_plugin_barman_cloud ;;
    versitygw) image_versitygw ;;
    metrics-server) image_metrics_server ;;
  esac
done
