# kwok: fake nodes for the Argo CD and fleet suites; best-effort, go-installed, put on PATH
# test/e2e/cluster-support.ts reads the KWOK_VERSION= line below (for kwok's Stage objects).
# shellcheck shell=bash

KWOK_VERSION=v0.8.0

install_kwok() { best_effort go_install kwok "$KWOK_VERSION" kwok sigs.k8s.io/kwok/cmd/kwok; }
