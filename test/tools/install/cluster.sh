# cluster: the Kubernetes of the cluster program test/tools/cluster/, and its nodes' packages (opt-in)
# The control plane, kubelet and kube-proxy of the kube version (test/tools/kube/tools.go) into
# kubernetes-<version>/, with the same version stamps; the cluster program takes them from that directory whatever else is on
# PATH. k8s-pause is the sandbox ("pause") image's binary (test/tools/pause, standard library
# only); its stamp holds the hash of its source, so an edit rebuilds it. The nodes' container
# runtime, CNI plugins and firewall tools come from Debian (bookworm: containerd 1.6.20, runc 1.1.5,
# containernetworking-plugins 1.1.1 in /usr/lib/cni; ipset for kube-router), apt-installed only
# when missing.
# shellcheck shell=bash

PAUSE_MOD=$HERE/pause
CLUSTER_BINS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy)

install_cluster() {
  local missing=()
  command -v containerd >/dev/null || missing+=(containerd)
  command -v runc >/dev/null || missing+=(runc)
  [ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
  command -v iptables >/dev/null || missing+=(iptables)
  command -v conntrack >/dev/null || missing+=(conntrack)
  command -v ipset >/dev/null || missing+=(ipset)
  debian_packages apt-node.log "containerd runc containernetworking-plugins iptables conntrack ipset" "${missing[@]}"
  build_k8s "${CLUSTER_BINS[@]}"
  build_in_module "$PAUSE_MOD" "$CACHE/kubernetes-$KUBE_VERSION" k8s-pause=.
}
