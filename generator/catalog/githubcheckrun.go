package catalog

import (
	"time"

	"github.com/pipewright/pipewright/pkg/keys"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

func init() { register("github-check-run", githubCheckRun) }

// AppKeyFile is the App's private key in the Secret the github-check-run
// Task mounts: `kubectl create secret generic NAME --from-file=private-key.pem=APP.pem`.
const AppKeyFile = "private-key.pem"

// appKeyMount is where the Secret is mounted in the step.
const appKeyMount = "/etc/github-app"

func githubCheckRun() Entry {
	params := []v1.ParamSpec{
		toolParam(),
		reqParam("repo-full-name", "The repository, as owner/name."),
		reqParam("sha", "The commit to report on."),
		reqParam("state", "pending (the check run is in progress), success, failure or error (it is completed with that conclusion)."),
		reqParam("name", "The check run's name: one check run per name and commit, created or updated."),
		{Name: "tasks", Type: v1.ParamTypeArray,
			Description: "The pipeline's tasks for the summary table, NAME=OUTCOME each; from a finally task, NAME=$(tasks.NAME.status). An in-progress report gives the tasks done so far (e.g. clone=Succeeded)."},
		strParam("title", "The check run's title; empty counts the tasks' outcomes (e.g. 1 failed, 2 succeeded).", ""),
		strParam("target-url", "The check run's details link, e.g. the PipelineRun's dashboard page.", ""),
		strParam("github-api-url", "The GitHub REST API root (GitHub Enterprise: https://HOST/api/v3).", keys.GitHubAPIURL),
		reqParam("app-id", "The GitHub App's id."),
		strParam("app-installation-id", "The App's installation on the repository; 0 looks it up.", "0"),
		strParam("app-key-secret", "The Secret holding the App's private key, under the key "+AppKeyFile+".", "github-app"),
	}
	args := []string{"github", "status", "--no-status",
		"--check-run=$(params.name)",
		"--repo=$(params.repo-full-name)",
		"--sha=$(params.sha)",
		"--state=$(params.state)",
		"--description=$(params.title)",
		"--target-url=$(params.target-url)",
		"--api-url=$(params.github-api-url)",
		"--app-id=$(params.app-id)",
		"--app-installation-id=$(params.app-installation-id)",
		"--app-key-file=" + appKeyMount + "/" + AppKeyFile,
		"--checkout=$(workspaces.source.path)",
		// Each element of the array is one NAME=OUTCOME argument; no shell
		// parses these args.
		"--", "$(params.tasks[*])",
	}
	return Entry{
		Name:        "github-check-run",
		Version:     "0.1",
		DisplayName: "GitHub Check Run (as a GitHub App)",
		Categories:  []string{"Git"},
		Tags:        []string{"github", "checks"},
		Summary:     "Creates or updates a GitHub check run as a GitHub App: in progress, or completed with a table of the pipeline's tasks, a failed task's last lines and file:line annotations.",
		Details: "Runs `pipewright github status --check-run` from the tool image (param " + ToolImageParam + "). It signs a JWT with the " +
			"App's private key (from the app-key-secret Secret, mounted read-only), trades it for an installation token and " +
			"writes the check run named name on sha, updating the one already there. With the source workspace (the run's " +
			"checkout) bound, what the test and lint Tasks kept there under " + keys.TaskLogDir + " (their log-name param) adds " +
			"each task's duration, a failed task's last lines and annotations from its file:line[:col]: message output. The files " +
			"there were written by the code under test and are read as data, never outside the checkout.",
		Spec: v1.TaskSpec{
			Params: params,
			Workspaces: []v1.WorkspaceDeclaration{
				workspace("source", "The run's checkout, with the logs the test and lint Tasks kept.", true),
			},
			Volumes: []corev1.Volume{{Name: "github-app", VolumeSource: corev1.VolumeSource{
				// Optional: without the Secret the step says the key file is
				// missing, instead of the Pod waiting for it until the timeout.
				Secret: &corev1.SecretVolumeSource{SecretName: "$(params.app-key-secret)", Optional: ptr.To(true)},
			}}},
			Steps: []v1.Step{stepSpec{
				Name:         "check-run",
				Tool:         true,
				Command:      []string{ToolBinary},
				Args:         args,
				Timeout:      5 * time.Minute,
				VolumeMounts: []corev1.VolumeMount{{Name: "github-app", MountPath: appKeyMount, ReadOnly: true}},
			}.build()},
		},
		Example: map[string]string{
			"repo-full-name": "pipewright/example-go", "sha": "4f2c0d6a9e1b7c3d5e8f0a2b4c6d8e0f1a3b5c7d",
			"state": "pending", "name": "example-go-pull-request", "app-id": "123456",
		},
	}
}
