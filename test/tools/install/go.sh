# test/tools/install/go.sh — the Go builds the recipes of test/tools/install.sh share; each writes
# $CACHE/<tool>-<version>/<binary> atomically, with the stamp .<binary>.ok written last. Sourced
# by install.sh (after lib.sh).
# shellcheck shell=bash

# The flags of every tool build before -ldflags "-s -w": paths trimmed, and no debug information
# compiled either (-w only drops it at link): 11-13% less CPU for a cold build (ko v0.19.1: 149-157
# CPU-seconds against 168-180). Nothing here runs these binaries under a debugger; panics still
# print their stacks.
GO_BUILD_FLAGS=(-trimpath -gcflags=all=-dwarf=false)

# require_version GO_MOD MODULE: the version GO_MOD requires MODULE at (a wrapper module's pin); a
# go.mod that does not require MODULE is an error that names both (install.sh stops: set -e).
require_version() {
  local v
  v=$(awk -v m="$2" '$1 == "require" && $2 == m {print $3} $1 == m && $2 ~ /^v/ {print $2}' "$1" | head -n1)
  [ -n "$v" ] || { echo "install.sh: $1 requires no $2 (a line \"$2 vX.Y.Z\")" >&2; return 1; }
  echo "$v"
}

# go install MODULE/PKG@VERSION into $CACHE/<tool>-<version>/ (GOBIN), atomically.
# go_install TOOL VERSION BINARY PKG...   (several PKGs = alternatives tried in order)
# LDX (optional, e.g. LDX="-X a.b=c" go_install ...) is appended to -ldflags "-s -w".
go_install() {
  local tool=$1 version=$2 bin=$3; shift 3
  local dir=$CACHE/$tool-$version
  if [ -x "$dir/$bin" ] && [ -e "$dir/.$bin.ok" ]; then
    progress "building $tool $version (cached: yes)"
    add_path "$dir"; return 0
  fi
  progress "building $tool $version (cached: no)…"
  local tmp pkg
  tmp=$(mktemp -d "$CACHE/.$tool-$version.XXXXXX")
  for pkg in "$@"; do
    echo "[tools]   go install $pkg@$version" >&2
    # GOFLAGS must not carry -mod=mod here: `go install pkg@version` runs outside any module.
    if logged "$LOGS/$tool-$version.log" env GOBIN="$tmp" GOFLAGS=-buildvcs=false \
        go install "${GO_BUILD_FLAGS[@]}" -ldflags "-s -w ${LDX:-}" "$pkg@$version"; then
      mkdir -p "$dir"
      mv -f "$tmp/$bin" "$dir/$bin" || return 1
      rm -rf "$tmp"
      touch "$dir/.$bin.ok"
      add_path "$dir"; return 0
    fi
  done
  rm -rf "$tmp"
  return 1
}

# go_build_exact TOOL VERSION MODULE BIN=PKGDIR... : that exact module version downloaded from the
# proxy and its commands built inside it (its go.sum pins every dependency) into
# $CACHE/<tool>-<version>/, atomically; not put on PATH (callers add_path what they want there).
# For modules whose version list the proxy refuses (the CNB lifecycle): `go install
# pkg@version` reads that list, to look for a deprecation, and fails with 403 on a cold module cache.
go_build_exact() {
  local tool=$1 version=$2 module=$3; shift 3
  local dir=$CACHE/$tool-$version spec cached=yes src tmp
  for spec in "$@"; do [ -x "$dir/${spec%%=*}" ] && [ -e "$dir/.${spec%%=*}.ok" ] || cached=no; done
  if [ $cached = yes ]; then progress "building $tool $version (cached: yes)"; return 0; fi
  progress "building $tool $version (cached: no)…"
  src=$(GOFLAGS=-mod=mod go mod download -json "$module@$version" | awk -F'"' '$2 == "Dir" {print $4}')
  [ -n "$src" ] || { echo "install.sh: go mod download $module@$version printed no directory" >&2; return 1; }
  tmp=$(mktemp -d "$CACHE/.$tool-$version.XXXXXX")
  for spec in "$@"; do
    echo "[tools]   go build $module/${spec#*=} at $version" >&2
    if ! logged "$LOGS/$tool-$version-${spec%%=*}.log" env -C "$src" GOWORK=off GOFLAGS="-mod=readonly -buildvcs=false" \
        go build "${GO_BUILD_FLAGS[@]}" -ldflags "-s -w ${LDX:-}" -o "$tmp/${spec%%=*}" "./${spec#*=}"; then
      rm -rf "$tmp"; return 1
    fi
  done
  mkdir -p "$dir"
  for spec in "$@"; do mv -f "$tmp/${spec%%=*}" "$dir/"; touch "$dir/.${spec%%=*}.ok"; done
  rm -rf "$tmp"
}

