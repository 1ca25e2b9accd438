#!/usr/bin/env bash
# Builds the layers of the stand-in step images the one-machine node runs in
# place of the catalog's public images (no public registry is reachable here),
# into ${XDG_CACHE_HOME:-$HOME/.cache}/pipewright/standin-<name>-<version>/,
# and prints one "standin/<name>=<layer.tar.gz>" line per layer on stdout
# (progress on stderr). The harness assembles images from them with
# go-containerregistry and pushes them to the node's registry; generated
# pipelines reach them through `generate --images`.
#
#   base    debootstrap --variant=minbase of the machine's Debian suite, plus
#           git, curl, CA certificates, python3 with pytest, make
#   go      the Go toolchain the suite runs with, at /usr/local/go
#   node    the machine's Node.js and npm, at /usr/local
#   kubectl the kubectl test/tools/build.sh built, at /usr/local/bin
#   golangci-lint  the golangci-lint test/tools.sh built, at /usr/local/bin
#   buildkit  BuildKit's buildkitd and buildctl (module github.com/moby/buildkit)
#           and rootlesskit (its Dockerfile's version, from its module), with
#           Debian's runc and uidmap, laid out as moby/buildkit:<v>-rootless:
#           user 1000 with a subordinate id range, buildctl-daemonless.sh
#   pause   the Kubernetes pause program (build/pause/linux/pause.c of
#           k8s.io/kubernetes), compiled statically, at /pause
#
# Usage: standins.sh KUBECTL KUBERNETES_MODULE_DIR
#        standins.sh --prefetch   (only download the Go modules the builds need)
set -euo pipefail
buildkit_ver=${BUILDKIT_VERSION:-v0.33.1} rootlesskit_ver=${ROOTLESSKIT_VERSION:-v3.0.1}
# gomod MODULE@VERSION prints the folder of a module the Go proxy serves.
gomod() { GOWORK=off GOFLAGS=-mod=mod go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'; }
if [ "${1:-}" = --prefetch ]; then
  # The modules BuildKit's and rootlesskit's builds need, listed from a
  # writable copy of each (go may record sums in go.sum).
  for m in "github.com/moby/buildkit@$buildkit_ver ./cmd/buildkitd ./cmd/buildctl" "github.com/rootless-containers/rootlesskit/v3@$rootlesskit_ver ./cmd/rootlesskit"; do
    set -- $m
    dir=$(gomod "$1"); tmp=$(mktemp -d); shift
    cp -r "$dir/." "$tmp"; chmod -R u+w "$tmp"
    (cd "$tmp" && CGO_ENABLED=0 GOWORK=off GOFLAGS=-mod=mod go list -deps "$@" >/dev/null) || { rm -rf "$tmp"; exit 1; }
    rm -rf "$tmp"
  done
  exit 0
fi
kubectl_bin=$1 kube_src=$2
[ -x "$kubectl_bin" ] || { echo "standins: kubectl $kubectl_bin is not a program" >&2; exit 1; }
[ -f "$kube_src/build/pause/linux/pause.c" ] || { echo "standins: no build/pause/linux/pause.c in $kube_src" >&2; exit 1; }
cache="${XDG_CACHE_HOME:-$HOME/.cache}/pipewright"
say() { [ -n "${PIPEWRIGHT_BUILD_QUIET:-}" ] || echo "standins: $*" >&2; }

# layer NAME VERSION FUNC: runs FUNC ROOT to fill a folder, tars it into the
# cache unless already there.
layer() {
  local name=$1 ver=$2 fill=$3
  local out="$cache/standin-$name-$ver"
  if [ ! -s "$out/layer.tar.gz" ]; then
    local start=$SECONDS
    say "$name $ver: building (once)"
    rm -rf "$out.tmp"; mkdir -p "$out.tmp/root"
    "$fill" "$out.tmp/root"
    # Reproducible: sorted, fixed times, numeric owners, no gzip name/time.
    tar --sort=name --mtime=@0 --numeric-owner --xattrs --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' \
      -C "$out.tmp/root" -cf - . | gzip -n -1 >"$out.tmp/layer.tar.gz"
    rm -rf "$out.tmp/root"
    rm -rf "$out"; mv "$out.tmp" "$out"
    say "$name: done in $((SECONDS - start))s ($(du -h "$out/layer.tar.gz" | cut -f1) compressed)"
  fi
  echo "standin/$name=$out/layer.tar.gz"
}

# The Debian suite and mirror the machine's apt uses, so debootstrap asks the
# same archive apt does.
suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $3 !~ /security|updates/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
base_pkgs="ca-certificates,git,curl,python3,python3-pytest,make"
fill_base() {
  [ -n "$mirror" ] || { echo "standins: cannot tell the Debian mirror from /etc/apt" >&2; return 1; }
  debootstrap --variant=minbase --include="$base_pkgs" "$suite" "$1" "$mirror" >"$cache/standin-base.log" 2>&1 ||
    { tail -20 "$cache/standin-base.log" >&2; return 1; }
  rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/* "$1"/var/log/* "$1"/tmp/*
  chmod 1777 "$1/tmp"
  # A passwd entry for the uid steps run as, so tools that look the user up
  # (git, python's getpass) find one, as in distroless's nonroot user.
  echo "nonroot:x:65532:65532:nonroot:/home/nonroot:/usr/sbin/nologin" >>"$1/etc/passwd"
  echo "nonroot:x:65532:" >>"$1/etc/group"
  mkdir -p "$1/home/nonroot"; chown 65532:65532 "$1/home/nonroot"
}
base_ver="$suite-$(echo "$base_pkgs" | sha256sum | cut -c1-8)"
layer base "$base_ver" fill_base

goroot=$(go env GOROOT)
fill_go() { mkdir -p "$1/usr/local"; cp -a "$goroot" "$1/usr/local/go"; rm -rf "$1/usr/local/go/pkg/obj" "$1/usr/local/go/test"; }
layer go "$(go env GOVERSION)" fill_go

if command -v node >/dev/null && [ -d "$(dirname "$(readlink -f "$(command -v node)")")/../lib/node_modules/npm" ]; then
  node_prefix=$(cd "$(dirname "$(readlink -f "$(command -v node)")")/.." && pwd)
  fill_node() {
    mkdir -p "$1/usr/local/bin" "$1/usr/local/lib/node_modules"
    cp "$node_prefix/bin/node" "$1/usr/local/bin/node"
    cp -a "$node_prefix/lib/node_modules/npm" "$1/usr/local/lib/node_modules/npm"
    ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm"
    ln -s ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"
  }
  layer node "$(node --version)-npm$(npm --version 2>/dev/null)" fill_node
else
  say "node: no Node.js with npm on this machine; the node stand-in is left out"
fi

fill_kubectl() { mkdir -p "$1/usr/local/bin"; cp "$kubectl_bin" "$1/usr/local/bin/kubectl"; }
layer kubectl "$("$kubectl_bin" version --client -o json | sed -n 's/.*"gitVersion": *"\([^"]*\)".*/\1/p' | head -1)" fill_kubectl

lint_bin="$cache/golangci-lint-${GOLANGCI_LINT_VERSION:-v2.0.1}/golangci-lint"
if [ -x "$lint_bin" ]; then
  fill_lint() { mkdir -p "$1/usr/local/bin"; cp "$lint_bin" "$1/usr/local/bin/golangci-lint"; }
  layer golangci-lint "${GOLANGCI_LINT_VERSION:-v2.0.1}" fill_lint
else
  say "golangci-lint: $lint_bin missing (make tools builds it); the go-lint stand-in is left out"
fi

# BuildKit as its rootless image lays it out (the module's Dockerfile, stage
# rootless), from the modules the Go proxy serves and Debian's packages.
buildkit_debs="runc uidmap libsubid4 libseccomp2"
fill_buildkit() {
  local root=$1 start=$SECONDS
  mkdir -p "$root/usr/bin"
  say "buildkit: building buildkitd, buildctl $buildkit_ver and rootlesskit $rootlesskit_ver"
  # Built inside a copy of each module, with its own go.mod and go.sum
  # (`go install pkg@version` refuses modules with exclude directives).
  local src; src=$(mktemp -d)
  local mod; mod=$(gomod "github.com/moby/buildkit@$buildkit_ver")
  cp -r "$mod" "$src/buildkit"; chmod -R u+w "$src/buildkit"
  (cd "$src/buildkit" && CGO_ENABLED=0 GOWORK=off GOFLAGS=-mod=mod go build -trimpath -o "$root/usr/bin/" \
    -ldflags "-s -w -X github.com/moby/buildkit/version.Version=$buildkit_ver" ./cmd/buildkitd ./cmd/buildctl)
  say "buildkit: buildkitd and buildctl built ($((SECONDS - start))s)"
  local rk; rk=$(gomod "github.com/rootless-containers/rootlesskit/v3@$rootlesskit_ver")
  cp -r "$rk" "$src/rootlesskit"; chmod -R u+w "$src/rootlesskit"
  (cd "$src/rootlesskit" && CGO_ENABLED=0 GOWORK=off GOFLAGS=-mod=mod go build -trimpath -o "$root/usr/bin/" -ldflags "-s -w" ./cmd/rootlesskit)
  say "buildkit: rootlesskit built ($((SECONDS - start))s)"
  rm -rf "$src"
  install -m 0755 "$mod/examples/buildctl-daemonless/buildctl-daemonless.sh" "$root/usr/bin/"
  # runc runs the RUN lines; newuidmap/newgidmap give rootlesskit's user
  # namespace the subordinate ids.
  local debs; debs=$(mktemp -d)
  (cd "$debs" && apt-get download $buildkit_debs >"$cache/standin-buildkit.log" 2>&1) ||
    { tail -5 "$cache/standin-buildkit.log" >&2; rm -rf "$debs"; return 1; }
  for d in "$debs"/*.deb; do dpkg-deb -x "$d" "$root"; done
  # Debian's setuid newuidmap (shadow 4.13, built without libcap) writes the
  # map as root, who does not own the build's user namespace, so the kernel
  # refuses it without SYS_ADMIN ("write to uid_map failed: Operation not
  # permitted", seen on the node). File capabilities run it as uid 1000,
  # the namespace's owner, with only SETUID (SETGID), as shadow's own
  # capability-aware build does.
  chmod u-s "$root/usr/bin/newuidmap" "$root/usr/bin/newgidmap"
  setcap cap_setuid+ep "$root/usr/bin/newuidmap"
  setcap cap_setgid+ep "$root/usr/bin/newgidmap"
  rm -rf "$debs" "$root/usr/share/doc" "$root/usr/share/man" "$root/usr/share/lintian"
  # The base layer's passwd and group plus the image's user 1000; overlay
  # layers replace whole files, so these carry the base's lines too.
  mkdir -p "$root/etc"
  tar -xzf "$cache/standin-base-$base_ver/layer.tar.gz" -C "$root" ./etc/passwd ./etc/group
  echo "user:x:1000:1000:user:/home/user:/bin/sh" >>"$root/etc/passwd"
  echo "user:x:1000:" >>"$root/etc/group"
  echo "user:100000:65536" >"$root/etc/subuid"; cp "$root/etc/subuid" "$root/etc/subgid"
  mkdir -p "$root/run/user/1000" "$root/home/user/.local/tmp" "$root/home/user/.local/share/buildkit"
  chown -R 1000:1000 "$root/run/user/1000" "$root/home/user"
  chmod 0700 "$root/run/user/1000"
}
layer buildkit "$buildkit_ver-rootlesskit-$rootlesskit_ver-$( (apt-cache policy $buildkit_debs 2>/dev/null | sed -n 's/^ *Candidate: //p'; echo fcaps) | sha256sum | cut -c1-8)" fill_buildkit

pause_c="$kube_src/build/pause/linux/pause.c"
fill_pause() {
  gcc -Os -static -DVERSION="\"pipewright\"" -o "$1/pause" "$pause_c"
  strip "$1/pause"
}
layer pause "$(sha256sum "$pause_c" | cut -c1-12)" fill_pause
