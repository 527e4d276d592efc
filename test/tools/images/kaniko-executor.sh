#!/usr/bin/env bash
# test/tools/images/kaniko-executor.sh — a drop-in for the kaniko executor binary (KANIKO_EXECUTOR)
# that runs the real one, /kaniko/executor of the image $KANIKO_IMAGE, in a runc container and
# never on the host: kaniko builds by unpacking base images over the root filesystem it runs in.
#
# Usage (as root; needs runc, tar, node, and crane, else `test/tools/install.sh crane` is used):
#   KANIKO_IMAGE=REF test/tools/images/kaniko-executor.sh EXECUTOR_ARGS...
#   KANIKO_EXECUTOR="$PWD/test/tools/images/kaniko-executor.sh" KANIKO_IMAGE=REF \
#     npm run build:image -- --builder kaniko --repository 127.0.0.1:5000/acme/todo
#   REF: the executor image by digest, e.g. what `test/tools/images/build.sh kaniko REGISTRY`
#   prints (REGISTRY/kaniko-project/executor@sha256:...).
#
# The container is shaped like the pod of the KanikoBuildJob construct
# (src/image-build/kaniko-build-job.ts): a private, writable copy of the image as its root
# filesystem (crane export), made fresh for each run and removed after it; uid/gid 0 with only
# KANIKO_CAPABILITIES, no_new_privs and a seccomp denylist; its own pid, ipc, uts, mount and cgroup
# namespaces but the host's network, so a registry on the host's 127.0.0.1 is reachable; the host's
# /etc/resolv.conf and the host paths the args name (the context and an outside Dockerfile
# read-only, the directories of --digest-file & co. read-write) bind-mounted at the same paths, so
# no arg is rewritten. The program is kaniko-executor.ts beside this script (details there).
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
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The container gets the caller's open-file limits; node raises its own soft limit when it starts.
KANIKO_EXECUTOR_NOFILE="$(ulimit -Sn) $(ulimit -Hn)" \
  exec node -r "$HERE/../register-ts.js" "$HERE/kaniko-executor.ts" "$@"
