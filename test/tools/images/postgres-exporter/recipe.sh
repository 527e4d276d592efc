# test/tools/images/postgres-exporter/recipe.sh — the postgres_exporter image; sourced by build.sh.
#
# prometheus-community/postgres_exporter at the version images.lock.json pins, built with the
# local Go from the Go module proxy (static, CGO off, upstream's .promu.yml version stamps), on
# a from-scratch base instead of quay.io/prometheus/busybox: /etc/passwd and /etc/group with
# nobody (65534), CA roots, /tmp. Same path and config as upstream's Dockerfile:
# /bin/postgres_exporter, EXPOSE 9187, USER nobody (numeric 65534 here, so that the kubelet's
# runAsNonRoot check can verify it without reading /etc/passwd).
# shellcheck shell=bash

EXPORTER_MODULE=github.com/prometheus-community/postgres_exporter
EXPORTER_VERSION=v0.19.1
EXPORTER_REPOSITORY=prometheuscommunity/postgres-exporter
EXPORTER_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt

exporter_key() {
  echo "$EXPORTER_VERSION-$(go env GOVERSION)-$(key_of "$IMAGES_DIR/lib.sh" "$IMAGES_DIR/postgres-exporter/recipe.sh" "$EXPORTER_CA_BUNDLE")"
}

build_postgres_exporter() {
  local dir=$1 root=$1/root info rev moddir
  [ -r "$EXPORTER_CA_BUNDLE" ] || die "$EXPORTER_CA_BUNDLE missing (apt-get install ca-certificates)"
  # `go install MODULE/cmd/...@VERSION` cannot be used: it asks the proxy for the module's
  # version list (deprecation check), which the proxy here refuses (403). Fetching the one
  # version works; the build then runs in a copy of it as the main module, whose go.sum pins
  # every dependency. The proxy records the tag's commit (Origin.Hash) for the version stamp.
  info=$(GOFLAGS=-mod=mod go mod download -json "$EXPORTER_MODULE@$EXPORTER_VERSION")
  moddir=$(printf '%s\n' "$info" | sed -n 's/.*"Dir": "\([^"]*\)".*/\1/p' | head -n1)
  rev=$(printf '%s\n' "$info" | sed -n 's/.*"Hash": "\([0-9a-f]*\)".*/\1/p' | head -n1)
  [ -d "$moddir" ] || die "go mod download $EXPORTER_MODULE@$EXPORTER_VERSION gave no source dir"
  local p=github.com/prometheus/common/version
  local ldx="-X $p.Version=${EXPORTER_VERSION#v} -X $p.Revision=${rev:-unknown} -X $p.Branch=HEAD"
  ldx+=" -X $p.BuildUser=todo-gitops@images -X $p.BuildDate=19700101-00:00:00"
  progress "go build $EXPORTER_MODULE/cmd/postgres_exporter ($EXPORTER_VERSION)"
  mkdir -p "$dir/bin" "$dir/src"
  cp -R "$moddir/." "$dir/src/" && chmod -R u+w "$dir/src"
  logged "$IMAGES_LOGS/postgres-exporter-$EXPORTER_VERSION.log" env -C "$dir/src" GOFLAGS="-mod=mod -buildvcs=false" \
    CGO_ENABLED=0 GOOS=linux GOARCH=amd64 \
    go build -trimpath -tags netgo,osusergo -ldflags "-s -w $ldx" -o "$dir/bin/postgres_exporter" ./cmd/postgres_exporter
  rm -rf "$dir/src"
  "$dir/bin/postgres_exporter" --version >&2

  install -d -m 0755 "$root/bin" "$root/etc/ssl/certs"
  install -d -m 1777 "$root/tmp"
  install -m 0755 "$dir/bin/postgres_exporter" "$root/bin/postgres_exporter"
  install -m 0644 "$EXPORTER_CA_BUNDLE" "$root/etc/ssl/certs/ca-certificates.crt"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/home:/sbin/nologin\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\n' >"$root/etc/group"
  chmod 0644 "$root/etc/passwd" "$root/etc/group"
  tar_layer "$root" "$dir/layer.tar" --owner=0 --group=0
  rm -rf "$root"

  local config
  config="{\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"]"
  config+=",\"Entrypoint\":[\"/bin/postgres_exporter\"],\"User\":\"65534\",\"ExposedPorts\":{\"9187/tcp\":{}}"
  config+=",\"Labels\":{\"org.opencontainers.image.title\":\"postgres_exporter\",\"org.opencontainers.image.version\":\"$EXPORTER_VERSION\""
  config+=",\"org.opencontainers.image.revision\":\"${rev:-unknown}\",\"org.opencontainers.image.licenses\":\"Apache-2.0\""
  config+=",\"org.opencontainers.image.description\":$(json_str "Stand-in for prometheuscommunity/postgres-exporter:$EXPORTER_VERSION: built from the Go module $EXPORTER_MODULE@$EXPORTER_VERSION with $(go env GOVERSION) on a from-scratch base, by test/tools/images")}}"
  oci_layout "$dir/oci" "$config" \
    "$dir/layer.tar=go build $EXPORTER_MODULE/cmd/postgres_exporter ($EXPORTER_VERSION); passwd/group (nobody 65534), CA roots, /tmp" >/dev/null
  rm -f "$dir/layer.tar"
  echo "$EXPORTER_VERSION" >"$dir/tag"
}

image_postgres_exporter() {
  cached_or_build postgres-exporter "$(exporter_key)" build_postgres_exporter
  # The binary is part of the cached image: its step is counted either way.
  [ "$CACHE_HIT" = 0 ] || progress "go build postgres_exporter $EXPORTER_VERSION (cached: yes)"
  progress "pushing postgres-exporter to $REGISTRY/$EXPORTER_REPOSITORY"
  push_layout "$CACHED_DIR/oci" "$REGISTRY/$EXPORTER_REPOSITORY" "$(cat "$CACHED_DIR/tag")"
}
