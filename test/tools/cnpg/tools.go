//go:build tools

// Package tools pins the commands test/tools/install.sh builds in this module: CloudNativePG's
// manager (the operator, and the instance manager it copies into every Postgres pod) and the Barman
// Cloud plugin's manager (its operator side and the sidecar in every Postgres pod).
package tools

import (
	_ "github.com/cloudnative-pg/cloudnative-pg/cmd/manager"
	_ "github.com/cloudnative-pg/plugin-barman-cloud/cmd/manager"
)
