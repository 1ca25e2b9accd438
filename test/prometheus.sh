#!/usr/bin/env bash
# Prints the path of a Prometheus server binary for the canary tests,
# installing Debian's `prometheus` package first if there is none. The
# package's system service is never started: policy-rc.d forbids it during the
# install, and the tests run the binary themselves on loopback.
# Exit status 3 means it cannot be installed here (the reason is on stderr).
set -euo pipefail
say() { echo "prometheus.sh: $*" >&2; }

if p=$(command -v prometheus); then
  echo "$p"; exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  say "no prometheus on PATH and cannot apt-get install it (needs root on Debian/Ubuntu)"; exit 3
fi
say "installing Debian's prometheus package (apt-get, a minute)"
guard=
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  guard=1
fi
status=0
# A new machine may have no package lists yet: update once and retry.
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus >&2 ||
  { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus >&2; } ||
  status=$?
[ -z "$guard" ] || rm -f /usr/sbin/policy-rc.d
if [ "$status" != 0 ] || ! p=$(command -v prometheus); then
  say "apt-get install prometheus failed (status $status)"; exit 3
fi
echo "$p"
