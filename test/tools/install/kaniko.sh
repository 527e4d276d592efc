# kaniko: the kaniko executor, from its vendored source tarball, for the image build.sh kaniko makes (opt-in; not on PATH)
# chainguard-dev/kaniko (the maintained fork the gcr.io/kaniko-project/executor image is built
# from) is not reachable as a module here, so its release source is vendored in shared/ beside the
# repo; KANIKO_SOURCE_TARBALL points elsewhere. The sha256 pins it. Only the binary of the kaniko
# image test/tools/images/build.sh packs, with the two files of the source tree that image also
# needs (files/nsswitch.conf, LICENSE). Never run it on this host: it unpacks base images over the
# root filesystem it runs in. So it is not put on PATH; the image recipe reads
# <cache>/kaniko-<version>/executor. The build is the Makefile's `out/executor` (CGO off, version
# stamp), offline (~70 s).
# shellcheck shell=bash

KANIKO_VERSION=v1.25.5
KANIKO_SHA256=944500410ad375799ac7c2ff8d63a1875b0a4527d06962c318ebd781641556e2

install_kaniko() {
  build_vendored "kaniko executor $KANIKO_VERSION" "$CACHE/kaniko-$KANIKO_VERSION" executor KANIKO_SOURCE_TARBALL \
    "${KANIKO_SOURCE_TARBALL:-$HERE/../../../shared/kaniko/kaniko-$KANIKO_VERSION.tar.gz}" "$KANIKO_SHA256" \
    kaniko ./cmd/executor "-X github.com/chainguard-dev/kaniko/pkg/version.version=$KANIKO_VERSION" \
    files/nsswitch.conf LICENSE
}
