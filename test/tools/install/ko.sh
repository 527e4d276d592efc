# ko: builds the todo service's image from Go source; go-installed, put on PATH
# shellcheck shell=bash

KO_VERSION=v0.19.1

install_ko() { go_install ko "$KO_VERSION" ko github.com/google/ko; }
