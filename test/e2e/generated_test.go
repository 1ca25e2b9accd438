//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	corev1 "k8s.io/api/core/v1"
)

var examples = []string{"docker", "go", "java", "node", "python"}

// installExamples applies every example's generated output as the README
// says (kubectl apply -k, plus the cluster-wide ClusterInterceptor), through
// Tekton's and Triggers' admission webhooks. It runs once; later tests use
// what it installed.
func installExamples(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	for _, ex := range examples {
		dir := filepath.Join(repoRoot(), "examples", ex, "tekton")
		out, err := cp.Kubectl(ctx, nil, "apply", "-k", dir)
		if err != nil {
			t.Fatalf("kubectl apply -k %s was rejected:\n%v\n%s", dir, err, out)
		}
		if strings.Contains(string(out), "Warning") {
			t.Errorf("%s: apply warned:\n%s", ex, out)
		}
	}
}

var installOnce bool

func TestExamplesInstall(t *testing.T) {
	installExamples(t)
	installOnce = true
	ctx := context.Background()
	for _, want := range []string{
		"pipelines.tekton.dev/hello-world-pull-request", "pipelines.tekton.dev/hello-world-release",
		"pipelines.tekton.dev/storefront-release", "pipelines.tekton.dev/billing-api-pull-request",
		"pipelines.tekton.dev/inventory-service-release", "pipelines.tekton.dev/docker-example-release",
		"tasks.tekton.dev/git-clone", "tasks.tekton.dev/go-test", "tasks.tekton.dev/java-test",
		"eventlisteners.triggers.tekton.dev/hello-world-listener", "triggertemplates.triggers.tekton.dev/hello-world-release",
	} {
		if _, err := cp.Kubectl(ctx, nil, "get", want, "-n", "default"); err != nil {
			t.Errorf("kubectl get %s: %v", want, err)
		}
	}
}

func ensureInstalled(t *testing.T) {
	if !installOnce {
		installExamples(t)
		installOnce = true
	}
}

// TestGeneratedRunsStart creates the generated PipelineRun templates and
// waits for Tekton's controller to resolve the pipeline and create the first
// TaskRuns and their Pods, and asserts on their specs (the examples' images
// are the public ones, which the node cannot pull: TestWholeStory runs a
// generated project for real).
func TestGeneratedRunsStart(t *testing.T) {
	ensureInstalled(t)
	ctx := context.Background()
	for _, kind := range []string{"pull-request", "release"} {
		t.Run(kind, func(t *testing.T) {
			run := filepath.Join(repoRoot(), "examples", "go", "tekton", "runs", kind+".yaml")
			out, err := cp.Kubectl(ctx, nil, "create", "-n", "default", "-f", run, "-o", "name")
			if err != nil {
				t.Fatalf("create %s: %v\n%s", run, err, out)
			}
			name := strings.TrimPrefix(strings.TrimSpace(string(out)), "pipelinerun.tekton.dev/")
			pod := firstPod(t, "default", "pipelinerun/"+name, "tekton.dev/pipelineRun="+name+",tekton.dev/pipelineTask=clone")
			step := stepContainer(t, pod, "clone")
			if !strings.Contains(step.Image, "git-init:v0.44.0@sha256:") {
				t.Errorf("clone image %q is not the pinned git-init", step.Image)
			}
			env := map[string]string{}
			for _, e := range step.Env {
				env[e.Name] = e.Value
			}
			if env["PARAM_URL"] != "https://github.com/Codertocat/Hello-World.git" || env["PARAM_REVISION"] != "master" {
				t.Errorf("clone env carries url=%q revision=%q", env["PARAM_URL"], env["PARAM_REVISION"])
			}
			if !strings.HasPrefix(env["WORKSPACE_OUTPUT_PATH"], "/workspace/") {
				t.Errorf("workspace path env = %q", env["WORKSPACE_OUTPUT_PATH"])
			}
			// Pull-request code runs without the release's rights or token.
			if want := "hello-world-" + kind; pod.Spec.ServiceAccountName != want {
				t.Errorf("pod runs as %q, want the generated %s", pod.Spec.ServiceAccountName, want)
			}
			if kind == "pull-request" && (pod.Spec.AutomountServiceAccountToken == nil || *pod.Spec.AutomountServiceAccountToken) {
				t.Errorf("pull-request pod %s mounts a service account token", pod.Name)
			}
		})
	}
}

