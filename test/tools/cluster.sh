#!/usr/bin/env bash
# test/tools/cluster.sh — a throw-away single-node Kubernetes cluster whose pods really run.
#
# Usage (as root):
#   eval "$(test/tools/install.sh kube node coredns crane ko debs)"
#   eval "$(test/tools/cluster.sh up DIR)"     # prints: export KUBECONFIG=DIR/kubeconfig
#                                              #         export CLUSTER_REGISTRY=<ip>:5000
#                                              #         export CLUSTER_HOST_IP=<ip> (the host, from pods)
#   kubectl get nodes
#   test/tools/cluster.sh pv DIR NAME SIZE [NAMESPACE/CLAIM]   # a local PersistentVolume
#   test/tools/cluster.sh down DIR             # stops everything, removes every trace and DIR
#   test/tools/cluster.sh env DIR              # re-prints the export lines
#   test/tools/cluster.sh exec DIR CMD...      # CMD in the node's namespaces and cgroup, e.g.
#                                              # iptables-save, or a daemon `down` must also stop
#
# up: starts, all inside a network namespace "kc-<id>" (id derived from DIR) and a private mount
#   namespace, in a cgroup "/kc-<id>" of every cgroup hierarchy:
#     etcd, kube-apiserver (PodSecurity admission), kube-controller-manager, kube-scheduler,
#     a local OCI registry (crane registry serve; storage DIR/registry),
#     containerd (root/state/socket/config under DIR/containerd, CRI, overlayfs,
#       restrict_oom_score_adj, cgroupfs; images of the local registry pulled over plain HTTP),
#     kubelet (cgroupfs, --cgroup-root /kc-<id>/pods, root dir DIR/kubelet),
#     kube-proxy (iptables mode), bridge CNI "cni0" with host-local IPAM 10.244.0.0/24,
#     CoreDNS (Deployment + Service kube-dns 10.96.0.10 in kube-system, image built here),
#     a default StorageClass "local" (no provisioner; PVs come from `pv`).
#   The namespace is joined to the host by a veth pair with a private /30 out of 10.254.0.0/16:
#   the host end is <net>.1, the node <net>.2 ("node IP"). The API server (https://<node>:6443)
#   and the registry (<node>:5000) are reached on the node IP, from the host and from pods.
#   Pod CIDR 10.244.0.0/24, service CIDR 10.96.0.0/16 exist only inside the namespace, which has
#   no default route: nothing is routed off this machine, and every iptables rule, bridge, route
#   and pod network namespace lives in (and dies with) the cluster's namespaces. Pods reach the
#   host at <net>.1 (masqueraded as the node IP); the host has no route to pod or service IPs.
#   Images: the sandbox image (DIR's registry kube-system/pause) and CoreDNS are packed from
#   binaries install.sh built (`k8s-pause`, `coredns` on PATH) into one-layer images.
#   stdout: only the export lines; progress "[cluster i/N] ..." and errors on stderr.
#   Logs: DIR/logs/<component>.log. On failure or SIGINT/SIGTERM everything is torn down as by
#   `down` (the last log lines are shown first; CLUSTER_KEEP_LOGS=PATH copies DIR/logs there).
# pv: creates DIR/pv/NAME (a local PersistentVolume "NAME", class "local", SIZE e.g. 1Gi,
#   node affinity to the node, Retain), pre-bound to NAMESPACE/CLAIM when given, else bound by
#   class and size. The kubelet applies a pod's fsGroup to local volumes, so a non-root pod
#   (e.g. uid 70 with fsGroup 70) can write there.
# down: SIGTERM to the daemons, then the cgroup tree is frozen and every process left in it
#   (containerd shims, containers) SIGKILLed; the cgroups are removed depth-first, the network
#   namespace deleted (with it the veth pair), the host sysctls the kubelet changed restored,
#   and DIR removed. Safe to run twice, and on a half-started cluster.
#
# Host side effects that remain while the cluster runs: the netns "kc-<id>" (/run/netns), the
# host end of the veth pair with its /30 route, cgroups "/kc-<id>", and global sysctls the
# kubelet sets at start (vm.overcommit_memory=1, vm.panic_on_oom=0, kernel.panic=10,
# kernel.panic_on_oops=1, kernel.keys.root_max*): the first `up` saves their values in
# /run/todo-gitops-cluster.sysctls, the `down` that leaves no cluster of this script restores them. Empty mount points /run/containerd, /var/lib/cni,
# /var/log/pods and /var/log/containers are created if missing (they are bind-mounted over from
# DIR inside the private mount namespace, so shim sockets, CNI cache and pod logs stay in DIR).
#
# Environment:
#   CLUSTER_TIMEOUT     seconds to wait for each component (default 180)
#   CLUSTER_KEEP_LOGS   directory to copy DIR/logs to when up fails
set -euo pipefail

