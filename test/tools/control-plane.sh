#!/usr/bin/env bash
# test/tools/control-plane.sh — a throw-away Kubernetes control plane on loopback.
#
# Usage:
#   eval "$(test/tools/install.sh kube debs)"         # etcd + kube-* on PATH
#   eval "$(test/tools/control-plane.sh start DIR)"   # prints: export KUBECONFIG=DIR/kubeconfig
#   kubectl get ns
#   test/tools/control-plane.sh stop DIR              # kills everything it started, removes DIR
#   test/tools/control-plane.sh env DIR               # re-print the export line
#
# start: generates per-run certificates with openssl (CA, apiserver serving cert for
#   127.0.0.1/localhost, service-account key pair, admin client cert O=system:masters),
#   starts etcd, kube-apiserver, kube-controller-manager and kube-scheduler, all bound to
#   127.0.0.1 on free ports, waits for /readyz, writes DIR/kubeconfig (certs embedded).
#   Logs: DIR/<component>.log. Pids: DIR/<component>.pid. Only the export line goes to stdout.
#   DIR must not exist or be empty. On failure the processes are stopped, DIR is kept for
#   its logs, and the exit status is non-zero.
# stop: TERM (then KILL after 20s) each DIR/<component>.pid whose command line names DIR,
#   scheduler/controller-manager first, etcd last, waits for each to exit, then removes DIR
#   (only if it carries the .control-plane marker).
#
# Environment:
#   CONTROL_PLANE_COMPONENTS  default "etcd kube-apiserver kube-controller-manager kube-scheduler";
#                             "etcd kube-apiserver" gives an API server only
#   CONTROL_PLANE_TIMEOUT     seconds to wait for readiness (default 120)
#   CONTROL_PLANE_BIN_DIR     a directory searched before PATH for the components, e.g.
#                             <tools cache>/kubernetes-v1.37.2 (install.sh kube-latest) to run the
#                             newest kube-apiserver/kube-controller-manager; etcd stays the one on PATH
#
# Without a kubelet no pod ever runs; the controller manager still creates service accounts,
# deletes namespaces, runs deployments/replicasets etc.; the scheduler binds pods to nodes
# (e.g. fake nodes from kwok).
set -euo pipefail

COMPONENTS=${CONTROL_PLANE_COMPONENTS:-etcd kube-apiserver kube-controller-manager kube-scheduler}
if [ -n "${CONTROL_PLANE_BIN_DIR:-}" ]; then
  [ -d "$CONTROL_PLANE_BIN_DIR" ] || { echo "[control-plane] ERROR: CONTROL_PLANE_BIN_DIR $CONTROL_PLANE_BIN_DIR is not a directory" >&2; exit 1; }
  PATH=$CONTROL_PLANE_BIN_DIR:$PATH
fi
TIMEOUT=${CONTROL_PLANE_TIMEOUT:-120}
MARKER=.control-plane

log() { echo "[control-plane] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

has() { case " $COMPONENTS " in *" $1 "*) return 0 ;; esac; return 1; }

# A TCP port on 127.0.0.1 nobody listens on, below the ephemeral range, not yet handed out.
used_ports=" "
free_port() { # free_port VAR : sets VAR (no subshell, so used_ports is remembered)
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 12000))
    case "$used_ports" in *" $p "*) continue ;; esac
    if command -v ss >/dev/null; then
      [ -z "$(ss -Htan "( sport = :$p )" 2>/dev/null)" ] || continue
    elif (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      continue
    fi
    used_ports+="$p "
    printf -v "$1" '%s' "$p"; return 0
  done
  die "no free port found"
}

# Pids of DIR whose process is still ours (command line mentions DIR).
alive_pid() { # alive_pid DIR PIDFILE -> prints pid if running and ours
  local dir=$1 f=$2 pid
  pid=$(cat "$f" 2>/dev/null || true)
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$dir" || return 1
  echo "$pid"
}

running() { # running PID : true while PID exists and is not a zombie
  kill -0 "$1" 2>/dev/null || return 1
  local st
  st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || true)
  [ "$st" != Z ]
}

stop_one() { # stop_one DIR NAME : TERM, wait up to 20s, then KILL and wait
  local dir=$1 name=$2 pid
  pid=$(alive_pid "$dir" "$dir/$name.pid") || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 200); do running "$pid" || return 0; sleep 0.1; done
  log "$name (pid $pid) ignored SIGTERM for 20s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do running "$pid" || return 0; sleep 0.1; done
  log "$name (pid $pid) is still running"
  return 1
}

