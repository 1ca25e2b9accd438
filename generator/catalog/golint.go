package catalog

import (
	"time"

	"github.com/pipewright/pipewright/pkg/images"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
)

func init() { register("go-lint", goLint) }

func goLint() Entry {
	params := []v1.ParamSpec{
		contextParam(),
		strParam("packages", "Packages to lint.", "./..."),
		strParam("flags", "Extra golangci-lint run flags, space separated.", "--timeout=10m"),
		strParam("goflags", "GOFLAGS for the Go toolchain.", "-mod=readonly"),
		logNameParam(),
	}
	return Entry{
		Name:        "go-lint",
		Version:     "0.1",
		DisplayName: "Go Lint (golangci-lint)",
		Categories:  []string{"Code Quality", "Linter"},
		Tags:        []string{"go", "lint"},
		Summary:     "Lints a Go module with golangci-lint.",
		Details: "Runs golangci-lint with the module's own configuration (.golangci.yml) if it has one. " +
			"Findings fail the Task; the Go and lint caches go to the optional cache workspace.",
		Spec: v1.TaskSpec{
			Params:     params,
			Workspaces: sourceAndCache("Go module and build cache, golangci-lint cache"),
			Steps: []v1.Step{stepSpec{
				Name:       "lint",
				Image:      images.GolangciLint,
				Params:     paramNames(params),
				Workspaces: []string{"source", "cache"},
				KeepLog:    true,
				CPU:        "1", Memory: "2Gi",
				Timeout: 20 * time.Minute,
				Script: enterSource + goCache + trustCheckout + `
export GOFLAGS="${PARAM_GOFLAGS}"
set -f # packages like ./... are patterns for Go, not for the shell
# shellcheck disable=SC2086 # flags and packages are lists
golangci-lint run ${PARAM_FLAGS} ${PARAM_PACKAGES}
`,
			}.build()},
		},
		Example: map[string]string{},
	}
}