TIMEOUT=${CLUSTER_TIMEOUT:-180}
MARKER=.cluster
STEPS=11
POD_CIDR=10.244.0.0/24
SERVICE_CIDR=10.96.0.0/16
API_SERVICE_IP=10.96.0.1
DNS_SERVICE_IP=10.96.0.10
CLUSTER_DOMAIN=cluster.local
CNI_BIN_DIR=/usr/lib/cni  # Debian's containernetworking-plugins
API_PORT=6443 REGISTRY_PORT=5000 ETCD_PORT=2379 ETCD_PEER_PORT=2380
# Mount points on the host the node's private mount namespace binds DIR's directories over.
HOST_MOUNTPOINTS=(/run/containerd /var/lib/cni /var/log/pods /var/log/containers)
# The global sysctls the kubelet sets at start (pkg/kubelet/cm setupKernelTunables).
KUBELET_SYSCTLS=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
  kernel.keys.root_maxkeys kernel.keys.root_maxbytes)
SYSCTL_SAVE=/run/todo-gitops-cluster.sysctls

step=0
progress() { step=$((step + 1)); echo "[cluster $step/$STEPS] $*" >&2; }
log() { echo "[cluster] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---- naming ----------------------------------------------------------------------------------
# Every host-visible name derives from DIR's absolute path, so two clusters never collide and
# `down` finds a cluster from DIR alone (even when its state file is gone).
names() { # names DIR : sets ID NETNS VETH_H VETH_N CG NODE
  local dir=$1
  ID=$(printf '%s' "$dir" | sha256sum | cut -c1-8)
  NETNS=kc-$ID
  VETH_H=kc${ID}h   # 11 characters; interface names are limited to 15
  VETH_N=kc${ID}n
  CG=kc-$ID
  NODE=kc-$ID
}

# The cgroup hierarchies mounted under /sys/fs/cgroup (v1 controllers, name=systemd, unified).
cgroup_roots() {
  awk '$3 == "cgroup" || $3 == "cgroup2" {print $2}' /proc/self/mounts | sort -u
}

# ---- certificates and kubeconfigs ------------------------------------------------------------
b64() { base64 -w0 <"$1"; }

gen_certs() { # gen_certs PKIDIR NODE_IP NODE
  local d=$1 ip=$2 node=$3
  (
    cd "$d"
    umask 077
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -keyout ca.key -out ca.crt \
      -subj "/CN=cluster-ca" -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
    cert() { # cert NAME SUBJECT EKU [SAN]
      openssl req -new -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
      printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=%s\n%s\n' \
        "$3" "${4:+subjectAltName=$4}" >"$1.ext"
      openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 -days 2 \
        -extfile "$1.ext" -out "$1.crt" 2>/dev/null
      rm -f "$1.csr" "$1.ext"
    }
    # Pods reach the API server through the `kubernetes` Service (10.96.0.1 -> <node>:6443).
    cert apiserver "/CN=kube-apiserver" serverAuth \
      "IP:$ip,IP:127.0.0.1,IP:$API_SERVICE_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.$CLUSTER_DOMAIN"
    cert admin "/O=system:masters/CN=admin" clientAuth
    # kubectl logs/exec: the API server authenticates to the kubelet with this (kubeadm's name).
    cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
    cert front-proxy-client "/CN=front-proxy-client" clientAuth
    cert kube-controller-manager "/CN=system:kube-controller-manager" clientAuth
    cert kube-scheduler "/CN=system:kube-scheduler" clientAuth
    cert kube-proxy "/CN=system:kube-proxy" clientAuth   # bound to system:node-proxier by default
    cert kubelet-client "/O=system:nodes/CN=system:node:$node" clientAuth   # Node authorizer
    cert kubelet-serving "/CN=$node" serverAuth "IP:$ip,DNS:$node"
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
  )
}

write_kubeconfig() { # write_kubeconfig FILE SERVER PKIDIR CERTNAME
  local pki=$3
  (
    umask 077
    cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: $2
    certificate-authority-data: $(b64 "$pki/ca.crt")
users:
- name: $4
  user:
    client-certificate-data: $(b64 "$pki/$4.crt")
    client-key-data: $(b64 "$pki/$4.key")
contexts:
- name: local
  context:
    cluster: local
    user: $4
    namespace: default
current-context: local
EOF
  )
}

# ---- processes -------------------------------------------------------------------------------
running() { # running PID : true while PID exists and is not a zombie
  kill -0 "$1" 2>/dev/null || return 1
  local st
  st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || true)
  [ -n "$st" ] && [ "$st" != Z ]
}

# spawn NAME CMD... : runs CMD detached in the node's cgroup, network and mount namespaces;
# output to DIR/logs/NAME.log, pid to DIR/run/NAME.pid (bash execs nsenter, which execs CMD).
spawn() {
  local name=$1; shift
  # shellcheck disable=SC2016 # expanded by the inner bash
  nohup bash -c 'for f in $CG_PROCS; do echo $$ >"$f"; done; exec nsenter --net="$NS_PATH" --mount="/proc/$HOLDER/ns/mnt" -- "$@"' \
    spawn "$@" </dev/null >"$DIR/logs/$name.log" 2>&1 &
  echo $! >"$DIR/run/$name.pid"
  disown $!   # no "Killed" job report when `up` fails and tears down in this shell
}

# node_exec CMD... : run CMD in the node's namespaces (not detached, not in the cgroup).
node_exec() { nsenter --net="$NS_PATH" --mount="/proc/$HOLDER/ns/mnt" -- "$@"; }