# module_go MODULE_DIR ARG... : the go command inside the wrapper module MODULE_DIR. Its go.sum pins
# every dependency, so no checksum-database lookup is needed (GONOSUMDB covers re-resolving: the
# proxy's sumdb mirror here answers 404 for several k8s.io staging modules). The module's
# `toolchain` line, if any, is the Go it runs (GOTOOLCHAIN; the go command fetches that toolchain
# from the module proxy once).
module_go() {
  local mod=$1 toolchain; shift
  toolchain=$(awk '$1 == "toolchain" {print $2}' "$mod/go.mod")
  env -C "$mod" GOTOOLCHAIN="${toolchain:-local}" GOFLAGS="-mod=readonly -buildvcs=false" \
    GONOSUMDB="${GONOSUMDB:+$GONOSUMDB,}k8s.io" go "$@"
}

# build_in_module MODULE_DIR DIR BIN=PKG... : a static `go build` (CGO off) of each PKG
# inside the wrapper module MODULE_DIR (module_go) into DIR/BIN; not put on PATH (callers add_path
# what they want there). Each binary's stamp DIR/.BIN.ok holds the hash of the module's go.mod,
# go.sum (a module of the standard library only has none) and Go files: a changed pin, or a plugin
# chosen in a main.go, rebuilds it. The progress line and the log name the binary by DIR's name,
# which holds the version (two tools' binaries may share a name: CloudNativePG's and its plugin's are
# both `manager`). LDX (optional) is appended to -ldflags "-s -w".
build_in_module() {
  local mod=$1 dir=$2; shift 2
  local hash spec bin
  hash=$({ cat "$mod/go.mod"; [ ! -e "$mod/go.sum" ] || cat "$mod/go.sum"; find "$mod" -name '*.go' | LC_ALL=C sort | xargs cat; } \
    | sha256sum | cut -c1-16)
  mkdir -p "$dir"
  for spec in "$@"; do
    bin=${spec%%=*}
    if [ -x "$dir/$bin" ] && [ "$(cat "$dir/.$bin.ok" 2>/dev/null)" = "$hash" ]; then
      progress "building $bin (${dir##*/}, cached: yes)"; continue
    fi
    progress "building $bin (${dir##*/}, cached: no)…"
    CGO_ENABLED=0 logged "$LOGS/${dir##*/}-$bin.log" \
      module_go "$mod" build "${GO_BUILD_FLAGS[@]}" -ldflags "-s -w ${LDX:-}" -o "$dir/.$bin.tmp.$$" "${spec#*=}"
    mv -f "$dir/.$bin.tmp.$$" "$dir/$bin"
    echo "$hash" >"$dir/.$bin.ok"
  done
}

# build_vendored LABEL DIR BIN VAR TARBALL SHA256 SRCDIR PKG LDX FILE... : an offline build (-mod=vendor,
# GOPROXY=off, CGO off) of PKG in the release source tarball TARBALL (the environment variable VAR
# names another one), whose sha256 must be SHA256, into
# DIR/BIN (stamp DIR/.BIN.ok), with FILE... of the source tree (under its top directory SRCDIR) copied
# beside it. The unpacked source (hundreds of MB) is removed however the build ends.
build_vendored() {
  local label=$1 dir=$2 bin=$3 var=$4 tarball=$5 want=$6 srcdir=$7 pkg=$8 ldx=$9; shift 9
  if [ -x "$dir/$bin" ] && [ -e "$dir/.$bin.ok" ]; then
    progress "building $label (cached: yes)"; return 0
  fi
  progress "building $label (cached: no)… (about a minute)"
  [ -r "$tarball" ] || { echo "install.sh: $label source $tarball not found (set $var)" >&2; exit 1; }
  local sum tmp
  sum=$(sha256sum "$tarball" | cut -d' ' -f1)
  [ "$sum" = "$want" ] || { echo "install.sh: $tarball has sha256 $sum, want $want" >&2; exit 1; }
  tmp=$(mktemp -d "$CACHE/.$(basename "$dir").XXXXXX")
  ( trap 'rm -rf "$tmp"' EXIT; trap 'exit 130' INT TERM
    tar -xzf "$tarball" -C "$tmp"
    logged "$LOGS/$(basename "$dir").log" env -C "$tmp/$srcdir" GOWORK=off GOFLAGS="-mod=vendor -buildvcs=false" \
      GOPROXY=off GOTOOLCHAIN=local CGO_ENABLED=0 GOOS=linux GOARCH=amd64 \
      go build "${GO_BUILD_FLAGS[@]}" -ldflags "-s -w $ldx" -o "$tmp/$bin" "$pkg"
    mkdir -p "$dir"
    rm -f "$dir/.$bin.ok"
    local f
    for f in "$@"; do cp -f "$tmp/$srcdir/$f" "$dir/"; done
    mv -f "$tmp/$bin" "$dir/$bin"
    touch "$dir/.$bin.ok" )
}
