// Wrapper module of the smoke test's client (test/tools/cluster-smoke.sh); standard library only.
module todo-gitops/test/tools/probe

go 1.22
