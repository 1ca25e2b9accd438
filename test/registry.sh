#!/usr/bin/env bash
# Installs the reference registry server (distribution's `registry`, Debian
# package docker-registry) for the integration tests. Only the binary is
# used: tests start it on loopback with their own temporary config, so the
# package's own service is stopped and disabled if its scripts started it.
set -euo pipefail
if command -v docker-registry >/dev/null; then
  echo "registry: $(docker-registry --version 2>/dev/null || echo docker-registry) already installed"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then sudo=sudo; else sudo=; fi
echo "registry: installing Debian package docker-registry"
# policy-rc.d 101 keeps the package's postinst from starting a daemon on :5000.
policy=/usr/sbin/policy-rc.d
created_policy=
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
  $sudo chmod +x "$policy"
  created_policy=1
fi
cleanup() { if [ -n "$created_policy" ]; then $sudo rm -f "$policy"; fi; }
trap cleanup EXIT
if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq docker-registry >/dev/null; then
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq docker-registry >/dev/null
fi
echo "registry: installed $(command -v docker-registry)"
