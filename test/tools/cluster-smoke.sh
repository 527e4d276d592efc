#!/usr/bin/env bash
# test/tools/cluster-smoke.sh — prove test/tools/cluster.sh gives a cluster whose pods run.
#
# Usage (as root):  test/tools/cluster-smoke.sh [DIR]     (DIR default: a new mktemp -d)
#
# Steps: install the tools; `cluster.sh up` (timed); build a scratch base image, the todo app
# (app/) and the probe client (test/tools/probe) with ko into the cluster's registry; in a
# namespace enforcing the restricted Pod Security level run the app behind a Service and a
# client pod; then check: node Ready; app pod Running and Ready; the client resolves
# todo.smoke.svc.cluster.local through CoreDNS and gets /healthz through the ClusterIP
# (kube-proxy); it reaches the API server through the `kubernetes` Service (TLS verified with
# the service account's CA); kubectl logs and exec work; a PVC binds to a PV made by
# `cluster.sh pv` and a uid-70 pod with fsGroup 70 writes to it. Finally `cluster.sh down`
# (timed) and leak checks: network namespace, host veth, mounts, cgroups, processes, host
# iptables rules.
#
# stdout/stderr: progress "[smoke i/N] ...", "ok"/"FAIL" lines, a summary; exit 1 on any FAIL.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DIR=${1:-$(mktemp -d /tmp/cluster-smoke.XXXXXX)}
rmdir "$DIR" 2>/dev/null || true   # cluster.sh up wants it absent or empty
STEPS=10
step=0
passed=0
failed=0
progress() { step=$((step + 1)); echo "[smoke $step/$STEPS] $*" >&2; }
ok() { passed=$((passed + 1)); echo "  ok   $*" >&2; }
fail() { failed=$((failed + 1)); echo "  FAIL $*" >&2; }
# retry CMD... : CMD until it succeeds, up to 15 times 1s apart (a Service answers once the
# EndpointSlice controller and kube-proxy have caught up with a pod turning Ready).
retry() { for _ in $(seq 1 14); do "$@" 2>/dev/null && return 0; sleep 1; done; "$@"; }
secs_since() { local ms=$((($(date +%s%N) - $1) / 1000000)); printf '%d.%01d' $((ms / 1000)) $((ms % 1000 / 100)); }
check() { # check WHAT CMD... : ok if CMD succeeds (its output shown indented)
  local what=$1 out; shift
  if out=$("$@" 2>&1); then ok "$what"; else fail "$what"; fi
  [ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/       /' >&2
}

progress "install tools"
eval "$("$HERE/install.sh" kube node coredns crane ko debs)"
export GOFLAGS=-buildvcs=false

up_done=0
cleanup() {
  local rc=$?
  if [ $up_done = 1 ]; then "$HERE/cluster.sh" down "$DIR" || true; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

progress "cluster.sh up $DIR"
iptables_before=$(iptables-save 2>/dev/null | grep -vc '^#' || true)
host_sysctls() { sysctl vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops | tr '\n' ' '; }
sysctls_before=$(host_sysctls)
other_clusters=$(ip netns list | grep -c '^kc-' || true)
t0=$(date +%s%N)
eval "$("$HERE/cluster.sh" up "$DIR")"
up_done=1
t_up=$(secs_since "$t0")
echo "  up took ${t_up}s" >&2
# shellcheck source=/dev/null
. "$DIR/run/state"
check "node $NODE is Ready" kubectl wait --for=condition=Ready "node/$NODE" --timeout=30s

progress "images: base (crane append), todo app and probe (ko build)"
base=$DIR/tmp/smoke-base
mkdir -p "$base/etc/ssl/certs" "$base/tmp"
chmod 1777 "$base/tmp"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\npostgres:x:70:70:postgres:/var/lib/postgresql:/sbin/nologin\n' >"$base/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\npostgres:x:70:\n' >"$base/etc/group"
cp /etc/ssl/certs/ca-certificates.crt "$base/etc/ssl/certs/"
tar --owner=0 --group=0 --numeric-owner --sort=name --mtime=@0 -C "$base" -cf "$base.tar" .
crane append -f "$base.tar" -t "$CLUSTER_REGISTRY/smoke/base:layer" >/dev/null 2>"$DIR/tmp/crane.log"
crane mutate "$CLUSTER_REGISTRY/smoke/base:layer" --set-platform linux/amd64 --user 65532 \
  -t "$CLUSTER_REGISTRY/smoke/base:latest" >/dev/null 2>>"$DIR/tmp/crane.log"
export KO_DEFAULTBASEIMAGE=$CLUSTER_REGISTRY/smoke/base:latest
todo_image=$(cd "$ROOT/app" && KO_DOCKER_REPO=$CLUSTER_REGISTRY/smoke/todo ko build --bare ./ 2>"$DIR/tmp/ko-todo.log") \
  || { tail -n 20 "$DIR/tmp/ko-todo.log" >&2; exit 1; }
probe_image=$(cd "$HERE/probe" && KO_DOCKER_REPO=$CLUSTER_REGISTRY/smoke/probe ko build --bare ./ 2>"$DIR/tmp/ko-probe.log") \
  || { tail -n 20 "$DIR/tmp/ko-probe.log" >&2; exit 1; }
ok "built $todo_image"
ok "built $probe_image"

progress "deploy the app, its Service and a client in namespace smoke (Pod Security: restricted)"
"$HERE/cluster.sh" pv "$DIR" smoke-data 1Gi smoke/data
restricted='securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}, readOnlyRootFilesystem: true}'
kubectl apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Namespace
metadata:
  name: smoke
  labels:
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/enforce-version: v1.27
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: todo, namespace: smoke}
spec:
  replicas: 1
  selector: {matchLabels: {app: todo}}
  template:
    metadata: {labels: {app: todo}}
    spec:
      securityContext: {runAsNonRoot: true, runAsUser: 65532, seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: todo
        image: $todo_image
        # No database here: the app listens at once, /healthz answers, /readyz would wait for
        # PostgreSQL (the app gives up after 2 minutes), so readiness uses /healthz.
        env: [{name: PORT, value: "8080"}, {name: PGHOST, value: 127.0.0.1}, {name: PGCONNECT_TIMEOUT, value: "1"}]
        ports: [{containerPort: 8080}]
        readinessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 1}
        $restricted
---
apiVersion: v1
kind: Service
metadata: {name: todo, namespace: smoke}
spec:
  selector: {app: todo}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: smoke, labels: {app: client}}
