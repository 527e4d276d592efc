// Wrapper module of the sandbox ("pause") image of the cluster program (test/tools/cluster/); standard library only.
module todo-gitops/test/tools/pause

go 1.22
