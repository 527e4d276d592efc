# tanka: Grafana Tanka's `tk`, from its vendored source tarball, for test/e2e/tanka.ts (opt-in; put on PATH)
# The module proxy refuses github.com/grafana/tanka (403), so its release source with vendor/ is
# in shared/ beside the repo like kaniko's; TANKA_SOURCE_TARBALL points elsewhere. The build its
# README gives (CGO off, version stamp), offline (~40 s on an idle machine). `tk diff`, `apply` and
# `prune` run kubectl from PATH (the `kube` tool's).
# shellcheck shell=bash

TANKA_VERSION=v0.38.0
TANKA_SHA256=e8213ebace8af23514866d04cfbe6cf249f0344048446ebc0613e3117364a411

install_tanka() {
  build_vendored "tk $TANKA_VERSION" "$CACHE/tanka-$TANKA_VERSION" tk TANKA_SOURCE_TARBALL \
    "${TANKA_SOURCE_TARBALL:-$HERE/../../../shared/tanka/tanka-$TANKA_VERSION.tar.gz}" "$TANKA_SHA256" \
    "tanka-$TANKA_VERSION" ./cmd/tk "-X github.com/grafana/tanka/pkg/tanka.CurrentVersion=$TANKA_VERSION" \
    LICENSE
  add_path "$CACHE/tanka-$TANKA_VERSION"
}
