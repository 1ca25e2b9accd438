package catalog

import (
	"time"

	"github.com/pipewright/pipewright/pkg/images"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	corev1 "k8s.io/api/core/v1"
)

func init() { register("image-build", imageBuild) }

// kanikoReason is why image-build's build step runs as uid 0: kaniko unpacks
// the base image's files with their owners and runs RUN instructions as the
// Dockerfile's users inside its own container, which needs root and the
// ownership capabilities — but not privileged mode, host mounts or a daemon.
const kanikoReason = "kaniko unpacks base image files with their owners and runs RUN instructions as their users, which needs uid 0 and the ownership capabilities (not privileged mode or a daemon)"

func imageBuild() Entry {
	params := []v1.ParamSpec{
		reqParam("image", "The image reference to build and push, e.g. ghcr.io/acme/app:v1."),
		strParam("dockerfile", "The Dockerfile, relative to the context folder.", "Dockerfile"),
		contextParam(),
		strParam("no-push", "Build without pushing (true/false), e.g. for pull requests.", "false"),
		strParam("build-arg", "One build argument, KEY=VALUE; empty for none.", "PIPEWRIGHT=1"),
		strParam("target", "The build stage to build; empty builds the last stage.", ""),
	}
	args := []string{
		"--dockerfile=$(params.dockerfile)",
		"--context=dir://$(workspaces.source.path)/$(params.context)",
		"--destination=$(params.image)",
		"--digest-file=$(results.IMAGE_DIGEST.path)",
		"--no-push=$(params.no-push)",
		"--build-arg=$(params.build-arg)",
		"--target=$(params.target)",
		"--reproducible",
		"--ignore-path=/product_uuid",
	}
	return Entry{
		Name:        "image-build",
		Version:     "0.1",
		DisplayName: "Image Build (kaniko)",
		Categories:  []string{"Image Build"},
		Tags:        []string{"image-build", "kaniko", "dockerfile"},
		Summary:     "Builds an image from a Dockerfile without a daemon (kaniko) and pushes it.",
		Details: "Writes the IMAGE_URL and IMAGE_DIGEST results that Tekton Chains reads to sign and attest the image. " +
			"Registry credentials come from the optional dockerconfig workspace (a config.json) or the service account. " +
			"The build step runs as root: " + kanikoReason + ". Go services can use go-image instead, which needs no root.",
		Spec: v1.TaskSpec{
			Params: params,
			Workspaces: []v1.WorkspaceDeclaration{
				workspace("source", "The checked-out source with the Dockerfile.", false),
				workspace("dockerconfig", "A Docker config.json with registry credentials.", true),
			},
			Results: []v1.TaskResult{
				result("IMAGE_URL", "The image reference that was built (without digest)."),
				result("IMAGE_DIGEST", "The digest of the image that was built, sha256:…."),
			},
			Steps: []v1.Step{
				stepSpec{
					Name:    "build",
					Image:   images.Kaniko,
					Command: []string{"/kaniko/executor"},
					Args:    args,
					Env:     []corev1.EnvVar{{Name: "DOCKER_CONFIG", Value: "$(workspaces.dockerconfig.path)"}},
					CPU:     "1", Memory: "2Gi",
					Timeout:    30 * time.Minute,
					RootReason: kanikoReason,
					RootCaps:   []corev1.Capability{"CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"},
				}.build(),
				stepSpec{
					Name:    "write-url",
					Image:   images.Shell,
					Params:  []string{"image"},
					Results: []string{"IMAGE_URL"},
					Timeout: time.Minute,
					Script:  `printf '%s' "${PARAM_IMAGE}" > "${RESULT_IMAGE_URL_PATH}"` + "\n",
				}.build(),
			},
		},
		Example:   map[string]string{"image": "ghcr.io/pipewright/example-go:v1.0.0"},
		RootSteps: map[string]string{"build": kanikoReason},
	}
}
