# kube-linter: a manifest linter; best-effort (never builds here: kube-score lints instead, test/e2e/cluster.ts)
# Neither golang.stackrox.io/kube-linter nor github.com/stackrox/kube-linter is served by the Go
# module proxy reachable here (403 on the version list and on every version tried), so this step
# is skipped with a warning (TOOLS_STRICT=1 makes that fatal).
# shellcheck shell=bash

KUBE_LINTER_VERSION=v0.7.6

install_kube_linter() {
  best_effort go_install kube-linter "$KUBE_LINTER_VERSION" kube-linter \
    golang.stackrox.io/kube-linter/cmd/kube-linter github.com/stackrox/kube-linter/cmd/kube-linter
}
