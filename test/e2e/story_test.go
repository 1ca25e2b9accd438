//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pipewright/pipewright/generator"
	"github.com/pipewright/pipewright/generator/config"
	"github.com/pipewright/pipewright/pkg/github/githubtest"
	"github.com/pipewright/pipewright/test/controlplane"
	corev1 "k8s.io/api/core/v1"
)

// storyRepo is the built-in example's repository as the git server holds
// it: a Go service with a test, and its Deployment and Service.
var storyRepo = map[string]string{
	"go.mod":       "module github.com/Codertocat/Hello-World\n\ngo 1.26\n",
	"main.go":      strings.ReplaceAll(helloRepo["main.go"], "hello from pipewright", "hello from release 1"),
	"main_test.go": strings.ReplaceAll(helloRepo["main_test.go"], "hello from pipewright", "hello from release 1"),
	"k8s/app.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: hello-world}
spec:
  replicas: 1
  selector: {matchLabels: {app: hello-world}}
  template:
    metadata: {labels: {app: hello-world}}
    spec:
      securityContext: {runAsNonRoot: true, runAsUser: 65532}
      containers:
      - name: hello-world
        image: placeholder.invalid/hello-world
        ports: [{containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: hello-world}
spec:
  selector: {app: hello-world}
  ports: [{port: 80, targetPort: 8080}]
`,
}

// TestWholeStory is the story a team lives, on a default Tekton install:
// the generated project is applied as generated (with the node's stand-in
// images through --images, the tool image and the GitHub API test server in
// the config), a signed real pull_request.opened delivery reaches the
// EventListener Pod that Triggers runs, the pull-request PipelineRun passes
// every Task and the head commit gets pending then success; a commit whose
// test fails gets failure; then a signed push to the default branch
// releases: the image is built by pipewright's builder from the tool image,
// pushed by digest, and deployed, and a second release replaces it.
func TestWholeStory(t *testing.T) {
	ctx := context.Background()
	ns := "story"
	if err := cp.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	cfgYAML := fmt.Sprintf(`apiVersion: pipewright.dev/v1alpha1
app: {name: hello-world, namespace: %s}
build:
  pack: go
  # The golang stand-in has no C compiler for -race, and gotestsum (the
  # JUnit report) would come from the module proxy, which Pods cannot reach.
  test: {params: {race: "false", junit-report: ""}}
image: {repository: %s/codertocat/hello-world, builder: go-image}
tools: {image: %q}
github:
  repository: Codertocat/Hello-World
  defaultBranch: master
  apiURL: %s
`, ns, cp.Registry(), cp.Images().Tool, cp.GitHub.URL)
	cfg, err := config.Parse("pipewright.yaml", []byte(cfgYAML))
	if err != nil {
		t.Fatal(err)
	}
	tree, err := generator.ProjectWithImages(cfg, standinImages(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := tree.Write(dir); err != nil {
		t.Fatal(err)
	}
	if out, err := cp.Kubectl(ctx, nil, "apply", "-k", dir); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	secret := randomSecret(t)
	for _, args := range [][]string{
		{"create", "secret", "generic", "github-webhook", "-n", ns, "--from-literal=secret=" + secret},
		{"create", "secret", "generic", "github-token", "-n", ns, "--from-literal=token=" + randomSecret(t)},
	} {
		if out, err := cp.Kubectl(ctx, nil, args...); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
	}
	sha1, err := cp.Git.CreateRepo("Codertocat", "Hello-World", storyRepo, "release 1")
	if err != nil {
		t.Fatal(err)
	}
	cp.GitHub.AddRepo("Codertocat/Hello-World")
	// Every trigger ends with the pipewright interceptor (replay checks):
	// it must be serving before the first delivery.
	if out, err := cp.Kubectl(ctx, nil, "rollout", "status", "deployment/hello-world-interceptor", "-n", ns, "--timeout=3m"); err != nil {
		desc, _ := cp.Kubectl(ctx, nil, "describe", "pods", "-n", ns, "-l", "app.kubernetes.io/name=hello-world-interceptor")
		t.Fatalf("the interceptor Deployment: %v\n%s\n%s", err, out, desc)
	}
	sink, err := cp.StartEventListener(ctx, ns, "hello-world-listener")
	if err != nil {
		t.Fatal(err)
	}
	cloneURL := cp.Git.RepoURL("Codertocat", "Hello-World")
	context := "pipewright/hello-world"

	// A pull request: pending, then success, on its head commit.
	start := time.Now()
	postGitHub(t, sink.URL, "pull_request", prPayload(t, sha1, cloneURL), secret)
	pr := waitNewRun(t, ns, "hello-world-pull-request", nil)
	run := waitPipelineRun(t, ns, pr, 15*time.Minute)
	feedback := time.Since(start)
	runs := taskRuns(t, ns, pr)
	reportRuns(t, runs)
	if !run.Status.GetCondition("Succeeded").IsTrue() {
		t.Fatalf("pull-request run %s: %s\n%s\nsink:\n%s", pr, run.Status.GetCondition("Succeeded").GetMessage(), failedLogs(ns, runs), sink.Log(30))
	}
	t.Logf("PR feedback time (signed delivery to final status): %s", feedback.Round(100*time.Millisecond))
	if got := statesFor(sha1, context); strings.Join(got, ",") != "pending,success" {
		t.Errorf("statuses for %s = %v, want pending then success", sha1, got)
	}

	// ChatOps through the interceptor Pod: a trusted /retest starts a run of
	// the PR's head, an untrusted commenter's does not.
	chatOps(t, ns, sink, secret, sha1)

	// A commit whose test fails: the run fails at test, the status says so.
	broken := map[string]string{"main_test.go": strings.ReplaceAll(storyRepo["main_test.go"], `"hello from release 1"`, `"something else"`)}
	sha2, err := cp.Git.Commit("Codertocat", "Hello-World", broken, "break the test")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	before, _ := pipelineRuns(ctx, ns)
	for _, r := range before {
		seen[r.Name] = true
	}
	postGitHub(t, sink.URL, "pull_request", prPayload(t, sha2, cloneURL), secret)
	pr2 := waitNewRun(t, ns, "hello-world-pull-request", seen)
	run = waitPipelineRun(t, ns, pr2, 15*time.Minute)
	runs = taskRuns(t, ns, pr2)
	reportRuns(t, runs)
	if run.Status.GetCondition("Succeeded").IsTrue() {
		t.Errorf("pull-request run %s of a failing test succeeded", pr2)
	}
	if tr, ok := runs["test"]; !ok || tr.Status.GetCondition("Succeeded").IsTrue() {
		t.Errorf("the test Task did not fail: %+v", tr.Status.Conditions)
	}
	if got := statesFor(sha2, context); strings.Join(got, ",") != "pending,failure" {
		t.Errorf("statuses for %s = %v, want pending then failure", sha2, got)
	}

	// Fix it and merge: the release builds, pushes and deploys.
	fixed := map[string]string{"main_test.go": storyRepo["main_test.go"]}
	sha3, err := cp.Git.Commit("Codertocat", "Hello-World", fixed, "fix the test")
	if err != nil {
		t.Fatal(err)
	}
	digest1 := release(t, ns, sink.URL, secret, sha3, cloneURL)
	expectServing(t, ns, digest1, "hello from release 1")

	// A second release of a new commit replaces it cleanly.
	next := map[string]string{
		"main.go":      strings.ReplaceAll(storyRepo["main.go"], "release 1", "release 2"),
		"main_test.go": strings.ReplaceAll(storyRepo["main_test.go"], "release 1", "release 2"),
	}
	sha4, err := cp.Git.Commit("Codertocat", "Hello-World", next, "release 2")
	if err != nil {
		t.Fatal(err)
	}
	digest2 := release(t, ns, sink.URL, secret, sha4, cloneURL)
	if digest2 == digest1 {
		t.Errorf("the second release pushed the same digest %s", digest2)
	}
	expectServing(t, ns, digest2, "hello from release 2")
}

// release posts a signed push of sha to the default branch and waits for
// the release run; it returns the digest the run pushed.
func release(t *testing.T, ns, sinkURL, secret, sha, cloneURL string) string {
	t.Helper()
	before, _ := pipelineRuns(context.Background(), ns)
	seen := map[string]bool{}
	for _, r := range before {
		seen[r.Name] = true
	}
	// The merge moved the default branch: the interceptor releases only
	// the commit it points at.
	cp.GitHub.SetBranch("Codertocat/Hello-World", "master", sha)
	postGitHub(t, sinkURL, "push", pushPayload(t, sha, cloneURL), secret)
	name := waitNewRun(t, ns, "hello-world-release", seen)
	run := waitPipelineRun(t, ns, name, 15*time.Minute)
	runs := taskRuns(t, ns, name)
	reportRuns(t, runs)
	if !run.Status.GetCondition("Succeeded").IsTrue() {
		t.Fatalf("release run %s: %s\n%s", name, run.Status.GetCondition("Succeeded").GetMessage(), failedLogs(ns, runs))
	}
	digest := result(runs["build-image"], "IMAGE_DIGEST")
	if !strings.HasPrefix(digest, "sha256:") {
		t.Fatalf("release run %s pushed no digest (results %+v)", name, runs["build-image"].Status.Results)
	}
	if got := result(runs["clone"], "commit"); got != sha {
		t.Errorf("release run cloned %s, want %s", got, sha)
	}
	return digest
}

// expectServing checks that the Deployment's Pods run exactly digest and
// answer with body.
func expectServing(t *testing.T, ns, digest, body string) {
	t.Helper()
	ctx := context.Background()
	var pods corev1.PodList
	err := cp.WaitFor(ctx, 2*time.Minute, func() (bool, error) {
		if err := cp.Get(ctx, ns, "pods", "", &pods); err != nil {
			return false, err
		}
		n := 0
		for _, p := range pods.Items {
			if p.Labels["app"] != "hello-world" || p.DeletionTimestamp != nil {
				continue
			}
			if p.Status.Phase != corev1.PodRunning || !strings.HasSuffix(p.Spec.Containers[0].Image, "@"+digest) {
				return false, nil
			}
			n++
		}
		return n > 0, nil
	})
	if err != nil {
		t.Fatalf("the Deployment does not run %s only: %v", digest, err)
	}
	for _, p := range pods.Items {
		if p.Labels["app"] != "hello-world" || p.DeletionTimestamp != nil {
			continue
		}
		got, err := httpGet(fmt.Sprintf("http://%s:8080/", p.Status.PodIP))
		if err != nil || strings.TrimSpace(got) != body {
			t.Errorf("pod %s answers %q (%v), want %q", p.Name, got, err, body)
		}
	}
}

// waitNewRun waits for a PipelineRun of pipeline that is not in seen.
func waitNewRun(t *testing.T, ns, pipeline string, seen map[string]bool) string {
	t.Helper()
	ctx := context.Background()
	var name string
	err := cp.WaitFor(ctx, time.Minute, func() (bool, error) {
		runs, err := pipelineRuns(ctx, ns)
		for _, r := range runs {
			if r.Spec.PipelineRef != nil && r.Spec.PipelineRef.Name == pipeline && !seen[r.Name] {
				name = r.Name
				return true, nil
			}
		}
		return false, err
	})
	if err != nil {
		t.Fatalf("no new %s run: %v", pipeline, err)
	}
	return name
}

// statesFor lists the states posted for sha under context, oldest first.
func statesFor(sha, context string) []string {
	var out []string
	for _, r := range cp.GitHub.Requests() {
		if r.Method != "POST" || !strings.HasSuffix(r.Path, "/statuses/"+sha) {
			continue
		}
		body, _ := r.Body.(map[string]any)
		if body["context"] == context {
			out = append(out, fmt.Sprint(body["state"]))
		}
	}
	return out
}

// prPayload is GitHub's pull_request.opened example for the built-in
// repository with its head at sha and its clone URL on the git server.
func prPayload(t *testing.T, sha, cloneURL string) []byte {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal(readPayload(t, "pull_request.opened.json"), &p); err != nil {
		t.Fatal(err)
	}
	p["repository"].(map[string]any)["clone_url"] = cloneURL
	pr := p["pull_request"].(map[string]any)
	head := pr["head"].(map[string]any)
	head["sha"] = sha
	head["repo"].(map[string]any)["clone_url"] = cloneURL
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pushPayload is GitHub's push example to a new branch, made a push of sha
// to the default branch (master) with the git server's clone URL.
func pushPayload(t *testing.T, sha, cloneURL string) []byte {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal(readPayload(t, "push.with-new-branch.json"), &p); err != nil {
		t.Fatal(err)
	}
	if p["ref"] != "refs/heads/master" {
		t.Fatalf("the push example's ref is %v", p["ref"])
	}
	p["after"] = sha
	p["repository"].(map[string]any)["clone_url"] = cloneURL
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// chatOps posts issue comments on pull request #1, whose head is sha: the
// generated ClusterInterceptor's Pod (the tool image, TLS with the CA it
// published into its ClusterInterceptor) asks the GitHub API test server
// who may run CI and what the head is.
func chatOps(t *testing.T, ns string, sink *controlplane.EventListenerSink, secret, sha string) {
	t.Helper()
	ctx := context.Background()
	const repo = "Codertocat/Hello-World"
	var c map[string]any
	if err := json.Unmarshal(readPayload(t, "issue_comment.created.json"), &c); err != nil {
		t.Fatal(err)
	}
	issue := c["issue"].(map[string]any)
	number := int(issue["number"].(float64))
	// GitHub's example comments on a plain issue; a comment on a pull
	// request carries issue.pull_request.
	issue["pull_request"] = map[string]any{"url": cp.GitHub.URL + "/repos/" + repo + "/pulls/" + strconv.Itoa(number)}
	cp.GitHub.AddPull(repo, githubtest.Pull{Number: number, Author: "Codertocat", Association: "OWNER", HeadSHA: sha, HeadRef: "changes", BaseRef: "master"})
	cp.GitHub.SetPermission(repo, "Codertocat", "admin")
	if _, err := cp.Kubectl(ctx, nil, "rollout", "status", "deployment/hello-world-interceptor", "-n", ns, "--timeout=2m"); err != nil {
		desc, _ := cp.Kubectl(ctx, nil, "describe", "pods", "-n", ns, "-l", "app.kubernetes.io/name=hello-world-interceptor")
		t.Fatalf("the interceptor Deployment: %v\n%s", err, desc)
	}
	comment := func(login, body string) []byte {
		cm := c["comment"].(map[string]any)
		cm["body"] = body
		cm["user"].(map[string]any)["login"] = login
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	known := func() map[string]bool {
		runs, _ := pipelineRuns(ctx, ns)
		m := map[string]bool{}
		for _, r := range runs {
			m[r.Name] = true
		}
		return m
	}
	seen := known()
	// The EventListener reloads ClusterInterceptors' CA bundles once a
	// minute, so the freshly published CA may not be trusted yet: repeat the
	// comment until the first run starts (a refused delivery starts none).
	var name string
	err := cp.WaitFor(ctx, 3*time.Minute, func() (bool, error) {
		postGitHub(t, sink.URL, "issue_comment", comment("Codertocat", "/retest"), secret)
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			runs, err := pipelineRuns(ctx, ns)
			if err != nil {
				return false, err
			}
			for _, r := range runs {
				if !seen[r.Name] {
					name = r.Name
					return true, nil
				}
			}
			time.Sleep(time.Second)
		}
		return false, nil
	})
	if err != nil {
		ilog, _ := cp.Kubectl(ctx, nil, "logs", "-n", ns, "deployment/hello-world-interceptor", "--tail=30")
		t.Fatalf("a trusted /retest started no run: %v\nsink:\n%s\ninterceptor:\n%s", err, sink.Log(30), ilog)
	}
	time.Sleep(5 * time.Second) // a repeated comment that also got through
	seen = known()
	// Now that the interceptor is trusted, an untrusted commenter's /retest
	// reaches it and is refused: nothing starts.
	postGitHub(t, sink.URL, "issue_comment", comment("stranger", "/retest"), secret)
	time.Sleep(15 * time.Second)
	if now := known(); len(now) != len(seen) {
		t.Errorf("a /retest by an untrusted user started a run")
	}
	if log := sink.Log(20); !strings.Contains(log, "stranger") {
		t.Logf("EventListener log (no line names the refused commenter):\n%s", log)
	}
	run := waitPipelineRun(t, ns, name, 15*time.Minute)
	runs := taskRuns(t, ns, name)
	reportRuns(t, runs)
	if !run.Status.GetCondition("Succeeded").IsTrue() {
		t.Fatalf("the /retest run %s: %s\n%s", name, run.Status.GetCondition("Succeeded").GetMessage(), failedLogs(ns, runs))
	}
	if got := result(runs["clone"], "commit"); got != sha {
		t.Errorf("/retest ran %s, want the PR head %s", got, sha)
	}
}
