package catalog

import (
	"time"

	"github.com/pipewright/pipewright/pkg/images"
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
		Details: "Applies with server-side apply; with deployment, container and image it sets that container's image (the digest " +
			"a build produced) in the same apply, through a kustomize patch, so every release owns the image field under one " +
			"field manager and rolls out once; then waits for the rollout with a timeout. A missing manifests folder, a " +
			"rollout that does not finish, or a Deployment without that container fails the Task. " +
			"Runs with the TaskRun's service account, which needs rights to the objects applied.",
		Spec: v1.TaskSpec{
			Params:     params,
			Workspaces: []v1.WorkspaceDeclaration{workspace("source", "The checked-out source holding the manifests.", false)},
			Steps: []v1.Step{stepSpec{
				Name:       "apply",
				Image:      images.Kubectl,
				Params:     paramNames(params),
				Workspaces: []string{"source"},
				Timeout:    15 * time.Minute,
				Script: `
cd "${WORKSPACE_SOURCE_PATH}"
manifests="${PARAM_PATH%/}"
case "${manifests}" in
  "" | /* | .. | ../* | */../* | */..)
    echo "path must be a folder inside the repository, not '${PARAM_PATH}'" >&2
    exit 1 ;;
esac
if [ ! -d "${manifests}" ]; then
  echo "no manifests folder '${manifests}' in the repository (hint: add it, or set deploy.manifests in pipewright.yaml)" >&2
  exit 1
fi
# kapply runs kubectl, and on a refusal says which setting grants the kind.
kapply() {
  if ! out="$(kubectl "$@" 2>&1)"; then
    printf '%s\n' "${out}" >&2
    case "${out}" in
      *forbidden*) echo "hint: the service account may not apply one of these kinds; grant it with deploy.resources in pipewright.yaml (e.g. httproutes.gateway.networking.k8s.io) and regenerate" >&2 ;;
    esac
    return 1
  fi
  printf '%s\n' "${out}"
}
set --
if [ -n "${PARAM_NAMESPACE}" ]; then
  set -- --namespace "${PARAM_NAMESPACE}"
fi
kustomization=""
for f in kustomization.yaml kustomization.yml Kustomization; do
  if [ -f "${manifests}/${f}" ]; then kustomization="${f}"; fi
done
if [ -z "${PARAM_DEPLOYMENT}" ] || [ -z "${PARAM_CONTAINER}" ] || [ -z "${PARAM_IMAGE}" ]; then
  if [ -n "${kustomization}" ]; then
    kapply "$@" apply --server-side --field-manager=pipewright -k "${manifests}"
  else
    kapply "$@" apply --server-side --field-manager=pipewright -R -f "${manifests}"
  fi
else
  # The image goes into the same server-side apply as the manifests, under
  # the same field manager: the next release owns and changes it without a
  # conflict (kubectl set image after an apply made another manager own it),
  # and the Deployment rolls out once, straight to the new image.
  for v in "${PARAM_DEPLOYMENT}" "${PARAM_CONTAINER}"; do
    case "${v}" in *[!a-z0-9.-]*) echo "not a Kubernetes name: '${v}'" >&2; exit 1 ;; esac
  done
  case "${PARAM_IMAGE}" in *[!A-Za-z0-9./:@_-]*) echo "not an image reference: '${PARAM_IMAGE}'" >&2; exit 1 ;; esac
  if [ -n "${kustomization}" ]; then
    dir="$(mktemp -d "${PWD}/.pipewright-deploy-XXXXXX")"
    printf 'resources:\n  - "../%s"\n' "${manifests}" > "${dir}/kustomization.yaml"
  else
    # A plain folder: list its manifests, as apply -R -f would take them.
    dir="${manifests}"
    files="$(cd "${dir}" && find . -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \) | LC_ALL=C sort)"
    echo "resources:" > "${dir}/kustomization.yaml"
    printf '%s\n' "${files}" | while IFS= read -r f; do printf '  - "%s"\n' "${f#./}"; done >> "${dir}/kustomization.yaml"
  fi
  cat >> "${dir}/kustomization.yaml" <<EOF
patches:
  - target: {kind: Deployment, name: ${PARAM_DEPLOYMENT}}
    patch: |-
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: ${PARAM_DEPLOYMENT}
      spec:
        template:
          spec:
            containers:
              - name: ${PARAM_CONTAINER}
                image: ${PARAM_IMAGE}
EOF
  kapply "$@" apply --server-side --field-manager=pipewright --force-conflicts -k "${dir}"
  got="$(kubectl "$@" get "deployment/${PARAM_DEPLOYMENT}" -o "jsonpath={.spec.template.spec.containers[?(@.name==\"${PARAM_CONTAINER}\")].image}")"
  if [ "${got}" != "${PARAM_IMAGE}" ]; then
    echo "deployment ${PARAM_DEPLOYMENT} has no container ${PARAM_CONTAINER} set to ${PARAM_IMAGE} after the apply (found '${got}'; hint: check deploy.deployment and deploy.container)" >&2
    exit 1
  fi
fi
if [ -n "${PARAM_DEPLOYMENT}" ]; then
  kubectl "$@" rollout status "deployment/${PARAM_DEPLOYMENT}" --timeout "${PARAM_ROLLOUT_TIMEOUT}"
fi
`,
			}.build()},
		},
		Example: map[string]string{"deployment": "example", "container": "app", "image": "ghcr.io/pipewright/example-go:v1.0.0"},
	}
}
