package catalog

import (
	"time"

	"github.com/pipewright/pipewright/pkg/images"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
)

func init() { register("go-test", goTest) }

func goTest() Entry {
	params := []v1.ParamSpec{
		contextParam(),
		strParam("packages", "Packages to test.", "./..."),
		strParam("race", "Run with the race detector (true/false).", "true"),
		strParam("flags", "Extra go test flags, space separated.", ""),
		strParam("coverprofile", "Coverage profile file, relative to the context folder.", "coverage.out"),
		strParam("junit-report", "JUnit XML report file, relative to the context folder; empty turns it off.", "junit.xml"),
		strParam("gotestsum-version", "gotestsum version used to write the JUnit report.", "v1.13.0"),
		strParam("goflags", "GOFLAGS for the Go toolchain.", "-mod=readonly"),
		logNameParam(),
	}
	return Entry{
		Name:        "go-test",
		Version:     "0.1",
		DisplayName: "Go Test",
		Categories:  []string{"Testing"},
		Tags:        []string{"go", "test"},
		Summary:     "Runs a Go module's tests with the race detector and coverage.",
		Details: "Writes a coverage profile and a JUnit report (through gotestsum, fetched by version from the " +
			"module proxy) into the source workspace and the total statement coverage, in percent, as the coverage result.",
		Spec: v1.TaskSpec{
			Params:     params,
			Workspaces: sourceAndCache("Go module and build cache"),
			Results:    []v1.TaskResult{result("coverage", "Total statement coverage in percent, e.g. 83.4.")},
			Steps: []v1.Step{stepSpec{
				Name:       "test",
				Image:      images.Golang,
				Params:     paramNames(params),
				Workspaces: []string{"source", "cache"},
				KeepLog:    true,
				Results:    []string{"coverage"},
				CPU:        "1", Memory: "2Gi",
				Timeout: 30 * time.Minute,
				Script: enterSource + goCache + `
export GOFLAGS="${PARAM_GOFLAGS}"
set -f
set -- -coverprofile="${PARAM_COVERPROFILE}" -covermode=atomic
if [ "${PARAM_RACE}" = "true" ]; then
  set -- "$@" -race
fi
# shellcheck disable=SC2086 # flags and packages are lists
if [ -n "${PARAM_JUNIT_REPORT}" ]; then
  go run "gotest.tools/gotestsum@${PARAM_GOTESTSUM_VERSION}" \
    --format testname --junitfile "${PARAM_JUNIT_REPORT}" -- "$@" ${PARAM_FLAGS} ${PARAM_PACKAGES}
else
  go test "$@" ${PARAM_FLAGS} ${PARAM_PACKAGES}
fi
total=$(go tool cover -func="${PARAM_COVERPROFILE}" | awk '/^total:/ { sub("%", "", $NF); print $NF }')
printf '%s' "${total:-0}" > "${RESULT_COVERAGE_PATH}"
echo "coverage: ${total:-0}%"
`,
			}.build()},
		},
		Example: map[string]string{"race": "true"},
		Writes:  []string{"source"},
	}
}
