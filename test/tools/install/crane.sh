# crane: the registry client of the image builds and tests; go-installed, put on PATH
# shellcheck shell=bash

CRANE_VERSION=v0.22.1

install_crane() { go_install crane "$CRANE_VERSION" crane github.com/google/go-containerregistry/cmd/crane; }
