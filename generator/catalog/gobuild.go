package catalog

import (
	"time"

	"github.com/pipewright/pipewright/pkg/images"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
)

func init() { register("go-build", goBuild) }

func goBuild() Entry {
	params := []v1.ParamSpec{
		contextParam(),
		strParam("packages", "Packages to build.", "./..."),
		strParam("output", "Folder, relative to the context folder, to put binaries in.", "bin"),
		strParam("goos", "Target operating system (GOOS).", "linux"),
		strParam("goarch", "Target architecture (GOARCH).", "amd64"),
		strParam("cgo-enabled", "CGO_ENABLED: 0 for static binaries.", "0"),
		strParam("ldflags", "Linker flags, e.g. -s -w -X main.version=1.2.3.", "-s -w"),
		strParam("flags", "Extra go build flags, space separated.", "-trimpath"),
		strParam("goflags", "GOFLAGS for the Go toolchain.", "-mod=readonly"),
	}
	return Entry{
		Name:        "go-build",
		Version:     "0.1",
		DisplayName: "Go Build",
		Categories:  []string{"Build Tools"},
		Tags:        []string{"go", "build"},
		Summary:     "Builds Go packages for a target platform.",
		Details:     "Cross-compiles with GOOS, GOARCH and CGO_ENABLED and writes the binaries into a folder of the source workspace, and their names as the binaries result.",
		Spec: v1.TaskSpec{
			Params:     params,
			Workspaces: sourceAndCache("Go module and build cache"),
			Results:    []v1.TaskResult{result("binaries", "Space-separated paths of the built binaries, relative to the context folder.")},
			Steps: []v1.Step{stepSpec{
				Name:       "build",
				Image:      images.Golang,
				Params:     paramNames(params),
				Workspaces: []string{"source", "cache"},
				Results:    []string{"binaries"},
				CPU:        "1", Memory: "2Gi",
				Timeout: 20 * time.Minute,
				Script: enterSource + goCache + trustCheckout + `
export GOFLAGS="${PARAM_GOFLAGS}" GOOS="${PARAM_GOOS}" GOARCH="${PARAM_GOARCH}" CGO_ENABLED="${PARAM_CGO_ENABLED}"
mkdir -p "${PARAM_OUTPUT}"
set -f
# shellcheck disable=SC2086 # flags and packages are lists
go build ${PARAM_FLAGS} -ldflags="${PARAM_LDFLAGS}" -o "${PARAM_OUTPUT}/" ${PARAM_PACKAGES}
set +f
built=""
for f in "${PARAM_OUTPUT}"/*; do
  [ -f "${f}" ] && built="${built:+${built} }${f}"
done
printf '%s' "${built}" > "${RESULT_BINARIES_PATH}"
echo "built: ${built}"
`,
			}.build()},
		},
		Example: map[string]string{"goarch": "arm64"},
		Writes:  []string{"source"}, // the binaries, under output
	}
}
