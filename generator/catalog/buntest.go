package catalog

import (
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/pipewright/pipewright/pkg/images"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
)

func init() { register("bun-test", bunTest) }

func bunTest() Entry {
	params := []v1.ParamSpec{
		contextParam(),
		strParam("script", "The package.json script to run with bun run; empty runs bun's own test runner, bun test.", ""),
		logNameParam(),
	}
	return Entry{
		Name:        "bun-test",
		Version:     "0.1",
		DisplayName: "Bun Test",
		Categories:  []string{"Testing"},
		Tags:        []string{"bun", "javascript", "typescript", "test"},
		Summary:     "Installs a Bun project's dependencies from its lock file and runs bun test (or a package.json script).",
		Details: "bun install --frozen-lockfile installs exactly what bun.lock (or the older binary bun.lockb) pins and fails " +
			"when package.json has moved on without it; a missing lock file fails with a hint. Bun's package cache goes to " +
			"the optional cache workspace.",
		Spec: v1.TaskSpec{
			Params:     params,
			Workspaces: sourceAndCache("Bun package cache"),
			Steps: []v1.Step{stepSpec{
				Name:       "test",
				Image:      images.Bun,
				Params:     paramNames(params),
				Workspaces: []string{"source", "cache"},
				KeepLog:    true,
				CPU:        "500m", Memory: "1Gi",
				Timeout: 20 * time.Minute,
				Env:     []corev1.EnvVar{{Name: "CI", Value: "true"}},
				Script: enterSource + `
if [ "${WORKSPACE_CACHE_BOUND}" = "true" ]; then
  export BUN_INSTALL_CACHE_DIR="${WORKSPACE_CACHE_PATH}/bun"
fi
if [ ! -f bun.lock ] && [ ! -f bun.lockb ]; then
  echo "bun.lock is missing: installs must be pinned (run bun install and commit bun.lock)" >&2
  exit 1
fi
bun install --frozen-lockfile
if [ -n "${PARAM_SCRIPT}" ]; then
  bun run "${PARAM_SCRIPT}"
else
  bun test
fi
`,
			}.build()},
		},
		Example:    map[string]string{},
		Writes:     []string{"source"},
		RoleParams: map[string]map[string]string{"lint": {"script": "lint"}},
	}
}