wait_for() { # wait_for NAME DESCRIPTION CMD... : poll CMD until it succeeds while NAME runs
  local name=$1 what=$2; shift 2
  local deadline=$((SECONDS + TIMEOUT)) pid
  pid=$(cat "$DIR/run/$name.pid")
  until "$@" >/dev/null 2>&1; do
    if ! running "$pid"; then
      log "$name exited while waiting for $what; last lines of $DIR/logs/$name.log:"
      tail -n 30 "$DIR/logs/$name.log" | sed 's/^/[cluster]   /' >&2; return 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      log "timed out after ${TIMEOUT}s waiting for $what; last lines of $DIR/logs/$name.log:"
      tail -n 30 "$DIR/logs/$name.log" | sed 's/^/[cluster]   /' >&2; return 1
    fi
    sleep 0.5
  done
}

kc() { KUBECONFIG=$DIR/kubeconfig kubectl "$@"; }

# ---- up --------------------------------------------------------------------------------------
pick_subnet() { # sets HOST_IP NODE_IP: a /30 of 10.254.0.0/16 no address or route uses yet
  local n i base a b
  n=$((16#${ID:0:4} % 16384))
  for i in $(seq 0 63); do
    base=$((((n + i) % 16384) * 4))
    a=$((base / 256)); b=$((base % 256))
    if ip -4 -o addr show | grep -q " 10\.254\.$a\.$((b + 1))/\| 10\.254\.$a\.$((b + 2))/"; then continue; fi
    if ip -4 route show to match "10.254.$a.$((b + 1))" | grep -qv '^default'; then continue; fi
    HOST_IP=10.254.$a.$((b + 1)); NODE_IP=10.254.$a.$((b + 2)); return 0
  done
  die "no free /30 in 10.254.0.0/16"
}

make_cgroups() { # /kc-<id> in every hierarchy; the daemons in /kc-<id>/node, pods in /kc-<id>/pods
  local root sub
  CG_PROCS=""
  for root in $(cgroup_roots); do
    for sub in "$CG" "$CG/node" "$CG/pods"; do
      mkdir -p "$root/$sub"
      # A new cpuset cgroup starts with no CPUs and memory nodes: copy the parent's.
      if [ -e "$root/$sub/cpuset.cpus" ]; then
        cat "$(dirname "$root/$sub")/cpuset.cpus" >"$root/$sub/cpuset.cpus"
        cat "$(dirname "$root/$sub")/cpuset.mems" >"$root/$sub/cpuset.mems"
      fi
    done
    CG_PROCS+="$root/$CG/node/cgroup.procs "
  done
  export CG_PROCS
}

start_namespaces() {
  ip netns add "$NETNS"
  NS_PATH=/run/netns/$NETNS
  export NS_PATH
  ip link add "$VETH_H" type veth peer name "$VETH_N" netns "$NETNS"
  ip addr add "$HOST_IP/30" dev "$VETH_H"
  ip link set "$VETH_H" up
  ip -n "$NETNS" addr add "$NODE_IP/30" dev "$VETH_N"
  ip -n "$NETNS" link set "$VETH_N" up
  ip -n "$NETNS" link set lo up
  # Pod traffic is routed by the node (pod -> cni0 -> Service DNAT -> pod or the node IP).
  # br_netfilter's bridge-nf-call-iptables is per network namespace (default 1 in a new one):
  # it makes traffic bridged between pods on cni0 pass iptables, so a pod reaching a Service
  # whose endpoint is on the same bridge gets its reply un-DNATed.
  nsenter --net="$NS_PATH" sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1 \
    net.ipv4.conf.all.route_localnet=1
  # Pods may reach the host end (e.g. a server a test runs on $HOST_IP): as the node IP, so the
  # host answers through the veth instead of routing pod addresses to its default gateway.
  nsenter --net="$NS_PATH" iptables -t nat -A POSTROUTING -s "$POD_CIDR" -o "$VETH_N" -j MASQUERADE

  local m
  for m in "${HOST_MOUNTPOINTS[@]}"; do [ -d "$m" ] || mkdir -p "$m"; done
  mkdir -p "$DIR/node/run-containerd" "$DIR/node/cni-lib" "$DIR/node/log-pods" "$DIR/node/log-containers"
  # The holder: PID of a private mount namespace (inside the netns) every daemon joins. Mounts
  # made there (overlay rootfs, secrets tmpfs, netns bind mounts of pods) never appear on the
  # host and vanish when its last process exits. / is made rshared inside it (a new peer group,
  # not the host's) for the kubelet's mount propagation.
  # shellcheck disable=SC2016 # expanded by the inner bash
  nohup bash -c 'for f in $CG_PROCS; do echo $$ >"$f"; done; exec nsenter --net="$NS_PATH" -- unshare --mount --propagation private -- bash -c "$1"' holder "
    set -e
    mount --bind '$DIR/node/run-containerd' /run/containerd
    mount --bind '$DIR/node/cni-lib' /var/lib/cni
    mount --bind '$DIR/node/log-pods' /var/log/pods
    mount --bind '$DIR/node/log-containers' /var/log/containers
    mount --make-rshared /
    touch '$DIR/run/holder.ready'
    exec sleep infinity" </dev/null >"$DIR/logs/holder.log" 2>&1 &
  HOLDER=$!
  disown "$HOLDER"
  echo "$HOLDER" >"$DIR/run/holder.pid"
  export HOLDER
  local i
  for i in $(seq 1 100); do
    [ -e "$DIR/run/holder.ready" ] && return 0
    running "$HOLDER" || break
    sleep 0.1
  done
  cat "$DIR/logs/holder.log" >&2
  die "the mount namespace holder did not start"
}

write_configs() {
  local pki=$DIR/pki
  write_kubeconfig "$DIR/kubeconfig" "https://$NODE_IP:$API_PORT" "$pki" admin
  for c in kube-controller-manager kube-scheduler kube-proxy kubelet-client; do
    write_kubeconfig "$DIR/conf/$c.kubeconfig" "https://$NODE_IP:$API_PORT" "$pki" "$c"
  done

  # Plain-HTTP pulls from the cluster's registry (containerd's hosts.toml registry config).
  mkdir -p "$DIR/containerd/certs.d/$NODE_IP:$REGISTRY_PORT"
  cat >"$DIR/containerd/certs.d/$NODE_IP:$REGISTRY_PORT/hosts.toml" <<EOF
server = "http://$NODE_IP:$REGISTRY_PORT"

[host."http://$NODE_IP:$REGISTRY_PORT"]
  capabilities = ["pull", "resolve"]
EOF
  cat >"$DIR/conf/containerd.toml" <<EOF
# containerd 1.6 (Debian bookworm), private to this cluster.
version = 2
root = "$DIR/containerd/root"
state = "$DIR/containerd/state"
# Not lower than ours: without CAP_SYS_RESOURCE a negative oom_score_adj is refused.
oom_score = 0
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]

[grpc]
  address = "$DIR/containerd/containerd.sock"

[plugins."io.containerd.internal.v1.opt"]
  path = "$DIR/containerd/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # runc would write the kubelet's negative oom_score_adj (pause -998, Guaranteed pods -997),
  # which root without CAP_SYS_RESOURCE may not ("can't get final child's PID from pipe: EOF"):
  # clamp every container's to containerd's own.
  restrict_oom_score_adj = true
  # Pod network namespaces under DIR (inside the private mount namespace), not /run/netns.
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "$(command -v runc)"
        Root = "$DIR/containerd/runc"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$CNI_BIN_DIR"
    conf_dir = "$DIR/cni/net.d"
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$DIR/containerd/certs.d"
EOF

  # Bridge CNI. No ipMasq: pod traffic never leaves the node's namespace (no default route there).
  # hairpinMode lets a pod reach itself through its Service's ClusterIP.
  mkdir -p "$DIR/cni/net.d" "$DIR/cni/ipam"
  cat >"$DIR/cni/net.d/10-cluster.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "cluster",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{ "subnet": "$POD_CIDR" }]],
        "routes": [{ "dst": "0.0.0.0/0" }],
        "dataDir": "$DIR/cni/ipam"
      }
    }
  ]
}
EOF

  cat >"$DIR/conf/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
