#!/usr/bin/env bash
# make bench-image: build and push the same small Go service
# (pkg/image/testdata/hello) with `pipewright image build` and with
# `ko build` to the same local reference registry on the same local base,
# alternating, after a warm-up that fills the Go build cache; plus a bare
# `go build` of the package. Prints per-run times, medians, the ratio to ko,
# the overhead over go build, and whether each tool gave one digest for
# all its runs.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${BENCH_RUNS:-7}"
ko_version="${KO_VERSION:-v0.18.1}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/pipewright"
ko_dir="$cache/ko-$ko_version"
pkg=./pkg/image/testdata/hello

if [ ! -x "$ko_dir/ko" ]; then
  echo "bench-image: installing ko $ko_version from the Go module proxy into $ko_dir (once)"
  mkdir -p "$ko_dir"
  GOBIN="$ko_dir" GOFLAGS=-buildvcs=false go install "github.com/google/ko@$ko_version"
fi
bash test/registry.sh >/dev/null

work=$(mktemp -d)
reg_pid=
cleanup() {
  if [ -n "$reg_pid" ]; then kill "$reg_pid" 2>/dev/null || true; wait "$reg_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
reg="127.0.0.1:$port"
cat >"$work/registry.yml" <<YAML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: $reg
YAML
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
reg_pid=$!
for _ in $(seq 100); do
  curl -fsS "http://$reg/v2/" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "http://$reg/v2/" >/dev/null || { echo "bench-image: registry did not start:"; cat "$work/registry.log"; exit 1; }
echo "bench-image: registry $(docker-registry --version | awk '{print $3}') on $reg"

echo "bench-image: building pipewright"
go build -o "$work/pipewright" ./cmd/pipewright
base=$(go run ./pkg/image/testdata/pushbase "$reg/base:bench")
echo "bench-image: base $base"

# Fixed timestamp and revision: commits landing during the benchmark must
# not change the image, so every run of a tool should give one digest.
export SOURCE_DATE_EPOCH=1700000000 CGO_ENABLED=0
rev=$(git rev-parse HEAD 2>/dev/null || echo unknown)
export KO_DOCKER_REPO="$reg/bench/ko" KO_DEFAULTBASEIMAGE="$base" KOCACHE="$work/kocache"

pw() {
  "$work/pipewright" image build --image "$reg/bench/pipewright" --base "$base" --platform linux/amd64 \
    --sbom spdx --tag latest --revision "$rev" "$pkg" 2>>"$work/pipewright.log" | tail -1
}
ko_() {
  "$ko_dir/ko" build --bare --platform linux/amd64 --sbom spdx --tags latest "$pkg" 2>/dev/null | tail -1
}
# Bare go build, two ways: into a fresh file (always links, as ko does in
# its temp folder) and over its previous output (go skips the link when
# the file is up to date, which pipewright gets from its cached output).
gob_fresh() {
  rm -f "$work/hello-fresh" && go build -trimpath -o "$work/hello-fresh" "$pkg" && echo "-"
}
gob_same() {
  go build -trimpath -o "$work/hello" "$pkg" && echo "-"
}

# ms runs a command, appends "<ms> <last output line>" to a file.
ms() {
  local out=$1; shift
  local t0 t1 line
  t0=$(date +%s%N)
  line=$("$@")
  t1=$(date +%s%N)
  echo "$(( (t1 - t0) / 1000000 )) $line" >>"$out"
}

echo "bench-image: warm-up (fills the Go build cache, pushes the base layers once)"
pw >/dev/null; ko_ >/dev/null; gob_fresh >/dev/null; gob_same >/dev/null
for i in $(seq "$runs"); do
  # Alternate which tool goes first so neither always benefits from the other.
  if [ $((i % 2)) = 1 ]; then
    ms "$work/pw" pw; ms "$work/ko" ko_
  else
    ms "$work/ko" ko_; ms "$work/pw" pw
  fi
  ms "$work/gofresh" gob_fresh; ms "$work/gosame" gob_same
  printf 'bench-image: run %d: pipewright %s ms, ko %s ms, go build %s ms (fresh) %s ms (same output)\n' "$i" \
    "$(tail -1 "$work/pw" | cut -d' ' -f1)" "$(tail -1 "$work/ko" | cut -d' ' -f1)" \
    "$(tail -1 "$work/gofresh" | cut -d' ' -f1)" "$(tail -1 "$work/gosame" | cut -d' ' -f1)"
done

median() { cut -d' ' -f1 "$1" | sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print int((a[NR/2]+a[NR/2+1])/2)}'; }
digests() { cut -d' ' -f2 "$1" | sort -u; }
pw_med=$(median "$work/pw"); ko_med=$(median "$work/ko")
fresh_med=$(median "$work/gofresh"); same_med=$(median "$work/gosame")
echo
echo "| $runs runs each, warm Go build cache, push to local docker-registry | median ms | vs ko | over go build (fresh output) | over go build (same output) |"
echo "|---|---|---|---|---|"
awk -v p="$pw_med" -v k="$ko_med" -v f="$fresh_med" -v s="$same_med" -v kv="$ko_version" 'BEGIN {
  printf "| pipewright image build | %d | %.2fx | %+d ms | %+d ms |\n", p, p / k, p - f, p - s
  printf "| ko build %s | %d | 1.00x | %+d ms | %+d ms |\n", kv, k, k - f, k - s
  printf "| go build -trimpath, fresh output file | %d | %.2fx | - | - |\n", f, f / k
  printf "| go build -trimpath, same output file | %d | %.2fx | - | - |\n", s, s / k
}'
echo
for tool in pw ko; do
  n=$(digests "$work/$tool" | wc -l)
  echo "bench-image: $tool: $n distinct digest(s) over $runs runs: $(digests "$work/$tool" | tr '\n' ' ')"
done
if [ "$(digests "$work/pw" | wc -l)" != 1 ]; then
  echo "bench-image: pipewright image build is not reproducible" >&2
  exit 1
fi
