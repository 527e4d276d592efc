//go:build tools

// Package tools pins the Kubernetes control-plane commands built by
// test/tools/install.sh kube-latest (go build k8s.io/kubernetes/cmd/...).
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
)
