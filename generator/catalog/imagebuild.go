package catalog

import (
	"time"

	"github.com/pipewright/pipewright/pkg/images"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

func init() { register("image-build", imageBuild) }

// BuildKitUID is the user moby/buildkit's rootless image is made for: its
// /etc/subuid gives that user the id range the build's user namespace maps.
const BuildKitUID = 1000

// buildkitReason is why image-build's build step needs more than the
// restricted profile, though it runs as uid 1000.
// It is one sentence without semicolons: pipewright.dev/root-steps entries
// are separated by them.
const buildkitReason = "rootless BuildKit (uid 1000) makes a user namespace for the build: rootlesskit calls unshare and mount, " +
	"which the RuntimeDefault seccomp and AppArmor profiles refuse (so both are Unconfined), and the setuid newuidmap/newgidmap " +
	"map the image's subordinate ids into it, which needs privilege escalation and SETUID and SETGID in the bounding set, and " +
	"RUN lines run without a process sandbox (--oci-worker-no-process-sandbox), as they would under a masked /proc"

// buildkitStateDir is where buildkitd keeps its snapshots: an emptyDir, as
// BuildKit's Kubernetes examples mount, since overlayfs cannot stack on
// the container's own overlay root.
const buildkitStateDir = "/home/user/.local/share/buildkit"

// buildkitSecurityContext is the least the rootless build step runs with.
// A namespace that runs it needs Pod Security level privileged: baseline
// already forbids the Unconfined seccomp and AppArmor profiles.
func buildkitSecurityContext() *corev1.SecurityContext {
	return &corev1.SecurityContext{
		RunAsNonRoot:             ptr.To(true),
		RunAsUser:                ptr.To[int64](BuildKitUID),
		RunAsGroup:               ptr.To[int64](BuildKitUID),
		AllowPrivilegeEscalation: ptr.To(true),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}, Add: []corev1.Capability{"SETGID", "SETUID"}},
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined},
		AppArmorProfile:          &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeUnconfined},
	}
}

// buildkitScript runs one daemonless BuildKit build. Registries on loopback
// or a private network are reached over plain HTTP, the rule
// go-containerregistry (go-image's pushes) applies; buildkitd learns it
// from its config, buildctl's push from registry.insecure.
const buildkitScript = `
cfg=$(mktemp)
meta=$(mktemp)
registry=${PARAM_IMAGE%%/*}
insecure=""
case "${registry%:*}" in
localhost | *.localhost | *.local | 127.* | 10.* | 192.168.* | 172.1[6-9].* | 172.2[0-9].* | 172.3[01].*)
  insecure=",registry.insecure=true"
  printf '[registry."%s"]\n  http = true\n  insecure = true\n' "${registry}" >"${cfg}"
  ;;
esac
export BUILDKITD_FLAGS="--oci-worker-no-process-sandbox --config=${cfg}"
if [ "${WORKSPACE_DOCKERCONFIG_BOUND}" = "true" ]; then
  export DOCKER_CONFIG="${WORKSPACE_DOCKERCONFIG_PATH}"
fi
push=true
if [ "${PARAM_NO_PUSH}" = "true" ]; then push=false; insecure=""; fi
dockerfile="${WORKSPACE_SOURCE_PATH}/${PARAM_CONTEXT}/${PARAM_DOCKERFILE}"
set -- build --progress=plain --frontend=dockerfile.v0 \
  --local "context=${WORKSPACE_SOURCE_PATH}/${PARAM_CONTEXT}" \
  --local "dockerfile=$(dirname "${dockerfile}")" --opt "filename=$(basename "${dockerfile}")" \
  --output "type=image,name=${PARAM_IMAGE},push=${push}${insecure}" --metadata-file "${meta}"
if [ -n "${PARAM_BUILD_ARG}" ]; then set -- "$@" --opt "build-arg:${PARAM_BUILD_ARG}"; fi
if [ -n "${PARAM_TARGET}" ]; then set -- "$@" --opt "target=${PARAM_TARGET}"; fi
buildctl-daemonless.sh "$@"
digest=$(sed -n 's/.*"containerimage.digest": *"\(sha256:[0-9a-f]*\)".*/\1/p' "${meta}")
if [ -z "${digest}" ]; then
  echo "image-build: buildctl's metadata names no image digest:" >&2
  cat "${meta}" >&2
  exit 1
fi
printf '%s' "${digest}" >"${RESULT_IMAGE_DIGEST_PATH}"
printf '%s' "${PARAM_IMAGE}" >"${RESULT_IMAGE_URL_PATH}"
echo "image-build: ${PARAM_IMAGE}@${digest} (pushed: ${push})"
`

func imageBuild() Entry {
	params := []v1.ParamSpec{
		reqParam("image", "The image reference to build and push, e.g. ghcr.io/acme/app:v1."),
		strParam("dockerfile", "The Dockerfile, relative to the context folder.", "Dockerfile"),
		contextParam(),
		strParam("no-push", "Build without pushing (true/false), e.g. for pull requests; IMAGE_DIGEST is still written.", "false"),
		strParam("build-arg", "One build argument, KEY=VALUE; empty for none.", "PIPEWRIGHT=1"),
		strParam("target", "The build stage to build; empty builds the last stage.", ""),
	}
	state := corev1.VolumeMount{Name: "buildkit-state", MountPath: buildkitStateDir}
	return Entry{
		Name:        "image-build",
		Version:     "0.2",
		DisplayName: "Image Build (BuildKit, rootless)",
		Categories:  []string{"Image Build"},
		Tags:        []string{"image-build", "buildkit", "rootless", "dockerfile"},
		Summary:     "Builds an image from a Dockerfile with rootless BuildKit (no daemon left running, no root) and pushes it.",
		Details: "Runs buildctl-daemonless.sh from moby/buildkit's rootless image: a buildkitd for this build only, under " +
			"rootlesskit, as uid 1000. Writes the IMAGE_URL and IMAGE_DIGEST results that Tekton Chains reads to sign and " +
			"attest the image; a build without push still writes the digest. Registry credentials come from the optional " +
			"dockerconfig workspace (a config.json) or the service account; registries on loopback or a private network " +
			"are reached over plain HTTP. The build step is not root, but needs more than the restricted profile: " + buildkitReason +
			". Its namespace needs Pod Security level privileged (baseline forbids Unconfined seccomp). " +
			"Why BuildKit: it is maintained (kaniko was archived in 2025), and its rootless image is documented for " +
			"Kubernetes with exactly this context; buildah's rootless build needs the same Unconfined seccomp and " +
			"setuid id maps. Go services can use go-image instead, which needs neither.",
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
			Volumes: []corev1.Volume{{Name: state.Name, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
			Steps: []v1.Step{
				stepSpec{
					Name:         "build-and-push",
					Image:        images.BuildKit,
					Params:       paramNames(params),
					Workspaces:   []string{"source", "dockerconfig"},
					Results:      []string{"IMAGE_URL", "IMAGE_DIGEST"},
					Env:          []corev1.EnvVar{{Name: "HOME", Value: "/home/user"}},
					VolumeMounts: []corev1.VolumeMount{state},
					CPU:          "1", Memory: "2Gi",
					Timeout:         30 * time.Minute,
					SecurityContext: buildkitSecurityContext(),
					Script:          buildkitScript,
				}.build(),
			},
		},
		Example:   map[string]string{"image": "ghcr.io/pipewright/example-go:v1.0.0"},
		RootSteps: map[string]string{"build-and-push": buildkitReason},
	}
}