spec:
  securityContext: {runAsNonRoot: true, runAsUser: 65532, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: probe
    image: $probe_image
    args: [serve]
    ports: [{containerPort: 8080}]
    $restricted
---
apiVersion: v1
kind: Service
metadata: {name: client, namespace: smoke}
spec:
  selector: {app: client}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: smoke}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: Pod
metadata: {name: writer, namespace: smoke}
spec:
  restartPolicy: Never
  securityContext: {runAsNonRoot: true, runAsUser: 70, runAsGroup: 70, fsGroup: 70, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: probe
    image: $probe_image
    args: [write, /data/hello, "written by uid 70"]
    volumeMounts: [{name: data, mountPath: /data}]
    $restricted
  volumes:
  - name: data
    persistentVolumeClaim: {claimName: data}
EOF
check "app pod Running and Ready" kubectl -n smoke wait --for=condition=Ready pod -l app=todo --timeout=120s
check "client pod Ready" kubectl -n smoke wait --for=condition=Ready pod/client --timeout=120s

progress "cluster DNS (CoreDNS) and Service routing (kube-proxy)"
svc_ip=$(kubectl -n smoke get svc todo -o jsonpath='{.spec.clusterIP}')
check "client resolves todo.smoke.svc.cluster.local to $svc_ip" \
  bash -c "kubectl -n smoke exec client -- /ko-app/probe lookup todo.smoke.svc.cluster.local | tee /dev/stderr | grep -qw '$svc_ip'"
check "client resolves the short name todo (search path)" kubectl -n smoke exec client -- /ko-app/probe lookup todo
check "client GETs http://todo.smoke.svc.cluster.local/healthz through the ClusterIP" \
  retry kubectl -n smoke exec client -- /ko-app/probe get http://todo.smoke.svc.cluster.local/healthz
# The FQDN: the short name "client" is the pod's own hostname in its /etc/hosts.
check "client GETs its own Service (hairpin: pod -> ClusterIP -> the same pod)" \
  retry kubectl -n smoke exec client -- /ko-app/probe get http://client.smoke.svc.cluster.local/

# A server on the host end of the veth (the probe, built for the host): pods reach it masqueraded.
(cd "$HERE/probe" && CGO_ENABLED=0 go build -o "$DIR/tmp/probe" .)
host_port=$((20000 + RANDOM % 10000))
PORT=$host_port "$DIR/tmp/probe" serve >"$DIR/tmp/host-probe.log" 2>&1 &
host_probe=$!
check "client GETs a server on the host end of the veth (http://$HOST_IP:$host_port)" \
  retry kubectl -n smoke exec client -- /ko-app/probe get "http://$HOST_IP:$host_port/"
kill "$host_probe" 2>/dev/null || true
wait "$host_probe" 2>/dev/null || true

progress "the kubernetes Service from a pod"
check "client GETs https://kubernetes.default.svc/version (TLS verified with the service account CA)" \
  kubectl -n smoke exec client -- /ko-app/probe get https://kubernetes.default.svc/version \
  /var/run/secrets/kubernetes.io/serviceaccount/ca.crt

progress "kubectl logs and exec (API server -> kubelet on the node address)"
pod=$(kubectl -n smoke get pod -l app=todo -o jsonpath='{.items[0].metadata.name}')
check "kubectl logs $pod shows the app listening" bash -c "kubectl -n smoke logs $pod | grep -m1 listening"
check "kubectl exec runs in the pod" kubectl -n smoke exec client -- /ko-app/probe lookup kubernetes.default

progress "PersistentVolume: claim bound, uid-70 pod with fsGroup 70 writes"
check "writer pod succeeded" kubectl -n smoke wait --for=jsonpath='{.status.phase}'=Succeeded pod/writer --timeout=120s
check "PVC data is Bound to smoke-data" bash -c "kubectl -n smoke get pvc data -o jsonpath='{.status.phase} {.spec.volumeName}' | tee /dev/stderr | grep -qx 'Bound smoke-data'"
check "writer's output" kubectl -n smoke logs writer
check "the file is on the host under DIR/pv, owned by uid 70" \
  bash -c "stat -c '%u:%g %a %n' '$DIR/pv/smoke-data/hello' | tee /dev/stderr | grep -q '^70:70 '"

progress "cluster.sh down $DIR (timed)"
t0=$(date +%s%N)
"$HERE/cluster.sh" down "$DIR"
up_done=0
t_down=$(secs_since "$t0")
echo "  down took ${t_down}s" >&2

progress "leak checks"
check "no network namespace $NETNS" bash -c "! ip netns list | grep -w '$NETNS'"
check "no host veth $VETH_H" bash -c "! ip link show '$VETH_H' 2>/dev/null"
check "no mount under $DIR" bash -c "! grep -F '$DIR' /proc/self/mounts"
check "no cgroup /$CG" bash -c "! ls -d /sys/fs/cgroup/*/$CG 2>/dev/null"
check "no process mentions $DIR" bash -c "! ps -eo pid,args | grep -F '$DIR' | grep -v grep"
# Zombies do not count: killed shims are re-parented to PID 1, which reaps them when it gets to it.
no_live_process_in_cgroup() {
  local f pid rc=0
  while IFS= read -r f; do
    pid=${f#/proc/}; pid=${pid%/cgroup}
    [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ] || continue
    ps -o pid,stat,args -p "$pid" | tail -n +2; rc=1
  done < <(grep -l ":/$CG" /proc/[0-9]*/cgroup 2>/dev/null || true)
  return $rc
}
check "no live process in a cgroup /$CG" no_live_process_in_cgroup
# Belt and braces for processes that escaped the cgroups: container processes outside every
# cluster's cgroup. (Those of another cluster running at the same time are in its /kc-* cgroups.)
no_stray_container_process() {
  local pid rc=0
  for pid in $(ps -eo pid,stat,args | awk '$2 !~ /^Z/ && $3 ~ /(\/ko-app\/|\/coredns$|\/pause$|containerd-shim)/ {print $1}'); do
    grep -q ':/kc-' "/proc/$pid/cgroup" 2>/dev/null && continue
    ps -o pid,stat,args -p "$pid" | tail -n +2; rc=1
  done
  return $rc
}
check "no container process left outside a cluster's cgroups (probe, todo, coredns, pause, containerd-shim)" no_stray_container_process
check "nothing left in the host mount points the node's mount namespace covered" \
  bash -c "for d in /run/containerd /var/lib/cni /var/log/pods /var/log/containers; do [ ! -d \$d ] || [ -z \"\$(ls -A \$d)\" ] || { ls -A \$d; exit 1; }; done"
check "host iptables rule count unchanged ($iptables_before)" \
  bash -c "[ \"\$(iptables-save 2>/dev/null | grep -vc '^#' || true)\" = '$iptables_before' ]"
if [ "$other_clusters" = 0 ]; then
  check "host sysctls the kubelet set are restored ($sysctls_before)" test "$(host_sysctls)" = "$sysctls_before"
fi
check "$DIR removed" test ! -e "$DIR"

echo "up ${t_up}s, down ${t_down}s" >&2
echo "$passed passed, $failed failed" >&2
[ $failed = 0 ]