# Everything the kubelet creates (kubepods, QoS and pod cgroups) is under /$CG/pods.
cgroupRoot: /$CG/pods
cgroupsPerQOS: true
failSwapOn: false
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
tlsCertFile: $DIR/pki/kubelet-serving.crt
tlsPrivateKeyFile: $DIR/pki/kubelet-serving.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $DIR/pki/ca.crt}
authorization:
  mode: Webhook
clusterDNS: [$DNS_SERVICE_IP]
clusterDomain: $CLUSTER_DOMAIN
# No host resolv.conf: pods get only the cluster DNS (nothing is resolved off this machine).
resolvConf: ""
# Not lower than the kubelet's current one (0): root here lacks CAP_SYS_RESOURCE.
oomScoreAdj: 0
# A test machine's disk may be fuller than the defaults (10%/15%) allow.
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
containerLogMaxSize: 10Mi
containerLogMaxFiles: 2
EOF

  cat >"$DIR/conf/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection:
  kubeconfig: $DIR/conf/kube-proxy.kubeconfig
hostnameOverride: $NODE
bindAddress: $NODE_IP
clusterCIDR: $POD_CIDR
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
# Not lower than its current one (default -999 is refused without CAP_SYS_RESOURCE).
oomScoreAdj: 0
# 0 = leave the conntrack sysctls alone (nf_conntrack_max is global, not per namespace).
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
iptables:
  syncPeriod: 30s
  minSyncPeriod: 0s
EOF
}

push_image() { # push_image BINARY ENTRY REF : a one-layer image with BINARY at /ENTRY
  local bin=$1 entry=$2 ref=$3 root
  root=$(mktemp -d "$DIR/tmp/image.XXXXXX")
  mkdir -p "$root/tmp" "$root/etc"
  chmod 1777 "$root/tmp"
  printf 'root:x:0:0:root:/:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/:/sbin/nologin\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' >"$root/etc/group"
  cp "$bin" "$root/$entry"
  chmod 0755 "$root/$entry"
  tar --owner=0 --group=0 --numeric-owner --sort=name --mtime=@0 -C "$root" -cf "$root.tar" .
  crane append -f "$root.tar" -t "$ref.layer" >/dev/null 2>>"$DIR/logs/images.log"
  # crane append leaves os/architecture empty; containerd picks images by platform.
  crane mutate "$ref.layer" --set-platform linux/amd64 --entrypoint "/$entry" --user 65532 -t "$ref" \
    >/dev/null 2>>"$DIR/logs/images.log"
  rm -rf "$root" "$root.tar"
}

