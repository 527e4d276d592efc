//go:build tools

// Package tools pins the commands test/tools/install.sh builds in this module: Kubernetes (kube and
// cluster: kubectl, the control plane, kubelet and kube-proxy, for the local cluster of
// test/tools/cluster), helm, kwok and metrics-server (CoreDNS is the main package in coredns/,
// with the plugins the cluster uses): go build k8s.io/kubernetes/cmd/... and so on.
package tools

import (
	_ "github.com/argoproj/argo-cd/v3/cmd"
	_ "helm.sh/helm/v3/cmd/helm"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
	_ "sigs.k8s.io/kwok/cmd/kwok"
	_ "sigs.k8s.io/metrics-server/cmd/metrics-server"
)
