package catalog

import (
	"time"

	"github.com/pipewright/pipewright/pkg/images"
	"github.com/pipewright/pipewright/pkg/keys"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	corev1 "k8s.io/api/core/v1"
)

func init() { register("github-set-status", githubSetStatus) }

func githubSetStatus() Entry {
	params := []v1.ParamSpec{
		reqParam("repo-full-name", "The repository, as owner/name."),
		reqParam("sha", "The commit to set the status on."),
		reqParam("state", "One of pending, success, failure, error."),
		strParam("context", "The status context: one line per context on the commit.", "pipewright"),
		strParam("description", "A short description (GitHub keeps 140 characters).", ""),
		strParam("target-url", "A link shown with the status, e.g. the PipelineRun's dashboard page.", ""),
		strParam("github-api-url", "The GitHub REST API root (GitHub Enterprise: https://HOST/api/v3).", keys.GitHubAPIURL),
		strParam("token-secret-name", "The Secret holding the GitHub token.", "github-token"),
		strParam("token-secret-key", "The key of the token in that Secret.", "token"),
	}
	// The token is read from the Secret by the kubelet, never passed as a param.
	tokenEnv := corev1.EnvVar{Name: "GITHUB_TOKEN", ValueFrom: &corev1.EnvVarSource{
		SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "$(params.token-secret-name)"},
			Key:                  "$(params.token-secret-key)",
		},
	}}
	var scriptParams []string
	for _, p := range paramNames(params) {
		if p != "token-secret-name" && p != "token-secret-key" {
			scriptParams = append(scriptParams, p)
		}
	}
	return Entry{
		Name:        "github-set-status",
		Version:     "0.1",
		DisplayName: "GitHub Commit Status",
		Categories:  []string{"Git"},
		Tags:        []string{"github", "status"},
		Summary:     "Sets a commit status on GitHub (pending, success, failure or error).",
		Details: "Calls the commit statuses API with a token from a Secret. Retries server errors and rate limits " +
			"with backoff; a bad token (401) or an unknown repository or sha (404/422) fails at once with the reason.",
		Spec: v1.TaskSpec{
			Params: params,
			Steps: []v1.Step{stepSpec{
				Name:    "set-status",
				Image:   images.Python,
				Python:  true,
				Params:  scriptParams,
				Env:     []corev1.EnvVar{tokenEnv},
				Timeout: 5 * time.Minute,
				Script:  githubStatusScript,
			}.build()},
		},
		Example: map[string]string{"repo-full-name": "pipewright/example-go", "sha": "4f2c0d6a9e1b7c3d5e8f0a2b4c6d8e0f1a3b5c7d", "state": "success"},
	}
}

const githubStatusScript = `
import json
import os
import sys
import time
import urllib.error
import urllib.request

env = os.environ
state = env["PARAM_STATE"]
if state not in ("pending", "success", "failure", "error"):
    sys.exit(f"state must be pending, success, failure or error, not {state!r}")
url = "{}/repos/{}/statuses/{}".format(
    env["PARAM_GITHUB_API_URL"].rstrip("/"), env["PARAM_REPO_FULL_NAME"], env["PARAM_SHA"])
body = {"state": state, "context": env["PARAM_CONTEXT"]}
if env.get("PARAM_DESCRIPTION"):
    body["description"] = env["PARAM_DESCRIPTION"][:140]
if env.get("PARAM_TARGET_URL"):
    body["target_url"] = env["PARAM_TARGET_URL"]
data = json.dumps(body).encode()

delay = 1.0
for attempt in range(1, 6):
    req = urllib.request.Request(url, data=data, method="POST", headers={
        "Authorization": "Bearer " + env["GITHUB_TOKEN"],
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
        "Content-Type": "application/json",
        "User-Agent": "pipewright-github-set-status",
    })
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            print(f"set {state} on {env['PARAM_REPO_FULL_NAME']}@{env['PARAM_SHA']} ({env['PARAM_CONTEXT']}): HTTP {resp.status}")
            sys.exit(0)
    except urllib.error.HTTPError as e:
        detail = e.read().decode(errors="replace")[:300]
        limited = e.code in (403, 429) and (e.headers.get("Retry-After") or e.headers.get("X-RateLimit-Remaining") == "0")
        if e.code >= 500 or limited:
            wait = float(e.headers.get("Retry-After") or delay)
            print(f"attempt {attempt}: HTTP {e.code}, retrying in {wait:.0f}s", file=sys.stderr)
            time.sleep(wait)
            delay *= 2
            continue
        hint = {401: "the token is invalid or expired",
                404: "unknown repository or sha, or the token cannot see the repository",
                422: "GitHub refused the status: check the sha and state"}.get(e.code, "")
        sys.exit(f"GitHub answered HTTP {e.code} for {url}: {hint} {detail}")
    except urllib.error.URLError as e:
        print(f"attempt {attempt}: {e.reason}, retrying in {delay:.0f}s", file=sys.stderr)
        time.sleep(delay)
        delay *= 2
sys.exit(f"giving up on {url} after 5 attempts")
`