// firstPod waits up to a minute for a Pod matching selector in ns and
// returns it; on timeout it fails the test with owner (kind/name) as YAML.
func firstPod(t *testing.T, ns, owner, selector string) corev1.Pod {
	t.Helper()
	ctx := context.Background()
	var pod corev1.Pod
	err := cp.WaitFor(ctx, time.Minute, func() (bool, error) {
		var list struct{ Items []corev1.Pod }
		b, err := cp.Kubectl(ctx, nil, "get", "pods", "-n", ns, "-l", selector, "-o", "json")
		if err != nil {
			return false, err
		}
		if err := json.Unmarshal(b, &list); err != nil {
			return false, err
		}
		if len(list.Items) == 0 {
			return false, nil
		}
		pod = list.Items[0]
		return true, nil
	})
	if err != nil {
		b, _ := cp.Kubectl(ctx, nil, "get", owner, "-n", ns, "-o", "yaml")
		t.Fatalf("no Pod %s for %s: %v\n%s", selector, owner, err, b)
	}
	return pod
}

// stepContainer is the container Tekton made for the step in pod.
func stepContainer(t *testing.T, pod corev1.Pod, step string) corev1.Container {
	t.Helper()
	for _, c := range pod.Spec.Containers {
		if c.Name == "step-"+step {
			return c
		}
	}
	t.Fatalf("pod %s has no step-%s container", pod.Name, step)
	return corev1.Container{}
}

// TestGeneratedEventListener runs the generated EventListener as a real sink
// (with the generated service account and its least-privilege role) and
// posts real, signed GitHub payloads and variants of them.
func TestGeneratedEventListener(t *testing.T) {
	ensureInstalled(t)
	ctx := context.Background()
	ns := "default"
	secret := randomSecret(t)
	if out, err := cp.Kubectl(ctx, nil, "create", "secret", "generic", "github-webhook", "-n", ns, "--from-literal=secret="+secret); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	sink, err := cp.StartEventListener(ctx, ns, "hello-world-listener")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sink.Stop)
	before, err := pipelineRuns(ctx, ns)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range before {
		seen[r.Name] = true
	}

	opened := readPayload(t, "pull_request.opened.json")
	var pr struct {
		PullRequest struct {
			Number int `json:"number"`
			Head   struct {
				SHA string `json:"sha"`
			} `json:"head"`
		} `json:"pull_request"`
	}
	if err := json.Unmarshal(opened, &pr); err != nil {
		t.Fatal(err)
	}
	newBranch := readPayload(t, "push.with-new-branch.json") // a push to refs/heads/master
	var push struct {
		After string `json:"after"`
	}
	if err := json.Unmarshal(newBranch, &push); err != nil {
		t.Fatal(err)
	}
	draft := bytes.Replace(opened, []byte(`"draft": false`), []byte(`"draft": true`), 1)
	if bytes.Equal(draft, opened) {
		t.Fatal("could not derive a draft PR from the payload")
	}
	refusedBefore := interceptorRefusals(t, "payload signature check failed")

	// None of these may start a run: wrong signature, a tag push (a tag
	// deletion in GitHub's sample), a draft PR.
	postGitHub(t, sink.URL, "pull_request", opened, "not-the-secret")
	postGitHub(t, sink.URL, "push", readPayload(t, "push.json"), secret)
	postGitHub(t, sink.URL, "pull_request", draft, secret)
	// These must: the PR and the merge to the default branch.
	postGitHub(t, sink.URL, "pull_request", opened, secret)
	postGitHub(t, sink.URL, "push", newBranch, secret)

	var fresh []v1.PipelineRun
	err = cp.WaitFor(ctx, time.Minute, func() (bool, error) {
		runs, err := pipelineRuns(ctx, ns)
		fresh = fresh[:0]
		for _, r := range runs {
			if !seen[r.Name] {
				fresh = append(fresh, r)
			}
		}
		return len(fresh) >= 2, err
	})
	if err != nil {
		t.Fatalf("want a PR run and a release run, got %d: %v\nsink log:\n%s", len(fresh), err, sink.Log(40))
	}
	if err := cp.WaitFor(ctx, 30*time.Second, func() (bool, error) {
		return interceptorRefusals(t, "payload signature check failed") > refusedBefore, nil
	}); err != nil {
		t.Fatalf("the wrong signature was never refused: %v", err)
	}
	time.Sleep(3 * time.Second) // the draft and tag deliveries were sent before the two that fired
	runs, _ := pipelineRuns(ctx, ns)
	fresh = fresh[:0]
	for _, r := range runs {
		if !seen[r.Name] {
			fresh = append(fresh, r)
		}
	}
	got := map[string]string{}
	for _, r := range fresh {
		rev := ""
		for _, p := range r.Spec.Params {
			if p.Name == "revision" {
				rev = p.Value.StringVal
			}
		}
		got[r.Spec.PipelineRef.Name] = rev
	}
	want := map[string]string{"hello-world-pull-request": pr.PullRequest.Head.SHA, "hello-world-release": push.After}
	if len(fresh) != 2 || got["hello-world-pull-request"] != want["hello-world-pull-request"] || got["hello-world-release"] != want["hello-world-release"] {
		t.Fatalf("runs = %v (%d), want exactly %v", got, len(fresh), want)
	}
}
