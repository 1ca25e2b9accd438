# Images, bundles and pinning (pkg/image, pkg/bundle, pkg/pin).
.PHONY: bench-image registry-server

## bench-image: pipewright image build vs ko build vs bare go build, same service, base and local registry
bench-image:
	@bash test/bench-image.sh

# The integration tests use the reference registry server; install it once
# before the Go tests run in parallel.
registry-server:
	@bash test/registry.sh

tools: registry-server

.PHONY: pin pin-check
## pin: resolve the catalog's image table through the registries into pkg/images/images.lock.json
pin:
	$(GO) run ./cmd/pipewright pin -f pkg/images/images.lock.json

## pin-check: fail when a tag in the catalog's lock has moved (needs the registries)
pin-check:
	$(GO) run ./cmd/pipewright pin --check -f pkg/images/images.lock.json
