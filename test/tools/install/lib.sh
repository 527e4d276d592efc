# test/tools/install/lib.sh — what every recipe of test/tools/install.sh uses: the cache, the step
# counter, the PATH line, logged builds, best-effort tools and apt. Sourced by install.sh.
# shellcheck shell=bash

CACHE=${TODO_GITOPS_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/todo-gitops/tools}
LOGS=$CACHE/logs

# progress MSG: "[tools i/N] MSG" on stderr; install.sh sets total (one step per tool, or per
# binary for the Kubernetes ones).
step=0 total=0
progress() { step=$((step + 1)); echo "[tools $step/$total] $*" >&2; }
warn() { echo "[tools] WARNING: $*" >&2; }

# add_path DIR: DIR goes on the PATH line install.sh prints, once, in the order the tools are built.
path_dirs=()
add_path() { case " ${path_dirs[*]-} " in *" $1 "*) ;; *) path_dirs+=("$1") ;; esac; }

# Run "$@" with output to a log; on failure show the log's tail and return non-zero.
logged() {
  local log=$1; shift
  local start=$SECONDS
  if "$@" >"$log" 2>&1; then
    echo "[tools]   done in $((SECONDS - start))s" | tee -a "$log" >&2
    return 0
  fi
  echo "[tools]   FAILED after $((SECONDS - start))s; last lines of $log:" >&2
  tail -n 25 "$log" | sed 's/^/[tools]     /' >&2
  echo "[tools]   FAILED after $((SECONDS - start))s" >>"$log"
  return 1
}

best_effort() {
  if "$@"; then return 0; fi
  if [ "${TOOLS_STRICT:-0}" = 1 ]; then exit 1; fi
  warn "$2 $3 could not be installed; continuing without it (TOOLS_STRICT=1 makes this fatal)"
}

# apt_install LOG PKG... : apt-get install PKG..., output to $LOGS/LOG. The packages' init scripts
# may not start system-wide daemons (etcd, postgres, containerd): the tests start their own.
apt_install() {
  local log=$1; shift
  local sudo='' policy=/usr/sbin/policy-rc.d created_policy=0 rc=0
  [ "$(id -u)" = 0 ] || sudo=sudo
  # One apt-get at a time per cache: recipes of runs side by side may both need packages, apt-get
  # fails on dpkg's lock instead of waiting, and the policy file below is shared.
  exec 7>"$CACHE/.lock-apt"
  flock 7
  if [ ! -e $policy ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee $policy >/dev/null && $sudo chmod +x $policy && created_policy=1
  fi
  logged "$LOGS/$log" bash -c "$sudo apt-get update && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends $*" || rc=$?
  [ $created_policy = 1 ] && $sudo rm -f $policy
  exec 7>&-
  return $rc
}

# debian_packages LOG "ALL" [MISSING...] : one progress step for the Debian packages ALL, apt-installing
# the MISSING ones (none: a cache hit), output to $LOGS/LOG.
debian_packages() {
  local log=$1 all=$2; shift 2
  if [ $# -eq 0 ]; then
    progress "installing debian packages $all (cached: yes)"
  else
    progress "installing debian packages $* (cached: no)…"
    apt_install "$log" "$@"
  fi
}
