# versitygw: the S3 gateway of the backup drills, static, for the image build.sh makes (opt-in; put on PATH)
# An S3 gateway over a POSIX directory (github.com/versity/versitygw, Apache-2.0), the object store
# CloudNativePG's barman-cloud backs up to in the drills (the MinIO server module is refused by the
# proxy here); served by the module proxy as this exact version. test/tools/images/build.sh runs it
# on a from-scratch base. With the version stamps of upstream's Makefile (the build time fixed at
# the epoch; main.Build, the commit, is not in the module zip and stays "norev"). The main package
# is cmd/versitygw. ~2 min on 2 cores.
# shellcheck shell=bash

VERSITYGW_VERSION=v1.8.0

install_versitygw() {
  CGO_ENABLED=0 LDX="-X main.Version=$VERSITYGW_VERSION -X main.BuildTime=1970-01-01T00:00:00Z" \
    go_install versitygw "$VERSITYGW_VERSION" versitygw github.com/versity/versitygw/cmd/versitygw
}
