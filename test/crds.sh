#!/bin/sh
# Download the Go modules whose CRDs pkg/canary's real-API-server tests
# apply (see pkg/canary/testdata/README.md) into the Go module cache, from
# the module proxy; later runs find them there. Keep in step with
# upstreamCRDs in pkg/canary/kube_e2e_test.go.
set -eu
cd "${TMPDIR:-/tmp}"
for m in sigs.k8s.io/gateway-api@v1.6.1 github.com/fluxcd/flagger@v1.44.0 github.com/argoproj/argo-rollouts@v1.9.1; do
  echo "crds: go mod download $m"
  GOFLAGS=-mod=mod GO111MODULE=on go mod download "$m"
done
