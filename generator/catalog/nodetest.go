package catalog

import (
	"time"

	corev1 "k8s.io/api/core/v1"

	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
)

func init() { register("node-test", nodeTest) }

func nodeTest() Entry {
	params := []v1.ParamSpec{
		contextParam(),
		strParam("script", "The package.json script to run.", "test"),
		strParam("install-flags", "Extra flags for npm ci, space separated.", "--no-audit --no-fund"),
	}
	return Entry{
		Name:        "node-test",
		Version:     "0.1",
		DisplayName: "Node.js Test (npm)",
		Categories:  []string{"Testing"},
		Tags:        []string{"node", "npm", "test"},
		Summary:     "Installs a Node.js package's dependencies with npm ci and runs its tests.",
		Details:     "Needs a package-lock.json (npm ci installs exactly what it pins). The npm cache goes to the optional cache workspace.",
		Spec: v1.TaskSpec{
			Params:     params,
			Workspaces: sourceAndCache("npm cache"),
			Steps: []v1.Step{stepSpec{
				Name:       "test",
				Image:      Node,
				Params:     paramNames(params),
				Workspaces: []string{"source", "cache"},
				CPU:        "500m", Memory: "1Gi",
				Timeout: 20 * time.Minute,
				Env:     []corev1.EnvVar{{Name: "CI", Value: "true"}},
				Script: enterSource + `
if [ "${WORKSPACE_CACHE_BOUND}" = "true" ]; then
  export npm_config_cache="${WORKSPACE_CACHE_PATH}/npm"
fi
if [ ! -f package-lock.json ]; then
  echo "package-lock.json is missing: npm ci needs it (run npm install and commit the lock file)" >&2
  exit 1
fi
set -f
# shellcheck disable=SC2086 # flags are a list
npm ci ${PARAM_INSTALL_FLAGS}
npm run "${PARAM_SCRIPT}"
`,
			}.build()},
		},
		Example: map[string]string{},
	}
}
