package catalog

import (
	"time"

	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
)

func init() { register("kubectl-apply", kubectlApply) }

func kubectlApply() Entry {
	params := []v1.ParamSpec{
		strParam("path", "Folder of manifests inside the source workspace (applied with -R; a kustomization.yaml makes it -k).", "k8s"),
		strParam("namespace", "Namespace to apply into; empty uses the manifests' own or the service account's.", ""),
		strParam("deployment", "Deployment whose rollout to wait for; empty skips the wait.", ""),
		strParam("container", "Container of that Deployment to set the image of; empty leaves images as applied.", ""),
		strParam("image", "Image reference (ideally by digest) to set on that container.", ""),
		strParam("rollout-timeout", "How long to wait for the rollout.", "5m"),
	}
	return Entry{
		Name:        "kubectl-apply",
		Version:     "0.1",
		DisplayName: "kubectl apply",
		Categories:  []string{"Deployment"},
		Tags:        []string{"kubernetes", "deploy"},
		Summary:     "Applies a folder of Kubernetes manifests and waits for a Deployment's rollout.",
		Details: "Applies with server-side apply, optionally sets one container's image (the digest a build produced), " +
			"and waits for the rollout with a timeout; a rollout that does not finish fails the Task. " +
			"Runs with the TaskRun's service account, which needs rights to the objects applied.",
		Spec: v1.TaskSpec{
			Params:     params,
			Workspaces: []v1.WorkspaceDeclaration{workspace("source", "The checked-out source holding the manifests.", false)},
			Steps: []v1.Step{stepSpec{
				Name:       "apply",
				Image:      Kubectl,
				Params:     paramNames(params),
				Workspaces: []string{"source"},
				Timeout:    15 * time.Minute,
				Script: `
cd "${WORKSPACE_SOURCE_PATH}"
set --
if [ -n "${PARAM_NAMESPACE}" ]; then
  set -- --namespace "${PARAM_NAMESPACE}"
fi
if [ -f "${PARAM_PATH}/kustomization.yaml" ]; then
  kubectl "$@" apply --server-side --field-manager=pipewright -k "${PARAM_PATH}"
else
  kubectl "$@" apply --server-side --field-manager=pipewright -R -f "${PARAM_PATH}"
fi
if [ -n "${PARAM_DEPLOYMENT}" ]; then
  if [ -n "${PARAM_IMAGE}" ] && [ -n "${PARAM_CONTAINER}" ]; then
    kubectl "$@" set image "deployment/${PARAM_DEPLOYMENT}" "${PARAM_CONTAINER}=${PARAM_IMAGE}"
  fi
  kubectl "$@" rollout status "deployment/${PARAM_DEPLOYMENT}" --timeout "${PARAM_ROLLOUT_TIMEOUT}"
fi
`,
			}.build()},
		},
		Example: map[string]string{"deployment": "example", "container": "app", "image": "ghcr.io/pipewright/example-go:v1.0.0"},
	}
}
