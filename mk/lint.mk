# pipewright lint on the repository's own Tekton YAML (issue 10). `lint` is
# gofmt/vet; this is lint-yaml.
LINT_YAML_DIRS := $(wildcard tasks pipelines triggers examples/*/tekton)

.PHONY: lint-yaml bench-lint

## lint-yaml: the committed tasks/, pipelines/ and triggers/ must lint clean (any severity)
lint-yaml:
	$(GO) run ./cmd/pipewright lint --fail-on note $(LINT_YAML_DIRS)
	@echo "lint-yaml: $(LINT_YAML_DIRS) lint clean"

test: lint-yaml

## bench-lint: lint 1,000 Task files from disk (goals: under 2 s on 2 cores, cpu-s/op/2 when loaded; peak-x under 5)
bench-lint:
	$(GO) test -run '^$$' -bench BenchmarkLint1000Tasks -benchtime 5x ./pkg/lint

bench: bench-lint
