package catalog

import (
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/pipewright/pipewright/pkg/images"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
)

func init() { register("python-test", pythonTest) }

func pythonTest() Entry {
	params := []v1.ParamSpec{
		contextParam(),
		strParam("requirements", "Requirements file to install first; skipped when absent.", "requirements.txt"),
		strParam("install-project", "pip install the project itself when it has a pyproject.toml (true/false).", "true"),
		strParam("pytest-args", "Extra pytest arguments, space separated.", ""),
		strParam("junit-report", "JUnit XML report file, relative to the context folder; empty turns it off.", "junit.xml"),
		logNameParam(),
	}
	return Entry{
		Name:        "python-test",
		Version:     "0.1",
		DisplayName: "Python Test (pytest)",
		Categories:  []string{"Testing"},
		Tags:        []string{"python", "pytest", "test"},
		Summary:     "Installs a Python project's requirements with pip and runs pytest.",
		Details:     "Installs into the user site (no root needed), adds pytest when the requirements do not bring it, and writes a JUnit report. The pip cache goes to the optional cache workspace.",
		Spec: v1.TaskSpec{
			Params:     params,
			Workspaces: sourceAndCache("pip cache"),
			Steps: []v1.Step{stepSpec{
				Name:       "test",
				Image:      images.Python,
				Params:     paramNames(params),
				Workspaces: []string{"source", "cache"},
				KeepLog:    true,
				CPU:        "500m", Memory: "1Gi",
				Timeout: 20 * time.Minute,
				Env:     []corev1.EnvVar{{Name: "PIP_DISABLE_PIP_VERSION_CHECK", Value: "1"}},
				Script: enterSource + `
if [ "${WORKSPACE_CACHE_BOUND}" = "true" ]; then
  export PIP_CACHE_DIR="${WORKSPACE_CACHE_PATH}/pip"
fi
export PATH="${HOME}/.local/bin:${PATH}"
if [ -f "${PARAM_REQUIREMENTS}" ]; then
  python3 -m pip install --user -r "${PARAM_REQUIREMENTS}"
fi
if [ "${PARAM_INSTALL_PROJECT}" = "true" ] && [ -f pyproject.toml ]; then
  python3 -m pip install --user .
fi
if ! python3 -c 'import pytest' 2>/dev/null; then
  python3 -m pip install --user pytest
fi
set -f
set --
if [ -n "${PARAM_JUNIT_REPORT}" ]; then
  set -- --junitxml="${PARAM_JUNIT_REPORT}"
fi
status=0
# shellcheck disable=SC2086 # pytest args are a list
python3 -m pytest "$@" ${PARAM_PYTEST_ARGS} || status=$?
if [ "${status}" -eq 5 ]; then
  # pytest's exit code 5: it found no test to run.
  echo "pytest collected no tests: add test_*.py files, or turn the test task off with build.test.disabled: true in pipewright.yaml" >&2
fi
exit "${status}"
`,
			}.build()},
		},
		Example: map[string]string{},
		Writes:  []string{"source"},
	}
}
