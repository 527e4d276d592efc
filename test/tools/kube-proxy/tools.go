//go:build tools

// Package tools pins kube-proxy, built by test/tools/install.sh (node tool):
// go build k8s.io/kubernetes/cmd/kube-proxy
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-proxy"
)
