# docker: Debian's docker.io (dockerd and the docker client), for --builder docker/buildpacks (opt-in)
# The tests start their own dockerd in a network namespace of their own
# (test/e2e/docker-support.ts); the package's service is never started (apt_install forbids it).
# shellcheck shell=bash

install_docker() {
  if [ -x /usr/bin/docker ] && [ -x /usr/sbin/dockerd ]; then
    progress "installing debian package docker.io (cached: yes)"
  else
    progress "installing debian package docker.io (cached: no)…"
    apt_install apt-docker.log docker.io
  fi
}
