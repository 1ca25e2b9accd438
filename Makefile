# pipewright's developer entry points. `make test` is the whole suite; CI runs
# it through .ci/run.
SHELL := /bin/bash
CACHE := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/pipewright
# The go-lint Task's image carries this golangci-lint; tests use the same.
export GOLANGCI_LINT_VERSION := v2.0.1
# The bun-test Task's image is oven/bun at this version; tests run the same
# bun, installed from its npm package.
export BUN_VERSION := 1.3.14
export PATH := $(CACHE)/golangci-lint-$(GOLANGCI_LINT_VERSION):$(CACHE)/bun-$(BUN_VERSION)/node_modules/.bin:$(PATH)
GO ?= go
# Generated top-level folders of this repository.
GENERATED := tasks pipelines triggers

.PHONY: all generate verify test unit tools lint bench example
all: generate test

# Each area adds its own targets (e2e, bench-image, ...) in mk/<area>.mk.
-include mk/*.mk

## generate: rewrite the committed catalog (tasks/, pipelines/, triggers/)
generate:
	$(GO) run ./cmd/pipewright catalog -o .

## verify: fail when the committed YAML differs from what the generator emits
verify:
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(GO) run ./cmd/pipewright catalog -o "$$tmp" >/dev/null || exit 1; \
	status=0; for d in $(GENERATED); do \
	  if [ -e "$$tmp/$$d" ] || [ -e "$$d" ]; then \
	    diff -r "$$d" "$$tmp/$$d" || status=1; \
	  fi; \
	done; \
	if [ $$status != 0 ]; then echo "verify: committed YAML is stale; run make generate" >&2; exit 1; fi; \
	echo "verify: committed YAML matches the generator"

## tools: install what the tests need (cached)
tools:
	@bash test/tools.sh

## lint: gofmt, go vet and a tidy go.mod
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@$(GO) mod tidy -diff || { echo "lint: go.mod/go.sum are not tidy; run go mod tidy" >&2; exit 1; }

## test: the whole suite (tools, lint, verify, all Go tests)
test: tools lint verify unit

unit:
	PIPEWRIGHT_REQUIRE_TOOLS=1 $(GO) test -count=1 ./...

## example: the main job on the built-in example project
example:
	$(GO) run ./cmd/pipewright generate

## bench: generation benchmark (1, 10, 100, 1000 services); areas add theirs in mk/
bench:
	$(GO) test -run '^$$' -bench BenchmarkGenerate -benchmem -benchtime 3x ./generator/ | tee bench-generate.txt