kill_all() { # kill_all DIR : clients first, etcd last, so the API server can shut down cleanly
  local dir=$1 name rc=0
  for name in kube-scheduler kube-controller-manager kube-apiserver etcd; do
    stop_one "$dir" "$name" || rc=1
  done
  return $rc
}

spawn() { # spawn DIR NAME CMD... : background, detached from our stdio, pid to DIR/NAME.pid
  local dir=$1 name=$2; shift 2
  nohup "$@" </dev/null >"$dir/$name.log" 2>&1 &
  echo $! >"$dir/$name.pid"
}

b64() { base64 -w0 <"$1"; }

gen_certs() { # gen_certs PKIDIR
  local d=$1
  (
    cd "$d"
    umask 077
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -keyout ca.key -out ca.crt \
      -subj "/CN=control-plane-ca" -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
    cert() { # cert NAME SUBJECT EXTFILE-CONTENT
      openssl req -new -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
      printf '%s\n' "$3" >"$1.ext"
      openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 -days 2 \
        -extfile "$1.ext" -out "$1.crt" 2>/dev/null
      rm -f "$1.csr" "$1.ext"
    }
    cert apiserver "/CN=kube-apiserver" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost,IP:10.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
    cert admin "/O=system:masters/CN=admin" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
    cert front-proxy-client "/CN=front-proxy-client" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
  )
}

write_kubeconfig() { # write_kubeconfig DIR PORT
  local dir=$1 port=$2 pki=$1/pki
  umask 077
  cat >"$dir/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:$port
    certificate-authority-data: $(b64 "$pki/ca.crt")
users:
- name: admin
  user:
    client-certificate-data: $(b64 "$pki/admin.crt")
    client-key-data: $(b64 "$pki/admin.key")
contexts:
- name: local
  context:
    cluster: local
    user: admin
    namespace: default
current-context: local
EOF
}

wait_for() { # wait_for DIR NAME DESCRIPTION CMD... : poll CMD until it succeeds
  local dir=$1 name=$2 what=$3; shift 3
  local deadline=$((SECONDS + TIMEOUT)) pid
  pid=$(cat "$dir/$name.pid")
  until "$@" >/dev/null 2>&1; do
    # Liveness by pid, not alive_pid: just after the fork, before exec, the child's command line is
    # still this script's (without DIR), which alive_pid would take for a process that exited.
    if ! running "$pid"; then
      log "$name exited; last lines of $dir/$name.log:"; tail -n 30 "$dir/$name.log" >&2; return 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      log "timed out after ${TIMEOUT}s waiting for $what; last lines of $dir/$name.log:"
      tail -n 30 "$dir/$name.log" >&2; return 1
    fi
    sleep 0.5
  done
}

fail_start() { # fail_start DIR
  log "start failed; stopping what was started (logs kept in $1; remove with: $0 stop $1)"
  kill_all "$1"
  exit 1
}

