//go:build tools

// Package tools pins the NetworkPolicy implementation built by
// test/tools/install.sh netpol (go build github.com/cloudnativelabs/kube-router/cmd/kube-router).
package tools

import (
	_ "github.com/cloudnativelabs/kube-router/cmd/kube-router"
)
