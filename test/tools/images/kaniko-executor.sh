#!/usr/bin/env bash
# test/tools/images/kaniko-executor.sh — a drop-in for the kaniko executor binary (KANIKO_EXECUTOR)
# that runs the real one, /kaniko/executor of the image $KANIKO_IMAGE, in a runc container and
# never on the host: kaniko builds by unpacking base images over the root filesystem it runs in.
#
# Usage (as root; needs runc, jq, tar, and crane, else `test/tools/install.sh crane` is used):
#   KANIKO_IMAGE=REF test/tools/images/kaniko-executor.sh EXECUTOR_ARGS...
#   KANIKO_EXECUTOR="$PWD/test/tools/images/kaniko-executor.sh" KANIKO_IMAGE=REF \
#     npm run build:image -- --builder kaniko --repository 127.0.0.1:5000/acme/todo
#   REF: the executor image by digest, e.g. what `test/tools/images/build.sh kaniko REGISTRY`
#   prints (REGISTRY/kaniko-project/executor@sha256:...).
#
# The container is shaped like the pod of the KanikoBuildJob construct
# (src/image-build/kaniko-build-job.ts):
#   - root filesystem: a private, writable copy of the image (crane export), made fresh for each
#     run and removed after it, so whatever kaniko unpacks over it is thrown away;
#   - uid/gid 0 with only KANIKO_CAPABILITIES (CHOWN DAC_OVERRIDE FOWNER FSETID SETGID SETUID)
#     in every capability set, no_new_privs, and a seccomp denylist (below);
#   - its own pid, ipc, uts, mount and cgroup namespaces, but the host's network namespace, so a
#     registry on the host's 127.0.0.1 (the e2e test's, the build CLI's default) is reachable.
#     No NET_ADMIN/NET_RAW, so it can only open sockets, like any process on the host. (The
#     alternative, a network namespace of its own, would need a bridge or slirp and an address
#     for the registry other than 127.0.0.1, which the args name.)
#   - the host's /etc/resolv.conf, read-only (valid as is, since the network is the host's);
#   - the host paths the args name, bind-mounted at the same paths, so no arg is rewritten:
#     the --context directory (dir:// or a plain path) read-only; the --dockerfile read-only if
#     it is an absolute path outside the context (a relative one is found in the context); the
#     directories of --digest-file, --image-name-with-digest-file,
#     --image-name-tag-with-digest-file, --tar-path and --oci-layout-path read-write. Other
#     paths (--cache-dir, --kaniko-dir, ...) stay inside the container's throw-away root.
#
# stdout/stderr: the executor's; this script's progress lines, "[kaniko-executor] ...", go to
# stderr. Exit status: the executor's, or 125 if the container could not be set up (2 for a
# usage error). On exit, failure or SIGINT/SIGTERM/SIGHUP the container is killed and deleted
# and the root filesystem copy removed (mounts live only in the container's mount namespace).
#
# Environment:
#   KANIKO_IMAGE            the executor image, by digest (required)
#   KANIKO_IMAGE_INSECURE   1: pull KANIKO_IMAGE with `crane export --insecure` (plain HTTP, no
#                           TLS verification); 0: never. Default: 1 if KANIKO_IMAGE is in the
#                           --destination's registry and the args have --insecure, else 0.
#                           A loopback registry is spoken to over plain HTTP either way (crane).
#   TMPDIR                  where the root filesystem copy goes (default /tmp); a build needs
#                           room for its base images there.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/../../.." && pwd)
NAME=kaniko-executor
say() { echo "[$NAME] $*" >&2; }
# Setup problems exit 125 (as `docker run` does), so they are not mistaken for the executor's.
die() { say "ERROR: $*"; exit 125; }
usage_error() { say "$*"; sed -n '6,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

# KANIKO_CAPABILITIES of src/image-build/kaniko-build-job.ts, the only ones the build Job's
# container keeps: chown/chmod files it unpacks and copies, write files of any owner, and switch
# to a Dockerfile's USER for RUN.
CAPS='["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FOWNER","CAP_FSETID","CAP_SETGID","CAP_SETUID"]'

# ------------------------------------------------------------------ inputs ---

[ $# -gt 0 ] || usage_error "no executor arguments"
KANIKO_IMAGE=${KANIKO_IMAGE:-}
[ -n "$KANIKO_IMAGE" ] || usage_error "set KANIKO_IMAGE to the kaniko executor image (by digest)"
# By digest only: the build must run exactly the executor that was built and checked, and a
# tag could move between the pull and the next run.
[[ $KANIKO_IMAGE =~ @sha256:[0-9a-f]{64}$ ]] || usage_error "KANIKO_IMAGE must be a reference by digest (...@sha256:<64 hex>), got '$KANIKO_IMAGE'"
[ "$(id -u)" = 0 ] || die "run as root: the executor runs as root in a runc container (rootless runc would need a user namespace, which the Job does not have either)"
for t in runc jq tar; do command -v "$t" >/dev/null || die "$t not found (apt-get install $t)"; done
if ! command -v crane >/dev/null; then
  eval "$("$REPO_ROOT/test/tools/install.sh" crane)" || die "crane not found and test/tools/install.sh crane failed"
fi

# The args kaniko reads host paths from, as `--flag value` or `--flag=value` (or the short
# -c/-f). Collected as "ro|rw PATH" mount requests; the args themselves pass through unchanged.
MOUNTS=()
context='' dockerfile='' destination='' insecure_arg=''
value_of() { # FLAG NEXT_ARG... -> prints the value of the flag at $1 ("--x=v" or "--x v")
  case $1 in *=*) printf '%s' "${1#*=}" ;; *) printf '%s' "${2-}" ;; esac
}
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  a=${args[i]} next=${args[i + 1]-}
  case $a in
    --context|--context=*|-c) context=$(value_of "$a" "$next") ;;
    --dockerfile|--dockerfile=*|-f) dockerfile=$(value_of "$a" "$next") ;;
    --destination|--destination=*|-d) [ -n "$destination" ] || destination=$(value_of "$a" "$next") ;;
    --digest-file|--digest-file=*|--image-name-with-digest-file|--image-name-with-digest-file=*|\
    --image-name-tag-with-digest-file|--image-name-tag-with-digest-file=*|--tar-path|--tar-path=*|\
    --oci-layout-path|--oci-layout-path=*)
      f=$(value_of "$a" "$next")
      [[ $f == /* ]] || usage_error "$a must be an absolute path (the container's working directory is not the caller's), got '$f'"
      MOUNTS+=("rw $(dirname "$f")") ;;
    --insecure|--insecure=true) insecure_arg=1 ;;
  esac
  # A flag given as "--flag value" consumed the next arg.
  case $a in
    --context|-c|--dockerfile|-f|--destination|-d|--digest-file|--image-name-with-digest-file|\
    --image-name-tag-with-digest-file|--tar-path|--oci-layout-path) i=$((i + 1)) ;;
  esac
done

context_dir=
case $context in
  "") ;;                                    # kaniko's default, /workspace/, is in the image
  dir://*) context_dir=${context#dir://} ;;
  tar://*) MOUNTS+=("ro $(dirname "${context#tar://}")") ;;
  *://*) ;;                                 # git://, s3://, https://...: fetched over the network
  *) context_dir=$context ;;
esac
if [ -n "$context_dir" ]; then
  [[ $context_dir == /* ]] || usage_error "--context must be an absolute path, got '$context'"
  context_dir=${context_dir%/}
  MOUNTS+=("ro $context_dir")
fi
# An absolute Dockerfile outside the context is mounted on its own; a relative one kaniko
# looks up in the context.
if [[ $dockerfile == /* ]] && { [ -z "$context_dir" ] || [[ $dockerfile != "$context_dir"/* ]]; }; then
  MOUNTS+=("ro $dockerfile")
fi

# ------------------------------------------------------------------ set-up ---

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kaniko-executor.XXXXXX")
chmod 0755 "$WORK"
ROOTFS=$WORK/rootfs
STATE=$WORK/runc-state
ID=kaniko-$$-$RANDOM
RUNC=(runc --root "$STATE")
RUNC_PID='' RAN=''
started=$SECONDS

# mounted_under DIR: the host mounts at or below DIR. Expected to be none: every bind mount is
# made in the container's mount namespace and dies with it. Checked anyway before `rm -rf`, so
# a leaked bind mount of the context can never get its contents deleted.
# (SC2317: shellcheck cannot see that the EXIT trap calls these.)
# shellcheck disable=SC2317
mounted_under() { awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo; }

# shellcheck disable=SC2317
cleanup() {
  local rc=$? left
  trap - EXIT INT TERM HUP
  if [ -n "$RUNC_PID" ]; then
    # Still running only when we were interrupted: its root filesystem is thrown away, so
    # there is nothing to shut down gracefully.
    "${RUNC[@]}" kill "$ID" KILL >/dev/null 2>&1 || true
    wait "$RUNC_PID" 2>/dev/null || true
  fi
  [ ! -d "$STATE/$ID" ] || "${RUNC[@]}" delete --force "$ID" >/dev/null 2>&1 || say "warning: runc delete $ID failed"
  left=$(mounted_under "$WORK")
  if [ -n "$left" ]; then
    printf '%s\n' "$left" | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
    left=$(mounted_under "$WORK")
  fi
  if [ -n "$left" ]; then
    say "warning: still mounted under $WORK, left in place: $left"
  else
    rm -rf --one-file-system "$WORK"
  fi
  say "exit $rc after $((SECONDS - started))s; removed ${RAN:+container $ID and }$WORK"
  exit "$rc"
}
trap cleanup EXIT
# A signal ends the wait below at once (bash runs traps only between commands, hence the
# background runc); the EXIT trap then kills and deletes the container.
trap 'say "interrupted (SIGINT)"; exit 130' INT
trap 'say "interrupted (SIGTERM)"; exit 143' TERM
trap 'say "interrupted (SIGHUP)"; exit 129' HUP

# Validate the mount requests: existing host paths, none that would cover the container's own
# /, /kaniko, /proc, /sys, /dev or resolv.conf, and none that holds $WORK (the container would
# see its own root filesystem). Duplicates collapse; read-write wins over read-only. The mount
# point is the path as the args spell it (only "." and ".." folded), since that is what kaniko
# opens; its source is the host path with symlinks resolved.
declare -A MODE=() SRC=()
for m in "${MOUNTS[@]}"; do
  mode=${m%% *} p=${m#* }
  p=$(realpath -s -m "$p") src=$(realpath -m "$p")
  [ -e "$src" ] || die "$p (from the executor's args) does not exist on the host"
  case $p/ in
    /|/kaniko/*|/proc/*|/sys/*|/dev/*|/etc/resolv.conf/) die "refusing to mount $p into the container" ;;
  esac
  case $WORK/ in "$src"/*|"$p"/*) die "$p holds $WORK, this run's root filesystem; set TMPDIR elsewhere" ;; esac
  if [ "${MODE[$p]-}" != rw ]; then MODE[$p]=$mode; fi
  SRC[$p]=$src
done

# The registry KANIKO_IMAGE is in, and whether crane may use plain HTTP / skip TLS for it.
image_registry=${KANIKO_IMAGE%%/*}
dest_registry=${destination%%/*}
case ${KANIKO_IMAGE_INSECURE-} in
  1) pull_insecure=1 ;;
  0) pull_insecure= ;;
  "") pull_insecure=; if [ -n "$insecure_arg" ] && [ "$image_registry" = "$dest_registry" ]; then pull_insecure=1; fi ;;
  *) usage_error "KANIKO_IMAGE_INSECURE must be 0 or 1, got '$KANIKO_IMAGE_INSECURE'" ;;
esac
case $image_registry in
  # crane speaks plain HTTP to loopback by itself; --insecure would only add an HTTPS attempt.
  127.*|localhost|localhost:*|\[::1\]|\[::1\]:*) pull_insecure= ;;
esac
CRANE_FLAGS=()
if [ -n "$pull_insecure" ]; then CRANE_FLAGS=(--insecure); fi

say "pulling $KANIKO_IMAGE into a private root filesystem ($ROOTFS)${pull_insecure:+ (crane --insecure)}"
mkdir "$ROOTFS"
# As root with --numeric-owner/--same-permissions: the files keep the image's owners and modes.
crane export "${CRANE_FLAGS[@]}" "$KANIKO_IMAGE" - | tar -x -C "$ROOTFS" --numeric-owner --same-permissions \
  || die "crane export $KANIKO_IMAGE failed"
[ -x "$ROOTFS/kaniko/executor" ] || die "$KANIKO_IMAGE has no /kaniko/executor"
config=$(crane config "${CRANE_FLAGS[@]}" "$KANIKO_IMAGE") || die "crane config $KANIKO_IMAGE failed"
image_env=$(jq -c '.config.Env // []' <<<"$config")
image_cwd=$(jq -r '.config.WorkingDir // "" | if . == "" then "/" else . end' <<<"$config")

# ------------------------------------------------------------------- spec ---

# Bind mounts: "rbind" + "rro" makes a read-only mount recursively read-only (plain "ro" would
# leave submounts writable); nosuid/nodev as for any volume.
binds=$(for p in "${!MODE[@]}"; do
  if [ "${MODE[$p]}" = ro ]; then o='["rbind","rro","nosuid","nodev"]'; else o='["rbind","rw","nosuid","nodev"]'; fi
  jq -cn --arg p "$p" --arg s "${SRC[$p]}" --argjson o "$o" '{destination: $p, type: "bind", source: $s, options: $o}'
done | sort | jq -cs 'sort_by(.destination)')
binds=$(jq -c --arg r "$(realpath /etc/resolv.conf)" \
  '. + [{destination: "/etc/resolv.conf", type: "bind", source: $r, options: ["bind","ro","nosuid","nodev","noexec"]}]' <<<"$binds")

# `runc spec` gives no seccomp profile, and Docker's default one (an allowlist) is not on this
# machine. This denylist keeps the part of it that matters for a root process without
# CAP_SYS_ADMIN & co.: kernel keyrings, bpf/perf, module and kexec loading, mount and namespace
# syscalls, ptrace and cross-process memory access, clock/swap/reboot/quota/accounting. None is
# needed to unpack images, run a Dockerfile's RUN steps (go build here) or push.
case $(uname -m) in
  x86_64) arches='["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"]' ;;
  aarch64) arches='["SCMP_ARCH_AARCH64","SCMP_ARCH_ARM"]' ;;
  *) arches='[]' ;;   # the native architecture only
esac
denied='["acct","add_key","bpf","clock_adjtime","clock_settime","create_module","delete_module",
  "finit_module","fsconfig","fsmount","fsopen","fspick","get_kernel_syms","init_module","ioperm",
  "iopl","kcmp","kexec_file_load","kexec_load","keyctl","lookup_dcookie","mount","mount_setattr",
  "move_mount","name_to_handle_at","nfsservctl","open_by_handle_at","open_tree","perf_event_open",
  "pivot_root","process_vm_readv","process_vm_writev","ptrace","query_module","quotactl",
  "quotactl_fd","reboot","request_key","setns","settimeofday","stime","swapoff","swapon","sysfs",
  "_sysctl","umount","umount2","unshare","uselib","userfaultfd","ustat","vm86","vm86old"]'
seccomp=$(jq -cn --argjson a "$arches" --argjson n "$denied" \
  '{defaultAction: "SCMP_ACT_ALLOW", architectures: $a, syscalls: [{names: $n, action: "SCMP_ACT_ERRNO", errnoRet: 1}]}')

# No --force. kaniko refuses to run ("kaniko should only be run inside of a container") unless
# proc.GetContainerRuntime recognises a container: docker/kube/podman/... in /proc/self/cgroup
# or /proc/1/cmdline, $container, /.dockerenv, an overlay root, ... It passes here, but only
# because the executor is PID 1 of its pid namespace and its cmdline has "--dockerfile", which
# contains "docker" (the build CLI always passes it); nothing else marks a bare runc container
# on a directory root. If a call without --dockerfile (or a later kaniko) is refused, add
# --force to the args: that is safe here, the root filesystem is this run's throw-away copy.
# (One jq --arg per word: jq 1.6 would parse "--context" after --args as its own option.)
executor_args=$(for a in /kaniko/executor "$@"; do jq -n --arg a "$a" '$a'; done | jq -cs .)

nofile_soft=$(ulimit -Sn) nofile_hard=$(ulimit -Hn)
[ "$nofile_soft" != unlimited ] || nofile_soft=1048576
[ "$nofile_hard" != unlimited ] || nofile_hard=1048576

BUNDLE=$WORK/bundle
mkdir "$BUNDLE"
(cd "$BUNDLE" && runc spec) || die "runc spec failed"
# From runc's default spec (its /proc, /dev, /dev/pts, /dev/shm, /dev/mqueue, read-only /sys and
# cgroup mounts, masked and read-only /proc paths, a device cgroup denying all but the standard
# devices), changed to the Job's shape described at the top.
jq --arg rootfs "$ROOTFS" --arg cwd "$image_cwd" --argjson args "$executor_args" --argjson env "$image_env" \
  --argjson caps "$CAPS" --argjson binds "$binds" --argjson seccomp "$seccomp" \
  --argjson nofile_soft "$nofile_soft" --argjson nofile_hard "$nofile_hard" '
  .process.terminal = false
  | .process.user = {uid: 0, gid: 0}
  | .process.args = $args
  | .process.env = ($env + ["HOSTNAME=kaniko"])
  | .process.cwd = $cwd
  | .process.capabilities = {bounding: $caps, effective: $caps, permitted: $caps, inheritable: [], ambient: []}
  | .process.noNewPrivileges = true
  # runc spec says 1024 open files; go build and parallel layer uploads may want more. The
  # limits of the caller, as a container engine passes on its own (no higher than it may set).
  | .process.rlimits = [{type: "RLIMIT_NOFILE", hard: $nofile_hard, soft: $nofile_soft}]
  | .root = {path: $rootfs, readonly: false}
  | .hostname = "kaniko"
  | .mounts += $binds
  | .linux.namespaces |= map(select(.type != "network"))
  | .linux.seccomp = $seccomp
' "$BUNDLE/config.json" >"$BUNDLE/config.json.new" && mv "$BUNDLE/config.json.new" "$BUNDLE/config.json"

# -------------------------------------------------------------------- run ---

say "running /kaniko/executor in runc container $ID: host network, caps $(jq -r 'map(ltrimstr("CAP_")) | join(",")' <<<"$CAPS"), no_new_privs, seccomp denylist"
printf '%s\n' "${!MODE[@]}" | sort | while IFS= read -r p; do [ -z "$p" ] || say "  mount $p (${MODE[$p]})"; done
# Foreground stdio pass-through (terminal=false): the executor writes straight to our stdout
# and stderr. In the background so that a signal reaches our trap while we wait.
"${RUNC[@]}" run --bundle "$BUNDLE" "$ID" </dev/null &
RUNC_PID=$! RAN=1
rc=0
wait "$RUNC_PID" || rc=$?
RUNC_PID=
# runc run exits with the container process's status (128+N if a signal killed it).
say "/kaniko/executor exited $rc"
exit "$rc"