addons_yaml() {
  cat <<EOF
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: local
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: WaitForFirstConsumer
reclaimPolicy: Retain
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: coredns, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "system:coredns"}
rules:
- apiGroups: [""]
  resources: [endpoints, services, pods, namespaces]
  verbs: [list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "system:coredns"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:coredns"}
subjects:
- {kind: ServiceAccount, name: coredns, namespace: kube-system}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: coredns, namespace: kube-system}
data:
  # No forward plugin: names outside the cluster are not resolved (nothing leaves the machine).
  # Port 53, as in real clusters: NetworkPolicies admit DNS by the pod's port (after the
  # Service's DNAT), so a CoreDNS on another port would be blocked by every policy that
  # allows DNS. Non-root binds it through the safe sysctl net.ipv4.ip_unprivileged_port_start.
  Corefile: |
    .:53 {
        errors
        health {
            lameduck 5s
        }
        ready
        kubernetes $CLUSTER_DOMAIN in-addr.arpa ip6.arpa {
            pods insecure
            fallthrough in-addr.arpa ip6.arpa
            ttl 30
        }
        cache 30
        loadbalance
        reload
    }
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: coredns
  namespace: kube-system
  labels: {k8s-app: kube-dns}
spec:
  replicas: 1
  selector:
    matchLabels: {k8s-app: kube-dns}
  template:
    metadata:
      labels: {k8s-app: kube-dns}
    spec:
      serviceAccountName: coredns
      priorityClassName: system-cluster-critical
      dnsPolicy: Default
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        runAsGroup: 65532
        seccompProfile: {type: RuntimeDefault}
        sysctls:
        - {name: net.ipv4.ip_unprivileged_port_start, value: "53"}
      containers:
      - name: coredns
        image: $COREDNS_IMAGE
        args: [-conf, /etc/coredns/Corefile]
        ports:
        - {name: dns, containerPort: 53, protocol: UDP}
        - {name: dns-tcp, containerPort: 53, protocol: TCP}
        resources:
          requests: {cpu: 50m, memory: 32Mi}
          limits: {memory: 128Mi}
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities: {drop: [ALL]}
        livenessProbe:
          httpGet: {path: /health, port: 8080}
          periodSeconds: 10
          failureThreshold: 5
        readinessProbe:
          httpGet: {path: /ready, port: 8181}
          periodSeconds: 2
        volumeMounts:
        - {name: config, mountPath: /etc/coredns, readOnly: true}
      volumes:
      - name: config
        configMap: {name: coredns}
---
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
  labels: {k8s-app: kube-dns, kubernetes.io/name: CoreDNS}
spec:
  clusterIP: $DNS_SERVICE_IP
  selector: {k8s-app: kube-dns}
  ports:
  - {name: dns, port: 53, targetPort: 53, protocol: UDP}
  - {name: dns-tcp, port: 53, targetPort: 53, protocol: TCP}
EOF
}

apply_addons() { addons_yaml | kc apply -f - >"$DIR/logs/addons.log" 2>&1; }

# The host's values before the first of this script's clusters came up: kept outside DIR, as
# several clusters may be up at once; the last `down` restores them and removes the file.
save_sysctls() {
  local s
  [ ! -e "$SYSCTL_SAVE" ] || return 0
  for s in "${KUBELET_SYSCTLS[@]}"; do
    printf '%s=%s\n' "$s" "$(sysctl -n "$s" 2>/dev/null || echo)"
  done >"$SYSCTL_SAVE.$$"
  mv -n "$SYSCTL_SAVE.$$" "$SYSCTL_SAVE"
  rm -f "$SYSCTL_SAVE.$$"
}

