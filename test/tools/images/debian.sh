# test/tools/images/debian.sh — Debian packages for the image recipes: the mirror apt uses here,
# and mmdebstrap; sourced by build.sh.
# shellcheck shell=bash

# The Debian mirror apt uses here (DEBIAN_MIRROR / DEBIAN_SECURITY_MIRROR override): deb822
# .sources first, then one-line .list entries.
apt_uris() {
  # (cat fails on a missing file, e.g. no /etc/apt/sources.list: tolerated)
  { { cat /etc/apt/sources.list.d/*.sources 2>/dev/null || true; } | awk '$1 == "URIs:" {for (i = 2; i <= NF; i++) print $i}'
    { cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true; } \
      | awk '$1 == "deb" {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; break}}'
  } | sed 's:/*$::'
}
# (awk reads all of its input: an early exit would SIGPIPE the pipeline under pipefail)
debian_mirror() {
  local u; u=$(apt_uris | awk '/\/debian$/ && !f {print; f = 1}')
  echo "${DEBIAN_MIRROR:-${u:-http://deb.debian.org/debian}}"
}
debian_security_mirror() {
  local u; u=$(apt_uris | awk '/\/debian-security$/ && !f {print; f = 1}')
  echo "${DEBIAN_SECURITY_MIRROR:-${u:-http://deb.debian.org/debian-security}}"
}

ensure_mmdebstrap() {
  command -v mmdebstrap >/dev/null && return 0
  note "apt-get install mmdebstrap (not installed)"
  logged "$IMAGES_LOGS/apt-mmdebstrap.log" env DEBIAN_FRONTEND=noninteractive \
    apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends mmdebstrap \
    || { logged "$IMAGES_LOGS/apt-mmdebstrap.log" apt-get update \
      && logged "$IMAGES_LOGS/apt-mmdebstrap.log" env DEBIAN_FRONTEND=noninteractive \
        apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends mmdebstrap; }
}
