package catalog

import (
	"time"

	"github.com/pipewright/pipewright/pkg/images"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	corev1 "k8s.io/api/core/v1"
)

func init() { register("go-image", goImage) }

// toolBinDir is the emptyDir that carries the pipewright program from the
// tool image's step to the Go toolchain's step.
const toolBinDir = "/pipewright/bin"

func goImage() Entry {
	params := []v1.ParamSpec{
		toolParam(),
		reqParam("image", "The repository to push to, without tag, e.g. ghcr.io/acme/api."),
		strParam("tag", "A tag to point at the pushed image as well; empty for none.", ""),
		contextParam(),
		strParam("package", "The Go main package to build, relative to the context folder.", "."),
		strParam("platforms", "Comma-separated os/arch list; more than one pushes an image index.", "linux/amd64"),
		strParam("base", "The base image, pinned by digest.", images.DistrolessStatic.Ref()),
		strParam("sbom", "SBOM to attach to the image: spdx or none.", "spdx"),
		strParam("source-url", "The org.opencontainers.image.source label (repository URL); empty for none.", ""),
		strParam("no-push", "Build and compute the digest without pushing (true/false), e.g. for pull requests.", "false"),
		strParam("goflags", "GOFLAGS for the Go toolchain.", "-mod=readonly"),
	}
	toolVolume := corev1.VolumeMount{Name: "pipewright-bin", MountPath: toolBinDir}
	return Entry{
		Name:        "go-image",
		Version:     "0.1",
		DisplayName: "Go Image (daemonless, rootless)",
		Categories:  []string{"Image Build"},
		Tags:        []string{"go", "image-build", "sbom", "reproducible"},
		Summary:     "Builds a Go main package into an image without a Dockerfile, a daemon or root, and pushes it by digest.",
		Details: "Runs `pipewright image build`: CGO_ENABLED=0 -trimpath per platform, the binary layered onto the base " +
			"image with go-containerregistry, user 65532, OCI source/revision labels, timestamps from the commit time, so " +
			"the same commit gives the same digest; an SPDX SBOM of the binary's modules is attached as " +
			"sha256-<digest>.sbom. Writes IMAGE_URL and IMAGE_DIGEST for Tekton Chains. The first step copies the pipewright " +
			"program out of the tool image (param " + ToolImageParam + ") so the build step can run it next to the Go toolchain " +
			"from the catalog's pinned golang image. Registry credentials come from the optional dockerconfig workspace (a config.json) or the service account.",
		Spec: v1.TaskSpec{
			Params: params,
			Workspaces: []v1.WorkspaceDeclaration{
				workspace("source", "The checked-out source (a git checkout: its commit time stamps the image).", false),
				workspace("cache", "Optional cache (Go module and build cache), shared by the tasks, or runs, that bind the same folder.", true),
				workspace("dockerconfig", "A Docker config.json with registry credentials.", true),
			},
			Results: []v1.TaskResult{
				result("IMAGE_URL", "The repository the image was pushed to."),
				result("IMAGE_DIGEST", "The digest of the image (or image index) that was pushed, sha256:…."),
			},
			Volumes: []corev1.Volume{{Name: toolVolume.Name, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
			Steps: []v1.Step{
				stepSpec{
					Name:         "install-pipewright",
					Tool:         true,
					Command:      []string{ToolBinary},
					Args:         []string{"install-self", toolBinDir + "/pipewright"},
					VolumeMounts: []corev1.VolumeMount{toolVolume},
					Timeout:      2 * time.Minute,
				}.build(),
				stepSpec{
					Name:         "build-and-push",
					Image:        images.Golang,
					Params:       paramNames(params[1:]),
					Workspaces:   []string{"source", "cache", "dockerconfig"},
					Results:      []string{"IMAGE_URL", "IMAGE_DIGEST"},
					VolumeMounts: []corev1.VolumeMount{toolVolume},
					Env:          []corev1.EnvVar{{Name: "PIPEWRIGHT", Value: toolBinDir + "/pipewright"}},
					CPU:          "1", Memory: "2Gi",
					Timeout: 30 * time.Minute,
					Script: enterSource + goCache + trustCheckout + `
export GOFLAGS="${PARAM_GOFLAGS}"
if [ "${WORKSPACE_DOCKERCONFIG_BOUND}" = "true" ]; then
  export DOCKER_CONFIG="${WORKSPACE_DOCKERCONFIG_PATH}"
fi
set -- --image "${PARAM_IMAGE}" --base "${PARAM_BASE}" --platform "${PARAM_PLATFORMS}" --sbom "${PARAM_SBOM}" \
  --image-url-file "${RESULT_IMAGE_URL_PATH}" --image-digest-file "${RESULT_IMAGE_DIGEST_PATH}"
if [ -n "${PARAM_TAG}" ]; then set -- "$@" --tag "${PARAM_TAG}"; fi
if [ -n "${PARAM_SOURCE_URL}" ]; then set -- "$@" --source "${PARAM_SOURCE_URL}"; fi
if [ "${PARAM_NO_PUSH}" = "true" ]; then set -- "$@" --no-push; fi
"${PIPEWRIGHT}" image build "$@" "${PARAM_PACKAGE}"
`,
				}.build(),
			},
		},
		Example: map[string]string{"image": "ghcr.io/pipewright/example-go"},
	}
}
