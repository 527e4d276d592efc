//go:build tools

// Package tools pins the Kubernetes commands built by test/tools/install.sh kube (kubectl and the
// control plane) and cluster (the control plane, kubelet and kube-proxy, for the local cluster of
// test/tools/cluster): go build k8s.io/kubernetes/cmd/...
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
