// Wrapper module of the sandbox ("pause") image of test/tools/cluster.sh; standard library only.
module todo-gitops/test/tools/pause

go 1.22
