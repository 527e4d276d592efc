// Command coredns is CoreDNS with only the plugins the test cluster's Corefile uses
// (test/tools/cluster/addons.ts): the cluster DNS of a throw-away cluster.
//
// Built by test/tools/install.sh (tool `coredns`) as a static binary, which the cluster program packs
// into a one-layer image and pushes to the cluster's local registry. Upstream's main package
// (github.com/coredns/coredns, coredns.go) imports core/plugin, i.e. every plugin including the
// route53/azure/clouddns ones and their cloud SDKs; importing the few plugins needed instead
// keeps the build small. coremain and the plugin registry are the same as upstream's; the
// order plugins run in comes from core/dnsserver's generated directive list, not from here.
package main

import (
	"github.com/coredns/coredns/coremain"

	// The plugins of the Corefile in test/tools/cluster/addons.ts.
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
)

func main() {
	coremain.Run()
}
