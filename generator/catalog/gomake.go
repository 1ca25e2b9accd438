package catalog

import (
	"time"

	"github.com/pipewright/pipewright/pkg/images"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
)

func init() { register("go-make", goMake) }

// goMake runs a Go project's own make targets, as Jenkins X's build packs
// run the project's Makefile: the golang image (Debian) has make, and the
// Go caches go to the cache workspace as for go-test.
func goMake() Entry {
	params := []v1.ParamSpec{
		contextParam(),
		strParam("targets", "The make targets to run, in order, space separated (e.g. build test).", "test"),
		strParam("goflags", "GOFLAGS for the Go toolchain the targets run.", "-mod=readonly"),
		logNameParam(),
	}
	return Entry{
		Name:        "go-make",
		Version:     "0.1",
		DisplayName: "Go Make",
		Categories:  []string{"Build Tools", "Testing"},
		Tags:        []string{"go", "make"},
		Summary:     "Runs a Go project's own Makefile targets (make lint, make test) with the Go toolchain.",
		Details: "Runs make with each target in turn in the context folder, in the golang image, whose Debian base has make " +
			"and git. A target that needs a tool the image lacks (golangci-lint, protoc) fails naming it; install it in " +
			"the target (go run tool@version) or keep the pack's own Tasks. A Makefile without one of the targets fails " +
			"before running anything.",
		Spec: v1.TaskSpec{
			Params:     params,
			Workspaces: sourceAndCache("Go module and build cache"),
			Steps: []v1.Step{stepSpec{
				Name:       "make",
				Image:      images.Golang,
				Params:     paramNames(params),
				Workspaces: []string{"source", "cache"},
				KeepLog:    true,
				CPU:        "1", Memory: "2Gi",
				Timeout: 30 * time.Minute,
				Script: enterSource + goCache + trustCheckout + `
export GOFLAGS="${PARAM_GOFLAGS}"
set -f
# shellcheck disable=SC2086 # targets are a list
set -- ${PARAM_TARGETS}
for target in "$@"; do
  # make -q exits 2 for an unknown target, 0 or 1 for a known one.
  rc=0
  make -q "${target}" >/dev/null 2>&1 || rc=$?
  if [ "${rc}" -gt 1 ]; then
    echo "go-make: the Makefile has no target ${target}: add it, or set the targets param (build.lint.params.targets, build.test.params.targets)" >&2
    exit 1
  fi
done
for target in "$@"; do
  echo "go-make: make ${target}"
  make "${target}"
done
`,
			}.build()},
		},
		Example:    map[string]string{"targets": "test"},
		Writes:     []string{"source"},
		RoleParams: map[string]map[string]string{"lint": {"targets": "lint"}, "test": {"targets": "test"}},
	}
}
