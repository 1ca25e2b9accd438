package catalog

import (
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/pipewright/pipewright/pkg/images"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
)

func init() { register("node-test", nodeTest) }

func nodeTest() Entry {
	params := []v1.ParamSpec{
		contextParam(),
		strParam("script", "The package.json script to run.", "test"),
		strParam("package-manager", "npm, yarn or pnpm (yarn and pnpm run through corepack).", "npm"),
		strParam("install-flags", "Extra flags for npm ci, space separated.", "--no-audit --no-fund"),
		logNameParam(),
	}
	return Entry{
		Name:        "node-test",
		Version:     "0.1",
		DisplayName: "Node.js Test (npm)",
		Categories:  []string{"Testing"},
		Tags:        []string{"node", "npm", "test"},
		Summary:     "Installs a Node.js package's dependencies from its lock file and runs a package.json script.",
		Details: "npm ci, yarn install --immutable or pnpm install --frozen-lockfile install exactly what the lock file pins; " +
			"a missing lock file fails with a hint. The package manager's cache goes to the optional cache workspace.",
		Spec: v1.TaskSpec{
			Params:     params,
			Workspaces: sourceAndCache("npm cache"),
			Steps: []v1.Step{stepSpec{
				Name:       "test",
				Image:      images.Node,
				Params:     paramNames(params),
				Workspaces: []string{"source", "cache"},
				KeepLog:    true,
				CPU:        "500m", Memory: "1Gi",
				Timeout: 20 * time.Minute,
				Env:     []corev1.EnvVar{{Name: "CI", Value: "true"}},
				Script: enterSource + `
cache="${HOME}/.cache"
if [ "${WORKSPACE_CACHE_BOUND}" = "true" ]; then
  cache="${WORKSPACE_CACHE_PATH}"
fi
export npm_config_cache="${cache}/npm" YARN_CACHE_FOLDER="${cache}/yarn" COREPACK_HOME="${cache}/corepack"
case "${PARAM_PACKAGE_MANAGER}" in
  npm) lock=package-lock.json ;;
  yarn) lock=yarn.lock ;;
  pnpm) lock=pnpm-lock.yaml ;;
  *) echo "package-manager must be npm, yarn or pnpm, not ${PARAM_PACKAGE_MANAGER}" >&2; exit 1 ;;
esac
if [ ! -f "${lock}" ]; then
  echo "${lock} is missing: installs must be pinned (run ${PARAM_PACKAGE_MANAGER} install and commit the lock file)" >&2
  exit 1
fi
set -f
case "${PARAM_PACKAGE_MANAGER}" in
  npm)
    # shellcheck disable=SC2086 # flags are a list
    npm ci ${PARAM_INSTALL_FLAGS}
    npm run "${PARAM_SCRIPT}" ;;
  yarn)
    corepack yarn install --immutable
    corepack yarn run "${PARAM_SCRIPT}" ;;
  pnpm)
    corepack pnpm install --frozen-lockfile
    corepack pnpm run "${PARAM_SCRIPT}" ;;
esac
`,
			}.build()},
		},
		Example:    map[string]string{},
		Writes:     []string{"source"},
		RoleParams: map[string]map[string]string{"lint": {"script": "lint"}},
	}
}
