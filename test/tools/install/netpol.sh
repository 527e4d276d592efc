# netpol: kube-router, for its NetworkPolicy firewall only (test/tools/netpol/go.mod; opt-in)
# kube-router runs as a host process with only the firewall (see test/tools/netpol/go.mod):
#   kube-router --run-firewall=true --run-router=false --run-service-proxy=false \
#     --kubeconfig=KUBECONFIG --hostname-override=NODE --service-cluster-ip-range=CIDR
# It needs the iptables, iptables-save/-restore and ipset commands (Debian: iptables, ipset),
# apt-installed when missing.
# shellcheck shell=bash

NETPOL_MOD=$HERE/netpol
NETPOL_VERSION=$(require_version "$NETPOL_MOD/go.mod" github.com/cloudnativelabs/kube-router)

install_netpol() {
  local dir=$CACHE/netpol-$NETPOL_VERSION missing=() v=github.com/cloudnativelabs/kube-router/pkg/version
  if [ -x "$dir/kube-router" ] && [ -e "$dir/.kube-router.ok" ]; then
    progress "building kube-router $NETPOL_VERSION (cached: yes)"
  else
    progress "building kube-router $NETPOL_VERSION (cached: no)… (2-5 min on 2 cores)"
    mkdir -p "$dir"
    # go.sum pins every module; GONOSUMDB covers re-resolving (the sumdb mirror here answers
    # 404 for github.com/osrg/gobgp/v3).
    logged "$LOGS/kube-router-$NETPOL_VERSION.log" env -C "$NETPOL_MOD" GOFLAGS="-mod=mod -buildvcs=false" \
      GONOSUMDB="${GONOSUMDB:+$GONOSUMDB,}github.com/osrg/gobgp" \
      go build "${GO_BUILD_FLAGS[@]}" -ldflags "-s -w -X $v.Version=$NETPOL_VERSION -X $v.BuildDate=1970-01-01T00:00:00Z" \
      -o "$dir/.kube-router.tmp.$$" github.com/cloudnativelabs/kube-router/cmd/kube-router
    mv -f "$dir/.kube-router.tmp.$$" "$dir/kube-router"
    touch "$dir/.kube-router.ok"
  fi
  command -v ipset >/dev/null || missing+=(ipset)
  command -v iptables-save >/dev/null || missing+=(iptables)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "[tools]   apt-get install ${missing[*]}" >&2
    apt_install apt-netpol.log "${missing[@]}"
  fi
  add_path "$dir"
}