up() {
  DIR=$1
  [ "$(id -u)" = 0 ] || die "must run as root (network namespace, cgroups, containerd)"
  local bin
  for bin in openssl curl ip nsenter unshare iptables conntrack sysctl etcd kube-apiserver \
      kube-controller-manager kube-scheduler kubectl kubelet kube-proxy containerd \
      containerd-shim-runc-v2 runc crane coredns k8s-pause; do
    command -v "$bin" >/dev/null || die "$bin not on PATH (eval \"\$(test/tools/install.sh kube node coredns crane debs)\")"
  done
  for bin in bridge host-local loopback; do
    [ -x "$CNI_BIN_DIR/$bin" ] || die "CNI plugin $CNI_BIN_DIR/$bin missing (eval \"\$(test/tools/install.sh node)\")"
  done
  DIR=$(realpath -m "$DIR")
  # DIR goes unquoted into generated configs and the holder's script.
  case "$DIR" in *[[:space:]\'\"\$\\]*) die "DIR may not contain whitespace, quotes, \$ or \\: $DIR" ;; esac
  case "$DIR/" in /run/containerd/*|/var/lib/cni/*|/var/log/pods/*|/var/log/containers/*) die "DIR may not be under ${DIR%/*}" ;; esac
  [ ! -e "$DIR" ] || [ -z "$(ls -A "$DIR")" ] || die "$DIR is not empty (already up? use: $0 down $DIR)"
  names "$DIR"
  [ ! -e "/run/netns/$NETNS" ] || die "network namespace $NETNS exists (a cluster in $DIR is up?)"
  mkdir -p "$DIR"
  touch "$DIR/$MARKER"
  mkdir -p "$DIR/logs" "$DIR/run" "$DIR/conf" "$DIR/pki" "$DIR/tmp" "$DIR/etcd" "$DIR/registry" "$DIR/pv"
  trap 'up_failed' EXIT
  trap 'log "interrupted"; exit 130' INT TERM

  pick_subnet
  printf 'ID=%s\nNETNS=%s\nVETH_H=%s\nHOST_IP=%s\nNODE_IP=%s\nCG=%s\nNODE=%s\n' \
    "$ID" "$NETNS" "$VETH_H" "$HOST_IP" "$NODE_IP" "$CG" "$NODE" >"$DIR/run/state"
  local started=$SECONDS

  progress "network namespace $NETNS ($NODE_IP, host end $HOST_IP), mount namespace, cgroups /$CG"
  save_sysctls
  make_cgroups
  start_namespaces

  progress "certificates and configuration"
  gen_certs "$DIR/pki" "$NODE_IP" "$NODE"
  REGISTRY=$NODE_IP:$REGISTRY_PORT
  PAUSE_IMAGE=$REGISTRY/kube-system/pause:3.9
  # Tagged with the version the binary reports ("CoreDNS-1.15.0").
  COREDNS_IMAGE=$REGISTRY/kube-system/coredns:v$(coredns -version | sed -n 's/^CoreDNS-//p')
  write_configs
  local pki=$DIR/pki

  progress "etcd on 127.0.0.1:$ETCD_PORT"
  spawn etcd etcd --name node --data-dir "$DIR/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "node=http://127.0.0.1:$ETCD_PEER_PORT" --initial-cluster-state new \
    --quota-backend-bytes 1073741824 --unsafe-no-fsync
  wait_for etcd "etcd health" node_exec curl -fsS "http://127.0.0.1:$ETCD_PORT/health"

  progress "kube-apiserver on https://$NODE_IP:$API_PORT; registry on $REGISTRY"
  spawn kube-apiserver kube-apiserver \
    --bind-address=0.0.0.0 --advertise-address="$NODE_IP" --secure-port="$API_PORT" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
    --client-ca-file="$pki/ca.crt" \
    --kubelet-client-certificate="$pki/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$pki/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority="$pki/ca.crt" --kubelet-preferred-address-types=InternalIP \
    --requestheader-client-ca-file="$pki/ca.crt" --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --proxy-client-cert-file="$pki/front-proxy-client.crt" --proxy-client-key-file="$pki/front-proxy-client.key" \
    --service-account-issuer="https://kubernetes.default.svc.$CLUSTER_DOMAIN" \
    --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
    --api-audiences="https://kubernetes.default.svc.$CLUSTER_DOMAIN" \
    --authorization-mode=Node,RBAC \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --enable-admission-plugins=NodeRestriction,PodSecurity \
    --allow-privileged=true --profiling=false \
    --cert-dir="$pki/apiserver-generated"
  spawn registry crane registry serve --address "0.0.0.0:$REGISTRY_PORT" --disk "$DIR/registry"
  wait_for registry "registry /v2/" curl -fsS "http://$REGISTRY/v2/"
  wait_for kube-apiserver "kube-apiserver /readyz" \
    curl -fsS --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" "https://$NODE_IP:$API_PORT/readyz"

  progress "kube-controller-manager, kube-scheduler"
  spawn kube-controller-manager kube-controller-manager \
    --kubeconfig="$DIR/conf/kube-controller-manager.kubeconfig" \
    --authentication-kubeconfig="$DIR/conf/kube-controller-manager.kubeconfig" \
    --authorization-kubeconfig="$DIR/conf/kube-controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port=10257 --cert-dir="$pki/kcm-generated" \
    --leader-elect=false --use-service-account-credentials=true \
    --service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
    --cluster-signing-cert-file="$pki/ca.crt" --cluster-signing-key-file="$pki/ca.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" --controllers='*,bootstrapsigner,tokencleaner'
  spawn kube-scheduler kube-scheduler \
    --kubeconfig="$DIR/conf/kube-scheduler.kubeconfig" \
    --authentication-kubeconfig="$DIR/conf/kube-scheduler.kubeconfig" \
    --authorization-kubeconfig="$DIR/conf/kube-scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port=10259 --cert-dir="$pki/sched-generated" \
    --leader-elect=false

  progress "images: $PAUSE_IMAGE, $COREDNS_IMAGE"
  push_image "$(command -v k8s-pause)" pause "$PAUSE_IMAGE"
  push_image "$(command -v coredns)" coredns "$COREDNS_IMAGE"

  progress "containerd ($DIR/containerd/containerd.sock)"
  spawn containerd containerd --config "$DIR/conf/containerd.toml"
  wait_for containerd "containerd socket" test -S "$DIR/containerd/containerd.sock"

  progress "kubelet (node $NODE)"
  wait_for kube-controller-manager "kube-controller-manager /healthz" node_exec curl -fsSk https://127.0.0.1:10257/healthz
  wait_for kube-scheduler "kube-scheduler /healthz" node_exec curl -fsSk https://127.0.0.1:10259/healthz
  spawn kubelet kubelet --config="$DIR/conf/kubelet.yaml" \
    --kubeconfig="$DIR/conf/kubelet-client.kubeconfig" \
    --container-runtime-endpoint="unix://$DIR/containerd/containerd.sock" \
    --root-dir="$DIR/kubelet" --hostname-override="$NODE" --node-ip="$NODE_IP" \
    --pod-infra-container-image="$PAUSE_IMAGE"
  wait_for kubelet "node $NODE registered" kc get node "$NODE"

  progress "kube-proxy (iptables)"
  spawn kube-proxy kube-proxy --config="$DIR/conf/kube-proxy.yaml"

  progress "CoreDNS, StorageClass local"
  local out
  # A freshly started API server may not serve every resource for a moment: retried.
  wait_for kube-apiserver "addons applied" apply_addons

  progress "waiting for node Ready, kube-proxy, CoreDNS Ready"
  wait_for kubelet "node Ready" kc wait --for=condition=Ready "node/$NODE" --timeout=2s
  wait_for kube-proxy "kube-proxy /healthz" node_exec curl -fsS http://127.0.0.1:10256/healthz
  if ! wait_for kubelet "CoreDNS Ready" kc -n kube-system wait --for=condition=Available deploy/coredns --timeout=2s; then
    out=$(kc -n kube-system describe pods -l k8s-app=kube-dns 2>&1 | tail -n 25 || true)
    printf '%s\n' "$out" | sed 's/^/[cluster]   /' >&2
    exit 1
  fi
  trap - EXIT INT TERM
  log "up in $((SECONDS - started))s: node $NODE, API https://$NODE_IP:$API_PORT, registry $REGISTRY (down: $0 down $DIR)"
  print_env
}

up_failed() {
  local rc=$?
  trap - EXIT INT TERM
  [ $rc -ne 0 ] || return 0
  log "up failed (exit $rc); tearing down"
  if [ -n "${CLUSTER_KEEP_LOGS:-}" ] && [ -d "$DIR/logs" ]; then
    mkdir -p "$CLUSTER_KEEP_LOGS" && cp -a "$DIR/logs/." "$CLUSTER_KEEP_LOGS/" && log "logs copied to $CLUSTER_KEEP_LOGS"
  fi
  down "$DIR" || true
  exit "$rc"
}

print_env() {
  echo "export KUBECONFIG=$DIR/kubeconfig"
  echo "export CLUSTER_REGISTRY=$NODE_IP:$REGISTRY_PORT"
  # The host's address as pods reach it: for servers a test runs on the host (a git server, say).
  echo "export CLUSTER_HOST_IP=$HOST_IP"
}

# ---- down ------------------------------------------------------------------------------------
cg_pids() { # every pid in /CG's cgroup tree, any hierarchy
  local root
  for root in $(cgroup_roots); do
    [ -d "$root/$CG" ] || continue
    find "$root/$CG" -name cgroup.procs -exec cat {} + 2>/dev/null
  done | sort -un
}

freeze() { # freeze FROZEN|THAWED : the freezer cgroup of /CG, if that hierarchy is mounted
  if [ -n "$freezer" ] && [ -d "$freezer/$CG" ]; then echo "$1" >"$freezer/$CG/freezer.state" 2>/dev/null || true; fi
}

down() {
  DIR=$1
  DIR=$(realpath -m "$DIR")   # as `up` resolved it: the names derive from it
  if [ -d "$DIR" ] && [ -n "$(ls -A "$DIR")" ] && [ ! -e "$DIR/$MARKER" ]; then
    die "$DIR was not made by $0 up (no $MARKER); refusing to touch it"
  fi
  names "$DIR"
  local rc=0 name pid pids i root f freezer
  # 1. Ask the daemons to stop (the kubelet and kube-proxy first), then wait up to 3s: nothing
  #    of the cluster is kept, so a clean shutdown only matters for tidy logs.
  for name in kube-proxy kubelet kube-scheduler kube-controller-manager kube-apiserver registry containerd etcd; do
    pid=$(cat "$DIR/run/$name.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && running "$pid"; then kill -TERM "$pid" 2>/dev/null || true; fi
  done
  for i in $(seq 1 30); do
    local left=0
    for name in kube-proxy kubelet kube-scheduler kube-controller-manager kube-apiserver registry containerd etcd; do
      pid=$(cat "$DIR/run/$name.pid" 2>/dev/null || true)
      [ -n "$pid" ] && running "$pid" && left=1
    done
    [ $left = 0 ] && break
    sleep 0.1
  done
  # 2. Everything left in the cgroup tree (shims, containers, the holder): freeze it so nothing
  #    forks meanwhile, SIGKILL every process, thaw so the kills are delivered.
  freezer=$(cgroup_roots | grep -m1 '/freezer$' || true)
  for i in $(seq 1 50); do
    pids=$(cg_pids)
    [ -n "$pids" ] || break
    freeze FROZEN
    # shellcheck disable=SC2086 # one word per pid
    kill -KILL $pids 2>/dev/null || true
    freeze THAWED
    sleep 0.2
  done
  pids=$(cg_pids)
  if [ -n "$pids" ]; then log "processes still in /$CG: $(echo "$pids" | tr '\n' ' ')"; rc=1; fi
  # Processes that escaped the cgroup but are in the network namespace (there should be none).
  if [ -e "/run/netns/$NETNS" ]; then
    local ino
    ino=$(stat -Lc %i "/run/netns/$NETNS")
    for f in /proc/[0-9]*/ns/net; do
      [ "$(stat -Lc %i "$f" 2>/dev/null)" = "$ino" ] || continue
      pid=${f#/proc/}; pid=${pid%%/*}
      log "killing pid $pid (in $NETNS, outside /$CG): $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)"
      kill -KILL "$pid" 2>/dev/null || true
    done
  fi
  # 3. cgroups, depth-first (a cgroup is removed with rmdir once empty).
  for root in $(cgroup_roots); do
    [ -d "$root/$CG" ] || continue
    for i in $(seq 1 50); do
      find "$root/$CG" -depth -type d -exec rmdir {} + 2>/dev/null || true
      [ -d "$root/$CG" ] || break
      sleep 0.1
    done
    [ ! -d "$root/$CG" ] || { log "could not remove cgroup $root/$CG"; rc=1; }
  done
  # 4. The network namespace (its veth end, bridge, iptables rules and routes go with it) and
  #    the host end of the veth pair.
  if [ -e "/run/netns/$NETNS" ]; then ip netns del "$NETNS" || rc=1; fi
  if ip link show "$VETH_H" >/dev/null 2>&1; then ip link del "$VETH_H" || rc=1; fi
  # 5. Host sysctls the kubelet changed, unless another cluster of this script still runs.
  if [ -f "$SYSCTL_SAVE" ] && ! ip netns list 2>/dev/null | grep -q '^kc-[0-9a-f]\{8\}\b'; then
    local kv
    while IFS= read -r kv; do
      if [ -n "${kv#*=}" ]; then sysctl -qw "$kv" 2>/dev/null || true; fi
    done <"$SYSCTL_SAVE"
    rm -f "$SYSCTL_SAVE"
  fi
  # 6. Mounts: all of the node's are in its private mount namespace, gone with its processes.
  #    Anything under DIR visible here would be a bug; unmount it rather than rm -rf through it.
  if [ -d "$DIR" ]; then
    local m
    while read -r m; do
      log "unmounting leftover $m"; umount -l "$m" || rc=1
    done < <(awk -v d="$DIR/" 'index($2 "/", d) == 1 {print $2}' /proc/self/mounts | sort -r)
  fi
  if [ $rc -ne 0 ]; then log "down incomplete; keeping $DIR"; return 1; fi
  rm -rf "$DIR"
  log "down: stopped and removed $DIR"
}

# ---- pv --------------------------------------------------------------------------------------
pv() { # pv DIR NAME SIZE [NAMESPACE/CLAIM]
  DIR=$(realpath -e "$1")
  local name=$2 size=$3 claim=${4:-} claimref=""
  [ -e "$DIR/$MARKER" ] || die "$DIR is not a cluster (no $MARKER)"
  # shellcheck source=/dev/null
  . "$DIR/run/state"
  mkdir -p "$DIR/pv/$name"
  # Root-owned 0755; the kubelet chowns it to the pod's fsGroup (setgid, g+rwx) at mount.
  chmod 0755 "$DIR/pv/$name"
  if [ -n "$claim" ]; then
    claimref="  claimRef: {namespace: ${claim%%/*}, name: ${claim#*/}}"
  fi
  kc apply -f - >&2 <<EOF
apiVersion: v1
kind: PersistentVolume
metadata:
  name: $name
spec:
  capacity: {storage: $size}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: local
  volumeMode: Filesystem
$claimref
  local: {path: $DIR/pv/$name}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions:
        - {key: kubernetes.io/hostname, operator: In, values: [$NODE]}
EOF
}

case "${1:-}" in
  up) [ $# -eq 2 ] || die "usage: $0 up DIR"; up "$2" ;;
  down) [ $# -eq 2 ] || die "usage: $0 down DIR"; down "$2" ;;
  env)
    [ $# -eq 2 ] || die "usage: $0 env DIR"
    DIR=$(realpath -e "$2")
    # shellcheck source=/dev/null
    . "$DIR/run/state"
    print_env ;;
  pv) [ $# -eq 4 ] || [ $# -eq 5 ] || die "usage: $0 pv DIR NAME SIZE [NAMESPACE/CLAIM]"; shift; pv "$@" ;;
  exec)
    [ $# -ge 3 ] || die "usage: $0 exec DIR CMD..."
    DIR=$(realpath -e "$2"); shift 2
    # shellcheck source=/dev/null
    . "$DIR/run/state"
    HOLDER=$(cat "$DIR/run/holder.pid")
    running "$HOLDER" || die "the cluster in $DIR is not running"
    # Join the node's cgroup first, so `down` stops whatever CMD leaves running.
    for root in $(cgroup_roots); do echo $$ >"$root/$CG/node/cgroup.procs"; done
    exec nsenter --net="/run/netns/$NETNS" --mount="/proc/$HOLDER/ns/mnt" -- "$@" ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac
