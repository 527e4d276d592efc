// Wrapper module of the real-cluster suites' client (test/e2e/probe-support.ts); standard library only.
module todo-gitops/test/tools/probe

go 1.22
