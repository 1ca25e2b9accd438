#!/usr/bin/env bash
# Builds the programs the e2e control plane runs, from the pinned Go modules in
# test/tools/kube, test/tools/tekton and test/tools/traefik, into
#   ${XDG_CACHE_HOME:-$HOME/.cache}/pipewright/<name>-<version>/
# and prints one "name/program=path" line per program on stdout (progress goes to
# stderr). A directory is rebuilt only when its modules, flags or the Go
# version change, so a warm run costs a few `go list` calls.
#
# Cold it takes long: 44 minutes measured on 2 cores shared with other builds
# (kube-apiserver alone 36). Set PIPEWRIGHT_BUILD_QUIET=1 to drop the
# progress lines.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/pipewright"
mkdir -p "$cache"
export GOFLAGS="-mod=readonly -buildvcs=false"
export GOWORK=off

say() { [ -n "${PIPEWRIGHT_BUILD_QUIET:-}" ] || echo "build: $*" >&2; }

# version MODDIR MODULE prints the version MODDIR's go.mod selects for MODULE.
version() { (cd "$1" && go list -m -f '{{.Version}}' "$2"); }

# build NAME VERSION MODDIR LDFLAGS PKG:BIN... builds each main package PKG
# into $cache/NAME-VERSION/BIN unless the stamp says it is current.
# CGO_ENABLED and BUILD_FLAGS (more go build flags), when set, take part.
build() {
  local name=$1 ver=$2 moddir=$3 ldflags=$4; shift 4
  local out="$cache/$name-$ver"
  local stamp
  # What decides the output: the pinned modules, the flags, the packages and
  # the Go toolchain.
  stamp=$( (cat "$moddir/go.mod" "$moddir/go.sum"; echo "$ldflags $*${CGO_ENABLED:+ cgo=$CGO_ENABLED}${BUILD_FLAGS:+ flags=$BUILD_FLAGS}"; go version) | sha256sum | cut -c1-16)
  local bins=() spec
  for spec in "$@"; do bins+=("${spec##*:}"); done
  if [ "$(cat "$out/.stamp" 2>/dev/null)" = "$stamp" ]; then
    for b in "${bins[@]}"; do echo "$name/$b=$out/$b"; done
    return
  fi
  say "$name $ver: building ${bins[*]} into $out (minutes when cold)"
  mkdir -p "$out"
  local log="$out/.build.log" start=$SECONDS
  : >"$log"
  for spec in "$@"; do
    local pkg=${spec%%:*} bin=${spec##*:}
    # -v names each package as it compiles; counting them is the progress.
    if ! (cd "$moddir" && go build -v ${BUILD_FLAGS:-} -ldflags "$ldflags" -o "$out/$bin.tmp" "$pkg") 2>&1 |
      tee -a "$log" | awk -v what="$name/$bin" -v quiet="${PIPEWRIGHT_BUILD_QUIET:-}" '
        /^[a-zA-Z0-9._-]+(\/[^ ]*)?$/ { n++; if (!quiet && n % 200 == 0) printf "build:   %s: %d packages compiled\n", what, n > "/dev/stderr" }'
    then
      echo "build: $name/$bin failed; last lines of $log:" >&2
      tail -40 "$log" >&2
      exit 1
    fi
    if [ ! -x "$out/$bin.tmp" ]; then
      echo "build: $name/$bin produced no binary; see $log" >&2
      tail -40 "$log" >&2
      exit 1
    fi
    mv "$out/$bin.tmp" "$out/$bin"
    say "$name/$bin: done ($((SECONDS - start))s so far)"
  done
  echo "$stamp" >"$out/.stamp"
  for b in "${bins[@]}"; do echo "$name/$b=$out/$b"; done
}

kube="$here/kube"
tekton="$here/tekton"
traefik="$here/traefik"

# Downloads are network-bound and the compiles CPU-bound: fetch the modules of
# the later slow builds (Tekton, Traefik, BuildKit's stand-in) in the
# background while Kubernetes compiles. Go's module cache is safe for
# concurrent use; a failed prefetch only means the build downloads itself.
prefetch_log="$cache/.prefetch.log"
tekton_cmds="pipeline/cmd/controller pipeline/cmd/webhook pipeline/cmd/entrypoint pipeline/cmd/nop pipeline/cmd/workingdirinit
  pipeline/cmd/sidecarlogresults triggers/cmd/controller triggers/cmd/webhook triggers/cmd/eventlistenersink triggers/cmd/interceptors"
( (cd "$tekton" && go list -deps $(printf 'github.com/tektoncd/%s ' $tekton_cmds) >/dev/null) &&
  (cd "$traefik" && CGO_ENABLED=0 go list -deps github.com/traefik/traefik/v3/cmd/traefik >/dev/null) &&
  bash "$here/standins.sh" --prefetch ) >"$prefetch_log" 2>&1 &
prefetch=$!

kver=$(version "$kube" k8s.io/kubernetes)
kminor=${kver#v1.}; kminor=${kminor%%.*}
kldflags="-X k8s.io/component-base/version.gitVersion=$kver -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$kminor -X k8s.io/component-base/version.gitTreeState=clean"
build etcd "$(version "$kube" go.etcd.io/etcd/server/v3)" "$kube" "" go.etcd.io/etcd/server/v3:etcd
build kube-apiserver "$kver" "$kube" "$kldflags" k8s.io/kubernetes/cmd/kube-apiserver:kube-apiserver
build kubectl "$kver" "$kube" "$kldflags" k8s.io/kubernetes/cmd/kubectl:kubectl
# The node: kubelet and the two controllers a Deployment and a Pending Pod need.
# Built after kube-apiserver so most of their packages come from the build cache.
build kube-node "$kver" "$kube" "$kldflags" \
  k8s.io/kubernetes/cmd/kubelet:kubelet \
  k8s.io/kubernetes/cmd/kube-scheduler:kube-scheduler \
  k8s.io/kubernetes/cmd/kube-controller-manager:kube-controller-manager

pver=$(version "$tekton" github.com/tektoncd/pipeline)
build tekton-pipelines "$pver" "$tekton" "" \
  github.com/tektoncd/pipeline/cmd/controller:controller \
  github.com/tektoncd/pipeline/cmd/webhook:webhook
tver=$(version "$tekton" github.com/tektoncd/triggers)
build tekton-triggers "$tver" "$tekton" "" \
  github.com/tektoncd/triggers/cmd/controller:controller \
  github.com/tektoncd/triggers/cmd/webhook:webhook \
  github.com/tektoncd/triggers/cmd/eventlistenersink:eventlistenersink \
  github.com/tektoncd/triggers/cmd/interceptors:interceptors

# The Gateway API implementation in front of canary releases. The harness
# builds its image with pipewright's image builder (static, -trimpath) inside
# the sandbox, which has no network and little time: building it here with
# the same compile flags fills the module and build caches that build needs.
# Cold: about 2.7 GB of modules and 2.5 GB of build cache; 43 minutes measured
# on 2 cores shared with other builds (about 2000 packages).
trver=$(version "$traefik" github.com/traefik/traefik/v3)
CGO_ENABLED=0 BUILD_FLAGS=-trimpath build traefik "$trver" "$traefik" "-X github.com/traefik/traefik/v3/pkg/version.Version=$trver" \
  github.com/traefik/traefik/v3/cmd/traefik:traefik

# Tekton's helper images (entrypoint, nop, ...) are built by the harness with
# pipewright image build inside its sandbox, which has no network: fetch their
# modules now.
(cd "$tekton" && go list -deps github.com/tektoncd/pipeline/cmd/entrypoint github.com/tektoncd/pipeline/cmd/nop \
  github.com/tektoncd/pipeline/cmd/workingdirinit github.com/tektoncd/pipeline/cmd/sidecarlogresults >/dev/null)

wait "$prefetch" || say "module prefetch failed (see $prefetch_log); the builds download what they need"

# The node's runtime (Debian's containerd, runc, CNI plugins) and the layers
# of the stand-in step images.
bash "$here/../node-packages.sh"
bash "$here/standins.sh" "$cache/kubectl-$kver/kubectl" "$(cd "$kube" && go list -m -f '{{.Dir}}' k8s.io/kubernetes)"

# The Tekton releases' own install manifests, straight from the module cache
# (downloaded here in case the binaries were cached but the modules not).
(cd "$tekton" && go mod download github.com/tektoncd/pipeline github.com/tektoncd/triggers)
echo "tekton-pipelines-config=$(cd "$tekton" && go list -m -f '{{.Dir}}' github.com/tektoncd/pipeline)/config"
echo "tekton-triggers-config=$(cd "$tekton" && go list -m -f '{{.Dir}}' github.com/tektoncd/triggers)/config"
# The Gateway API CRDs (standard channel) of the version Traefik requires, and
# the RBAC Traefik documents for its Gateway API provider.
(cd "$traefik" && go mod download sigs.k8s.io/gateway-api github.com/traefik/traefik/v3)
echo "gateway-api-crds=$(cd "$traefik" && go list -m -f '{{.Dir}}' sigs.k8s.io/gateway-api)/config/crd/standard"
echo "traefik-gateway-rbac=$(cd "$traefik" && go list -m -f '{{.Dir}}' github.com/traefik/traefik/v3)/docs/content/reference/dynamic-configuration/kubernetes-gateway-rbac.yml"
