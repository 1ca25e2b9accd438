#!/usr/bin/env bash
# Installs what the test suite needs and this machine may lack, into the
# user's cache where possible so fresh clones reuse it:
#   - shellcheck and python3-pytest from Debian's packages,
#   - golangci-lint built from its Go module at the version the go-lint Task's
#     image carries,
#   - bun from its npm package at the version of the bun-test Task's image.
set -euo pipefail
cache="${XDG_CACHE_HOME:-$HOME/.cache}/pipewright"
golangci_version="${GOLANGCI_LINT_VERSION:?set by the Makefile}"
bun_version="${BUN_VERSION:?set by the Makefile}"
mkdir -p "$cache"

missing=()
command -v shellcheck >/dev/null || missing+=(shellcheck)
/usr/bin/python3 -c 'import pytest' 2>/dev/null || missing+=(python3-pytest)
if [ ${#missing[@]} -gt 0 ]; then
  echo "tools: installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" != 0 ]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

bin="$cache/golangci-lint-$golangci_version"
if [ ! -x "$bin/golangci-lint" ]; then
  echo "tools: building golangci-lint $golangci_version from its Go module into $bin (a few minutes, once)"
  GOBIN="$bin" GOFLAGS= go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$golangci_version"
fi
bun_dir="$cache/bun-$bun_version"
if [ ! -x "$bun_dir/node_modules/.bin/bun" ]; then
  echo "tools: installing bun $bun_version from npm into $bun_dir"
  npm install --prefix "$bun_dir" --no-audit --no-fund --loglevel=error "bun@$bun_version" >/dev/null
fi
echo "tools: ready (shellcheck $(shellcheck --version | awk '/^version:/ {print $2}'), golangci-lint $golangci_version, bun $("$bun_dir/node_modules/.bin/bun" --version))"