start() {
  local dir=$1
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [ -z "$(ls -A "$dir")" ] || die "$dir is not empty (already running? use: $0 stop $dir)"
  touch "$dir/$MARKER"
  local bin
  for bin in openssl curl $COMPONENTS; do command -v "$bin" >/dev/null || die "$bin not on PATH (eval \"\$(test/tools/install.sh)\")"; done

  mkdir -p "$dir/pki" "$dir/etcd"
  gen_certs "$dir/pki"
  local pki=$dir/pki
  local etcd_client etcd_peer api_port kcm_port sched_port
  free_port etcd_client; free_port etcd_peer; free_port api_port
  free_port kcm_port; free_port sched_port
  printf 'etcd=%s\netcd-peer=%s\nkube-apiserver=%s\nkube-controller-manager=%s\nkube-scheduler=%s\n' \
    "$etcd_client" "$etcd_peer" "$api_port" "$kcm_port" "$sched_port" >"$dir/ports"
  write_kubeconfig "$dir" "$api_port"

  log "starting etcd on 127.0.0.1:$etcd_client"
  spawn "$dir" etcd etcd --name cp --data-dir "$dir/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_client" --advertise-client-urls "http://127.0.0.1:$etcd_client" \
    --listen-peer-urls "http://127.0.0.1:$etcd_peer" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
    --initial-cluster "cp=http://127.0.0.1:$etcd_peer" --initial-cluster-state new \
    --quota-backend-bytes 1073741824
  wait_for "$dir" etcd "etcd health" curl -fsS "http://127.0.0.1:$etcd_client/health" \
    || fail_start "$dir"

  # Flags that differ by version. Newer API servers refuse a loopback --advertise-address with
  # the default "lease" endpoint reconciler ("cannot use public IP 127.0.0.1 with endpoint
  # reconciler: ... may not be in the loopback range", seen with v1.37.2; the first minor with
  # that check was not bisected): past 1.27 the kubernetes Service gets no endpoints instead
  # (127.0.0.1 would be unreachable from a pod anyway). 1.27 keeps its defaults.
  local api_version api_minor api_extra=()
  api_version=$(kube-apiserver --version 2>/dev/null | awk '{print $2}')
  api_minor=${api_version#v*.}; api_minor=${api_minor%%.*}
  case $api_minor in ''|*[!0-9]*) api_minor=0 ;; esac
  if [ "$api_minor" -gt 27 ]; then api_extra+=(--endpoint-reconciler-type=none); fi
  log "starting kube-apiserver ${api_version:-(unknown version)} on https://127.0.0.1:$api_port"
  spawn "$dir" kube-apiserver kube-apiserver "${api_extra[@]}" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$api_port" \
    --etcd-servers="http://127.0.0.1:$etcd_client" \
    --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
    --client-ca-file="$pki/ca.crt" \
    --requestheader-client-ca-file="$pki/ca.crt" --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --proxy-client-cert-file="$pki/front-proxy-client.crt" --proxy-client-key-file="$pki/front-proxy-client.key" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
    --api-audiences=https://kubernetes.default.svc.cluster.local \
    --authorization-mode=Node,RBAC \
    --service-cluster-ip-range=10.0.0.0/24 \
    --enable-admission-plugins=NodeRestriction,PodSecurity \
    --allow-privileged=true \
    --profiling=false \
    --cert-dir="$dir/pki/apiserver-generated"
  wait_for "$dir" kube-apiserver "kube-apiserver /readyz" \
    curl -fsS --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" "https://127.0.0.1:$api_port/readyz" \
    || fail_start "$dir"

  if has kube-controller-manager; then
    log "starting kube-controller-manager on 127.0.0.1:$kcm_port"
    spawn "$dir" kube-controller-manager kube-controller-manager \
      --kubeconfig="$dir/kubeconfig" --authentication-kubeconfig="$dir/kubeconfig" \
      --authorization-kubeconfig="$dir/kubeconfig" \
      --bind-address=127.0.0.1 --secure-port="$kcm_port" --cert-dir="$dir/pki/kcm-generated" \
      --leader-elect=false --use-service-account-credentials=true \
      --service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
      --cluster-signing-cert-file="$pki/ca.crt" --cluster-signing-key-file="$pki/ca.key" \
      --service-cluster-ip-range=10.0.0.0/24 --controllers='*,bootstrapsigner,tokencleaner'
  fi
  if has kube-scheduler; then
    log "starting kube-scheduler on 127.0.0.1:$sched_port"
    spawn "$dir" kube-scheduler kube-scheduler \
      --kubeconfig="$dir/kubeconfig" --authentication-kubeconfig="$dir/kubeconfig" \
      --authorization-kubeconfig="$dir/kubeconfig" \
      --bind-address=127.0.0.1 --secure-port="$sched_port" --cert-dir="$dir/pki/sched-generated" \
      --leader-elect=false
  fi
  if has kube-controller-manager; then
    wait_for "$dir" kube-controller-manager "kube-controller-manager /healthz" \
      curl -fsSk "https://127.0.0.1:$kcm_port/healthz" \
    || fail_start "$dir"
  fi
  if has kube-scheduler; then
    wait_for "$dir" kube-scheduler "kube-scheduler /healthz" curl -fsSk "https://127.0.0.1:$sched_port/healthz" \
    || fail_start "$dir"
  fi
  log "ready: $COMPONENTS (stop with: $0 stop $dir)"
  echo "export KUBECONFIG=$dir/kubeconfig"
}

stop() {
  local dir=$1
  [ -d "$dir" ] || { log "$dir does not exist; nothing to stop"; return 0; }
  dir=$(cd "$dir" && pwd)
  [ -e "$dir/$MARKER" ] || die "$dir was not made by $0 start (no $MARKER); refusing to touch it"
  kill_all "$dir" || die "some processes of $dir are still running; not removing it"
  rm -rf "$dir"
  log "stopped and removed $dir"
}

case "${1:-}" in
  start) [ $# -eq 2 ] || die "usage: $0 start DIR"; start "$2" ;;
  stop) [ $# -eq 2 ] || die "usage: $0 stop DIR"; stop "$2" ;;
  env) [ $# -eq 2 ] || die "usage: $0 env DIR"; echo "export KUBECONFIG=$(cd "$2" && pwd)/kubeconfig" ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac
