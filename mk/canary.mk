# canary: pkg/canary against a real Prometheus (Debian's package, installed by
# test/prometheus.sh) and, for canary-e2e, the real kube-apiserver of
# test/controlplane (needs root; builds the control plane's programs once).
.PHONY: canary canary-e2e
# The real-API-server run is part of the suite; `go test ./...` runs the rest.
test: canary-e2e

## canary: canary analysis and releases against real Prometheus (Kubernetes half on fake clients)
canary:
	$(GO) test -count=1 -timeout 5m ./pkg/canary

## canary-e2e: the same tests with the Kubernetes half on a real kube-apiserver
canary-e2e: e2e-tools
	@bash test/prometheus.sh >/dev/null
	@sh test/crds.sh
	$(GO) vet -tags e2e ./pkg/canary
	$(GO) test -tags e2e -count=1 -timeout 10m -v ./pkg/canary
