#!/usr/bin/env bash
# Installs, from Debian's packages, what the one-machine node runs and builds:
# containerd, runc and the CNI plugins (the container runtime), debootstrap
# (stand-in step images), setcap (the BuildKit stand-in), gcc's static libc (the pause image), iproute2,
# iptables (the Service proxy's DNAT rules), git (http-backend for the git
# server), and the registry (test/registry.sh).
# The packages' own services are never started: policy-rc.d refuses them, and
# the harness runs containerd inside its private namespaces with its own
# config and state folder.
set -euo pipefail
need=()
command -v containerd >/dev/null || need+=(containerd)
command -v runc >/dev/null || need+=(runc)
[ -x /usr/lib/cni/bridge ] || need+=(containernetworking-plugins)
command -v debootstrap >/dev/null || need+=(debootstrap)
[ -e /usr/lib/x86_64-linux-gnu/libc.a ] || [ -e /usr/lib/aarch64-linux-gnu/libc.a ] || need+=(libc6-dev)
command -v ip >/dev/null || need+=(iproute2)
[ -x /usr/lib/git-core/git-http-backend ] || need+=(git)
command -v unshare >/dev/null || need+=(util-linux)
# setcap gives the BuildKit stand-in's newuidmap/newgidmap file capabilities.
command -v setcap >/dev/null || [ -x /usr/sbin/setcap ] || need+=(libcap2-bin)
# The Service proxy sends ClusterIP traffic to its ports with DNAT rules.
command -v iptables >/dev/null || [ -x /usr/sbin/iptables ] || need+=(iptables)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then sudo=sudo; else sudo=; fi
  echo "node: installing Debian packages: ${need[*]}" >&2
  policy=/usr/sbin/policy-rc.d created_policy=
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod +x "$policy"
    created_policy=1
  fi
  trap '[ -z "$created_policy" ] || $sudo rm -f "$policy"' EXIT
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # A package whose unit got enabled anyway must not run outside the harness.
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    $sudo systemctl disable --now containerd >/dev/null 2>&1 || true
  fi
fi
bash "$(dirname "$0")/registry.sh" >&2
echo "node: containerd $(containerd --version | awk '{print $3}'), runc $(runc --version | awk 'NR==1{print $3}'), CNI plugins in /usr/lib/cni" >&2
