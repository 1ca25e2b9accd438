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
