# lifecycle: the Cloud Native Buildpacks lifecycle and launcher, for buildpacks/build-builder.sh (opt-in; not on PATH)
# github.com/buildpacks/lifecycle, served by the module proxy. Static binaries (CGO off, the version
# stamps of the lifecycle's Makefile) for the builder image buildpacks/build-builder.sh assembles;
# never run on the host, so not put on PATH. One binary serves every phase (detector, analyzer,
# restorer, builder, exporter, creator) by its argv[0]; the launcher is the exported image's
# entrypoint. ~2 min on 2 cores.
# shellcheck shell=bash

LIFECYCLE_VERSION=v0.20.8

install_lifecycle() {
  CGO_ENABLED=0 LDX="-X github.com/buildpacks/lifecycle/cmd.Version=${LIFECYCLE_VERSION#v} -X github.com/buildpacks/lifecycle/cmd.SCMRepository=github.com/buildpacks/lifecycle" \
    go_build_exact lifecycle "$LIFECYCLE_VERSION" github.com/buildpacks/lifecycle lifecycle=cmd/lifecycle launcher=cmd/launcher || exit 1
}
