# test/tools/images/metrics-server/recipe.sh — the metrics-server image; sourced by build.sh.
#
# The resource metrics API (metrics.k8s.io) a HorizontalPodAutoscaler reads CPU from. The binary
# comes from `test/tools/install.sh metrics-server` (sigs.k8s.io/metrics-server@v0.9.0 from the
# Go module proxy, its cmd/metrics-server built with CGO off in the module test/tools/kube, cached in
# <tools cache>/metrics-server-<version>/). Upstream's image (registry.k8s.io/metrics-server/
# metrics-server, its Dockerfile) is distroless static with the binary at /metrics-server as the
# entrypoint and USER 65534; here the same entrypoint on a from-scratch base with /etc/passwd and
# /etc/group for 65532 and /tmp, USER 65532:65532, so it runs under Pod Security "restricted"
# (non-root, no capabilities, read-only root filesystem: its self-signed serving certificate goes
# to --cert-dir, an emptyDir). No CA roots: it talks only to the API server (the service account's
# CA) and to kubelets (their CA, or --kubelet-insecure-tls).
# shellcheck shell=bash

METRICS_SERVER_IMAGE_VERSION=v0.9.0   # keep in step with sigs.k8s.io/metrics-server in test/tools/kube/go.mod
METRICS_SERVER_REPOSITORY=metrics-server/metrics-server


build_metrics_server() {
  local dir=$1 root=$1/root src
  src=$(tool_dir metrics-server "$METRICS_SERVER_IMAGE_VERSION")
  scratch_base "$root" nonroot 65532 /home/nonroot
  install -m 0755 "$src/metrics-server" "$root/metrics-server"
  scratch_layer "$root" "$dir/layer.tar"

  local config
  config="{\"Env\":[\"PATH=/usr/local/bin:/usr/bin:/bin\"],\"Entrypoint\":[\"/metrics-server\"],\"User\":\"65532:65532\",\"WorkingDir\":\"/\""
  config+=",\"Labels\":{\"org.opencontainers.image.title\":\"metrics-server\",\"org.opencontainers.image.version\":\"${METRICS_SERVER_IMAGE_VERSION#v}\""
  config+=",\"org.opencontainers.image.licenses\":\"Apache-2.0\""
  config+=",\"org.opencontainers.image.source\":\"https://github.com/kubernetes-sigs/metrics-server\""
  config+=",\"org.opencontainers.image.description\":$(json_str "Stand-in for registry.k8s.io/metrics-server/metrics-server:$METRICS_SERVER_IMAGE_VERSION: sigs.k8s.io/metrics-server/cmd/metrics-server@$METRICS_SERVER_IMAGE_VERSION from the Go module proxy, static, as the entrypoint on a from-scratch base (user 65532), by test/tools/images")}}"
  oci_layout "$dir/oci" "$config" \
    "$dir/layer.tar=metrics-server $METRICS_SERVER_IMAGE_VERSION (built from the module, CGO off), passwd/group (65532), /tmp" >/dev/null
  rm -f "$dir/layer.tar"
  echo "$METRICS_SERVER_IMAGE_VERSION" >"$dir/tag"
}

image_metrics_server() {
  progress "metrics-server binary (test/tools/install.sh metrics-server)"
  "$REPO_ROOT/test/tools/install.sh" metrics-server >/dev/null
  local src; src=$(tool_dir metrics-server "$METRICS_SERVER_IMAGE_VERSION")
  [ -x "$src/metrics-server" ] || die "install.sh metrics-server left no $src/metrics-server"
  cached_or_build metrics-server "$METRICS_SERVER_IMAGE_VERSION-$(key_of "$IMAGES_DIR/lib.sh" "$IMAGES_DIR/scratch.sh" \
    "$IMAGES_DIR/metrics-server/recipe.sh" "$src/metrics-server")" build_metrics_server
  progress "pushing metrics-server to $REGISTRY/$METRICS_SERVER_REPOSITORY"
  push_layout "$CACHED_DIR/oci" "$REGISTRY/$METRICS_SERVER_REPOSITORY" "$(cat "$CACHED_DIR/tag")"
}
