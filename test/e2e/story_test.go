//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pipewright/pipewright/generator"
	"github.com/pipewright/pipewright/generator/config"
	"github.com/pipewright/pipewright/pkg/github/githubtest"
	"github.com/pipewright/pipewright/pkg/interceptor"
	"github.com/pipewright/pipewright/pkg/keys"
	"github.com/pipewright/pipewright/test/controlplane"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	triggersv1 "github.com/tektoncd/triggers/pkg/apis/triggers/v1beta1"
	"google.golang.org/grpc/codes"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// storyRepo is the built-in example's repository as the git server holds
// it: a Go service with a test, and its Deployment and Service.
var storyRepo = map[string]string{
	"go.mod":       "module github.com/Codertocat/Hello-World\n\ngo 1.26\n",
	"main.go":      strings.ReplaceAll(helloRepo["main.go"], "hello from pipewright", "hello from release 1"),
	"main_test.go": strings.ReplaceAll(helloRepo["main_test.go"], "hello from pipewright", "hello from release 1"),
	"k8s/app.yaml": appSpec{name: "hello-world"}.manifests(),
}

// appSpec is the Deployment (and Service) in a story's k8s/app.yaml, which
// the release deploys: Deployment name, label app=name, the placeholder
// image the release replaces, uid 65532, port 8080; the stories differ
// only in these fields.
type appSpec struct {
	name string
	// stable adds track=stable to the Pods' labels and the selectors: the
	// stable track a canary release splits from.
	stable bool
	// grace is terminationGracePeriodSeconds; 0 keeps Kubernetes' default.
	grace int
	// container is more fields of the container, YAML lines at its indentation.
	container string
	// noService leaves the Service (port 80 to 8080) out.
	noService bool
}

func (a appSpec) manifests() string {
	labels := "app: " + a.name
	if a.stable {
		labels += ", track: stable"
	}
	var b strings.Builder
	fmt.Fprintf(&b, `apiVersion: apps/v1
kind: Deployment
metadata: {name: %[1]s}
spec:
  replicas: 1
  selector: {matchLabels: {%[2]s}}
  template:
    metadata: {labels: {%[2]s}}
    spec:
      securityContext: {runAsNonRoot: true, runAsUser: 65532}
`, a.name, labels)
	if a.grace > 0 {
		fmt.Fprintf(&b, "      terminationGracePeriodSeconds: %d\n", a.grace)
	}
	fmt.Fprintf(&b, `      containers:
      - name: %[1]s
        image: placeholder.invalid/%[1]s
        ports: [{containerPort: 8080}]
`, a.name)
	b.WriteString(a.container)
	if !a.noService {
		fmt.Fprintf(&b, `---
apiVersion: v1
kind: Service
metadata: {name: %s}
spec:
  selector: {%s}
  ports: [{port: 80, targetPort: 8080}]
`, a.name, labels)
	}
	return b.String()
}

// TestWholeStory is the story a team lives, on a default Tekton install:
// the generated project is applied as generated (with the node's stand-in
// images through --images, the tool image and the GitHub API test server in
// the config), a signed real pull_request.opened delivery reaches the
// EventListener Pod that Triggers runs, and a second push to the pull
// request cancels that run through the interceptor Pod; the second run
// passes every Task and its head commit gets pending then success; a commit
// whose test fails gets failure; then a signed push to the default branch
// releases: the image is built by pipewright's builder from the tool image,
// pushed by digest, and deployed. Two quick merges deploy in order, the
// newer one last; replayed and late pushes start nothing, and the
// interceptor refuses, over its TLS, a request for another repository.
func TestWholeStory(t *testing.T) {
	s := newStory(t, "story", "Codertocat/Hello-World", storyRepo, "")
	ns, sink, secret, cloneURL, sha1 := s.ns, s.sink, s.secret, s.cloneURL, s.head
	context := "pipewright/hello-world"

	// A pull request, and a second push to it before its run ends: the
	// interceptor cancels the first run, the second one runs to success
	// with pending then success on its head commit.
	first := time.Now()
	seen := runNames(t, ns)
	postGitHub(t, sink.URL, "pull_request", prPayload(t, s.repo, sha1, cloneURL), secret)
	cancelled := waitNewRun(t, ns, "hello-world-pull-request", seen)
	seen[cancelled] = true
	shaPR := s.commit(t, map[string]string{"README.md": "Hello, World.\n"}, "a README")
	start := time.Now()
	postGitHub(t, sink.URL, "pull_request", prSynchronize(t, s.repo, shaPR, cloneURL), secret)
	pr := waitNewRun(t, ns, "hello-world-pull-request", seen)
	run := waitPipelineRun(t, ns, pr, 15*time.Minute)
	feedback := time.Since(start)
	runs := taskRuns(t, ns, pr)
	reportRuns(t, runs)
	if !run.Status.GetCondition("Succeeded").IsTrue() {
		t.Fatalf("pull-request run %s: %s\n%s\nsink:\n%s", pr, run.Status.GetCondition("Succeeded").GetMessage(), failedLogs(ns, runs), sink.Log(30))
	}
	t.Logf("PR feedback time (signed delivery to final status): %s", feedback.Round(100*time.Millisecond))
	if got := statesFor(shaPR, context); strings.Join(got, ",") != "pending,success" {
		t.Errorf("statuses for %s = %v, want pending then success", shaPR, got)
	}
	expectLabels(t, run, map[string]string{interceptor.SHALabel: shaPR, interceptor.PullRequestLabel: "2", interceptor.KindLabel: "pull-request"})
	old := waitPipelineRun(t, ns, cancelled, 5*time.Minute)
	expectCancelled(t, old)
	expectLabels(t, old, map[string]string{interceptor.SHALabel: sha1, interceptor.PullRequestLabel: "2"})
	if got := statesFor(sha1, context); slices.Contains(got, "success") {
		t.Errorf("statuses for the cancelled run's %s = %v, want no success", sha1, got)
	}
	t.Logf("the cancelled first push added %s", start.Sub(first).Round(100*time.Millisecond))

	// ChatOps through the interceptor Pod: a trusted /retest starts a run of
	// the PR's head, an untrusted commenter's does not.
	chatOps(t, ns, sink, secret, shaPR)
	// A fork's pull request by a stranger waits for a reviewer's approval
	// of its exact head.
	forked := map[string]string{"CONTRIBUTING.md": "A change from outside.\n"}
	for k, v := range storyRepo {
		forked[k] = v
	}
	forkAndApprove(t, s, forked)

	// A commit whose test fails: the run fails at test, the status says so.
	broken := map[string]string{"main_test.go": strings.ReplaceAll(storyRepo["main_test.go"], `"hello from release 1"`, `"something else"`)}
	sha2 := s.commit(t, broken, "break the test")
	seen = runNames(t, ns)
	postGitHub(t, sink.URL, "pull_request", prPayload(t, s.repo, sha2, cloneURL), secret)
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
	sha3 := s.commit(t, fixed, "fix the test")
	digest1 := s.release(t, sha3)
	expectServing(t, ns, "hello-world", digest1, "hello from release 1")

	// Two quick merges: B lands while A's release is running. The
	// interceptor cancels A's run (or A was done before B's deploy began),
	// B's release deploys, and the Deployment ends on B.
	shaA := s.commit(t, releaseFiles(2), "release 2")
	shaB := s.commit(t, releaseFiles(3), "release 3")
	digestB := quickMerges(t, s, shaA, shaB)
	if digestB == digest1 {
		t.Errorf("the second release pushed the same digest %s", digestB)
	}
	expectServing(t, ns, "hello-world", digestB, "hello from release 3")

	// Replays and late pushes start nothing, and the interceptor refuses a
	// request about another repository.
	refusals(t, s, sha2, sha3, shaB)
	interceptorRefusesOthers(t, s)
	expectServing(t, ns, "hello-world", digestB, "hello from release 3")
}

// releaseFiles(n) is the story's service changed to answer "hello from release n".
func releaseFiles(n int) map[string]string {
	r := "release " + strconv.Itoa(n)
	return map[string]string{
		"main.go":      strings.ReplaceAll(storyRepo["main.go"], "release 1", r),
		"main_test.go": strings.ReplaceAll(storyRepo["main_test.go"], "release 1", r),
	}
}

// story is a generated project of the built-in example applied to its own
// namespace, its repository on the git server and the GitHub API test
// server, and its EventListener Pod running.
type story struct {
	ns, app, repo, secret, cloneURL string
	build                           string // the config's build and image lines
	head                            string // the repository's first commit
	sink                            *controlplane.EventListenerSink
}

// newStory generates the hello-world project for repo (owner/name) into ns
// with the node's stand-in images, the tool image and the GitHub API test
// server, plus extra config lines, applies it with kubectl apply -k as
// generated, creates the Secrets its README lists, and pushes files as the
// repository's first commit.
func newStory(t *testing.T, ns, repo string, files map[string]string, extra string) *story {
	t.Helper()
	build := fmt.Sprintf(`build:
  pack: go
  # The golang stand-in has no C compiler for -race, and gotestsum (the
  # JUnit report) would come from the module proxy, which Pods cannot reach.
  test: {params: {race: "false", junit-report: ""}}
image: {repository: %s/%s, builder: go-image}
`, cp.Registry(), strings.ToLower(repo))
	return startStory(t, &story{ns: ns, app: "hello-world", repo: repo, build: build}, files, extra)
}

// startStory creates s's namespace, applies its generated project with
// extra config lines, creates the Secrets its README lists, pushes files as
// the repository's first commit and starts the EventListener.
func startStory(t *testing.T, s *story, files map[string]string, extra string) *story {
	t.Helper()
	ctx := context.Background()
	ns, repo := s.ns, s.repo
	namespace(t, ns)
	s.secret = randomSecret(t)
	s.apply(t, extra)
	for _, args := range [][]string{
		{"create", "secret", "generic", "github-webhook", "-n", ns, "--from-literal=secret=" + s.secret},
		{"create", "secret", "generic", "github-token", "-n", ns, "--from-literal=token=" + randomSecret(t)},
	} {
		if out, err := cp.Kubectl(ctx, nil, args...); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
	}
	owner, name, _ := strings.Cut(repo, "/")
	var err error
	if s.head, err = cp.Git.CreateRepo(owner, name, files, "first commit"); err != nil {
		t.Fatal(err)
	}
	cp.GitHub.AddRepo(repo)
	s.waitInterceptor(t)
	if s.sink, err = cp.StartEventListener(ctx, ns, s.app+"-listener"); err != nil {
		t.Fatal(err)
	}
	s.cloneURL = cp.Git.RepoURL(owner, name)
	s.waitTrusted(t)
	return s
}

// apply generates the project with extra config lines and applies it as
// generated (kubectl apply -k), over what an earlier apply made.
func (s *story) apply(t *testing.T, extra string) {
	t.Helper()
	ctx := context.Background()
	cfgYAML := fmt.Sprintf(`apiVersion: pipewright.dev/v1alpha1
app: {name: %s, namespace: %s}
%stools: {image: %q}
github:
  repository: %s
  defaultBranch: master
  apiURL: %s
%s`, s.app, s.ns, s.build, cp.Images().Tool, s.repo, cp.GitHub.URL, extra)
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
	if s.sink != nil {
		// A later apply may roll the interceptor (its args follow the
		// config), and a new Pod makes a new CA: the next delivery needs
		// it serving and trusted again.
		s.waitInterceptor(t)
		s.waitTrusted(t)
	}
}

// waitInterceptor waits for the pipewright interceptor Deployment: every
// trigger ends with it (replay checks), so it must serve before a delivery.
// Its Pod mounts the github-token Secret, so this comes after the Secrets.
func (s *story) waitInterceptor(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	name := s.app + "-interceptor"
	if out, err := cp.Kubectl(ctx, nil, "rollout", "status", "deployment/"+name, "-n", s.ns, "--timeout=3m"); err != nil {
		desc, _ := cp.Kubectl(ctx, nil, "describe", "pods", "-n", s.ns, "-l", "app.kubernetes.io/name="+name)
		t.Fatalf("the interceptor Deployment: %v\n%s\n%s", err, out, desc)
	}
}

// waitTrusted waits until the EventListener trusts the interceptor's
// certificate. Triggers reads caBundles when the EventListener's Pod starts
// and then once a minute; the interceptor restarts that Pod once its CA is
// published (keys.InterceptorCA on the Pod template, checked here), so
// trust comes within seconds of the install, not a minute. A stranger's
// /retest on a pull request that does not exist passes the filters,
// reaches the interceptor and is refused there: once its delivery id is in
// the interceptor's log, TLS works.
func (s *story) waitTrusted(t *testing.T) {
	t.Helper()
	s.probeTrust(t)
	var d appsv1.Deployment
	if err := cp.Get(context.Background(), s.ns, "deployment", "el-"+s.app+"-listener", &d); err != nil {
		t.Fatal(err)
	}
	if got, want := d.Spec.Template.Annotations[keys.InterceptorCA], interceptor.CADigest([]byte(caBundle(t, s.ns+"."+s.app))); got != want {
		t.Errorf("EventListener Deployment's Pod template: %s=%q, want %q (the digest of the published CA)", keys.InterceptorCA, got, want)
	}
}

func (s *story) probeTrust(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	start := time.Now()
	for time.Since(start) < 3*time.Minute {
		id := randomSecret(t)
		postGitHubAs(t, s.sink.URL, "issue_comment", id, prComment(t, s.repo, 999, "probe", "/retest"), s.secret)
		time.Sleep(3 * time.Second)
		out, _ := cp.Kubectl(ctx, nil, "logs", "-n", s.ns, "deployment/"+s.app+"-interceptor", "--tail=200")
		if strings.Contains(string(out), id) {
			t.Logf("the EventListener trusts the interceptor after %s", time.Since(start).Round(time.Second))
			return
		}
	}
	t.Fatalf("the EventListener never reached the interceptor over TLS:\n%s", serviceLogs(s.ns))
}

// commit adds files to the story's repository and returns the new head.
func (s *story) commit(t *testing.T, files map[string]string, msg string) string {
	t.Helper()
	owner, name, _ := strings.Cut(s.repo, "/")
	sha, err := cp.Git.Commit(owner, name, files, msg)
	if err != nil {
		t.Fatal(err)
	}
	return sha
}

// push is a merge of sha to the default branch: the branch moves (the
// interceptor releases only the commit it points at) and GitHub delivers a
// signed push.
func (s *story) push(t *testing.T, sha string) {
	t.Helper()
	cp.GitHub.SetBranch(s.repo, "master", sha)
	postGitHub(t, s.sink.URL, "push", pushPayload(t, s.repo, sha, s.cloneURL), s.secret)
}

// releaseRun posts a signed push of sha to the default branch and waits for
// the release run to finish, whatever its outcome.
func (s *story) releaseRun(t *testing.T, sha string) (*v1.PipelineRun, map[string]v1.TaskRun) {
	t.Helper()
	before, _ := pipelineRuns(context.Background(), s.ns)
	seen := map[string]bool{}
	for _, r := range before {
		seen[r.Name] = true
	}
	s.push(t, sha)
	name := waitNewRun(t, s.ns, s.app+"-release", seen)
	run := waitPipelineRun(t, s.ns, name, 15*time.Minute)
	runs := taskRuns(t, s.ns, name)
	reportRuns(t, runs)
	return run, runs
}

// release runs a release of sha that must succeed and returns the digest
// it pushed.
func (s *story) release(t *testing.T, sha string) string {
	t.Helper()
	run, runs := s.releaseRun(t, sha)
	if !run.Status.GetCondition("Succeeded").IsTrue() {
		t.Fatalf("release run %s: %s\n%s", run.Name, run.Status.GetCondition("Succeeded").GetMessage(), failedLogs(s.ns, runs))
	}
	digest := result(runs["build-image"], "IMAGE_DIGEST")
	if !strings.HasPrefix(digest, "sha256:") {
		t.Fatalf("release run %s pushed no digest (results %+v)", run.Name, runs["build-image"].Status.Results)
	}
	if got := result(runs["clone"], "commit"); got != sha {
		t.Errorf("release run cloned %s, want %s", got, sha)
	}
	return digest
}

// expectServing checks that the Pods of Deployment app (label app=<app>)
// run exactly digest and answer with body.
func expectServing(t *testing.T, ns, app, digest, body string) {
	t.Helper()
	ctx := context.Background()
	var pods corev1.PodList
	err := cp.WaitFor(ctx, 2*time.Minute, func() (bool, error) {
		if err := cp.Get(ctx, ns, "pods", "", &pods); err != nil {
			return false, err
		}
		n := 0
		for _, p := range pods.Items {
			if p.Labels["app"] != app || p.DeletionTimestamp != nil {
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
		if p.Labels["app"] != app || p.DeletionTimestamp != nil {
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
		t.Fatalf("no new %s run: %v\n%s", pipeline, err, serviceLogs(ns))
	}
	return name
}

// serviceLogs are the last lines of every Pod in ns that is not a TaskRun's
// (the EventListener, the interceptor): where a delivery that started no
// run was refused.
func serviceLogs(ns string) string {
	ctx := context.Background()
	var pods corev1.PodList
	if err := cp.Get(ctx, ns, "pods", "", &pods); err != nil {
		return err.Error()
	}
	var b strings.Builder
	for _, p := range pods.Items {
		if p.Labels["tekton.dev/taskRun"] != "" {
			continue
		}
		out, err := cp.Kubectl(ctx, nil, "logs", "-n", ns, p.Name, "--all-containers", "--tail=25")
		fmt.Fprintf(&b, "==> %s: %v\n%s\n", p.Name, err, out)
	}
	return b.String()
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

// prPayload is GitHub's pull_request.opened example made a pull request on
// repo (OWNER/NAME) from a branch of it, with its head at sha and its clone URL on the git server.
func prPayload(t *testing.T, repo, sha, cloneURL string) []byte {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal(readPayload(t, "pull_request.opened.json"), &p); err != nil {
		t.Fatal(err)
	}
	p["repository"].(map[string]any)["clone_url"] = cloneURL
	p["repository"].(map[string]any)["full_name"] = repo
	pr := p["pull_request"].(map[string]any)
	pr["base"].(map[string]any)["repo"].(map[string]any)["full_name"] = repo
	head := pr["head"].(map[string]any)
	head["sha"] = sha
	head["repo"].(map[string]any)["clone_url"] = cloneURL
	head["repo"].(map[string]any)["full_name"] = repo
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pushPayload is GitHub's push example to a new branch, made a push of sha
// to the default branch (master) with the git server's clone URL.
func pushPayload(t *testing.T, repo, sha, cloneURL string) []byte {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal(readPayload(t, "push.with-new-branch.json"), &p); err != nil {
		t.Fatal(err)
	}
	if p["ref"] != "refs/heads/master" {
		t.Fatalf("the push example's ref is %v", p["ref"])
	}
	p["after"] = sha
	r := p["repository"].(map[string]any)
	r["clone_url"] = cloneURL
	r["full_name"] = repo
	_, r["name"], _ = strings.Cut(repo, "/")
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
	const number = 1
	cp.GitHub.AddPull(repo, githubtest.Pull{Number: number, Author: "Codertocat", Association: "OWNER", HeadSHA: sha, HeadRef: "changes", BaseRef: "master"})
	cp.GitHub.SetPermission(repo, "Codertocat", "admin")
	if _, err := cp.Kubectl(ctx, nil, "rollout", "status", "deployment/hello-world-interceptor", "-n", ns, "--timeout=2m"); err != nil {
		desc, _ := cp.Kubectl(ctx, nil, "describe", "pods", "-n", ns, "-l", "app.kubernetes.io/name=hello-world-interceptor")
		t.Fatalf("the interceptor Deployment: %v\n%s", err, desc)
	}
	comment := func(login, body string) []byte { return prComment(t, repo, number, login, body) }
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

// forkAndApprove is a pull request from a fork by an author without rights:
// its delivery starts nothing, a trusted /retest on it is refused (it would
// approve whatever the head is), and a trusted `/ok-to-test <sha>` of its
// head goes through the interceptor Pod and runs exactly that commit from
// the fork. The interceptor must already be trusted (chatOps waits for it).
func forkAndApprove(t *testing.T, s *story, files map[string]string) {
	t.Helper()
	ctx := context.Background()
	_, name, _ := strings.Cut(s.repo, "/")
	fork := "stranger/" + name
	sha, err := cp.Git.CreateRepo("stranger", name, files, "a change from a fork")
	if err != nil {
		t.Fatal(err)
	}
	forkURL := cp.Git.RepoURL("stranger", name)
	const number = 2
	if _, err := cp.Git.OpenPullRequest(s.repo, fork, number); err != nil {
		t.Fatal(err)
	}
	cp.GitHub.AddPull(s.repo, githubtest.Pull{Number: number, Author: "stranger", Association: "NONE", HeadSHA: sha, HeadRef: "patch-1", HeadRepo: fork, BaseRef: "master"})

	var p map[string]any
	if err := json.Unmarshal(prPayload(t, s.repo, sha, s.cloneURL), &p); err != nil {
		t.Fatal(err)
	}
	p["number"] = number
	pr := p["pull_request"].(map[string]any)
	pr["number"] = number
	pr["author_association"] = "NONE"
	pr["user"].(map[string]any)["login"] = "stranger"
	headRepo := pr["head"].(map[string]any)["repo"].(map[string]any)
	headRepo["full_name"] = fork
	headRepo["clone_url"] = forkURL
	headRepo["owner"].(map[string]any)["login"] = "stranger"
	body, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	known := func() map[string]bool {
		runs, _ := pipelineRuns(ctx, s.ns)
		m := map[string]bool{}
		for _, r := range runs {
			m[r.Name] = true
		}
		return m
	}
	seen := known()
	postGitHub(t, s.sink.URL, "pull_request", body, s.secret)
	postGitHub(t, s.sink.URL, "issue_comment", prComment(t, s.repo, number, "Codertocat", "/retest"), s.secret)
	time.Sleep(15 * time.Second)
	if now := known(); len(now) != len(seen) {
		t.Fatalf("an untrusted fork's pull request (or a /retest of it) started a run")
	}

	postGitHub(t, s.sink.URL, "issue_comment", prComment(t, s.repo, number, "Codertocat", "/ok-to-test "+sha), s.secret)
	run := waitNewRun(t, s.ns, s.app+"-pull-request", seen)
	done := waitPipelineRun(t, s.ns, run, 15*time.Minute)
	runs := taskRuns(t, s.ns, run)
	reportRuns(t, runs)
	if !done.Status.GetCondition("Succeeded").IsTrue() {
		t.Fatalf("the /ok-to-test run %s: %s\n%s", run, done.Status.GetCondition("Succeeded").GetMessage(), failedLogs(s.ns, runs))
	}
	if got := result(runs["clone"], "commit"); got != sha {
		t.Errorf("/ok-to-test ran %s, want the fork's head %s", got, sha)
	}
}

// prComment is GitHub's issue_comment.created example made a comment by
// login on pull request number of repo.
func prComment(t *testing.T, repo string, number int, login, text string) []byte {
	t.Helper()
	var c map[string]any
	if err := json.Unmarshal(readPayload(t, "issue_comment.created.json"), &c); err != nil {
		t.Fatal(err)
	}
	issue := c["issue"].(map[string]any)
	issue["number"] = number
	issue["pull_request"] = map[string]any{"url": cp.GitHub.URL + "/repos/" + repo + "/pulls/" + strconv.Itoa(number)}
	c["repository"].(map[string]any)["full_name"] = repo
	cm := c["comment"].(map[string]any)
	cm["body"] = text
	cm["user"].(map[string]any)["login"] = login
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// runNames are the names of the PipelineRuns in ns now.
func runNames(t *testing.T, ns string) map[string]bool {
	t.Helper()
	runs, err := pipelineRuns(context.Background(), ns)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]bool{}
	for _, r := range runs {
		m[r.Name] = true
	}
	return m
}

// prSynchronize is prPayload as a new push to the pull request: action
// synchronize, head at sha.
func prSynchronize(t *testing.T, repo, sha, cloneURL string) []byte {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal(prPayload(t, repo, sha, cloneURL), &p); err != nil {
		t.Fatal(err)
	}
	p["action"] = "synchronize"
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// expectLabels checks labels the interceptor finds a run by.
func expectLabels(t *testing.T, run *v1.PipelineRun, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got := run.Labels[k]; got != v {
			t.Errorf("PipelineRun %s: label %s = %q, want %q", run.Name, k, got, v)
		}
	}
}

// expectCancelled checks that a finished run was cancelled, as the
// interceptor cancels (its finally still reports), and not failed or
// succeeded on its own.
func expectCancelled(t *testing.T, run *v1.PipelineRun) {
	t.Helper()
	c := run.Status.GetCondition("Succeeded")
	if run.Spec.Status != v1.PipelineRunSpecStatusCancelledRunFinally || c == nil || c.IsTrue() || c.Reason != v1.PipelineRunReasonCancelled.String() {
		t.Errorf("PipelineRun %s: spec.status %q, condition %+v; want it cancelled (%s, reason %s)",
			run.Name, run.Spec.Status, c, v1.PipelineRunSpecStatusCancelledRunFinally, v1.PipelineRunReasonCancelled)
	}
}

// quickMerges pushes A, and B as soon as A's release run exists: B's
// release must succeed and be the last to deploy, A's must be cancelled or
// have finished before B's deploy started, so the two never deploy at once
// or out of order. It returns B's digest.
func quickMerges(t *testing.T, s *story, shaA, shaB string) string {
	t.Helper()
	seen := runNames(t, s.ns)
	s.push(t, shaA)
	nameA := waitNewRun(t, s.ns, s.app+"-release", seen)
	seen[nameA] = true
	s.push(t, shaB)
	nameB := waitNewRun(t, s.ns, s.app+"-release", seen)
	runB := waitPipelineRun(t, s.ns, nameB, 15*time.Minute)
	runsB := taskRuns(t, s.ns, nameB)
	reportRuns(t, runsB)
	if !runB.Status.GetCondition("Succeeded").IsTrue() {
		t.Fatalf("release run %s of B: %s\n%s", nameB, runB.Status.GetCondition("Succeeded").GetMessage(), failedLogs(s.ns, runsB))
	}
	if got := result(runsB["clone"], "commit"); got != shaB {
		t.Errorf("release run %s cloned %s, want B %s", nameB, got, shaB)
	}
	digest := result(runsB["build-image"], "IMAGE_DIGEST")
	if !strings.HasPrefix(digest, "sha256:") {
		t.Fatalf("release run %s pushed no digest (results %+v)", nameB, runsB["build-image"].Status.Results)
	}
	deployB, ok := runsB["deploy"]
	if !ok || deployB.Status.StartTime == nil {
		t.Fatalf("release run %s of B has no started deploy TaskRun", nameB)
	}
	runA := waitPipelineRun(t, s.ns, nameA, 5*time.Minute)
	runsA := taskRuns(t, s.ns, nameA)
	expectLabels(t, runA, map[string]string{interceptor.SHALabel: shaA, interceptor.KindLabel: "release"})
	expectLabels(t, runB, map[string]string{interceptor.SHALabel: shaB, interceptor.KindLabel: "release"})
	deployA, deployed := runsA["deploy"]
	switch {
	case runA.Status.GetCondition("Succeeded").Reason == v1.PipelineRunReasonCancelled.String():
		expectCancelled(t, runA)
		t.Logf("A's release %s was cancelled by B's push (deploy task ran: %v)", nameA, deployed && deployA.Status.StartTime != nil)
	case runA.Status.CompletionTime == nil || runA.Status.CompletionTime.After(deployB.Status.StartTime.Time):
		t.Errorf("A's release %s was not cancelled (%+v) and did not finish before B's deploy started at %s",
			nameA, runA.Status.GetCondition("Succeeded"), deployB.Status.StartTime)
	}
	if deployed && deployA.Status.StartTime != nil {
		// A cancelled run may have begun deploying: it must have stopped
		// before B's deploy began.
		if end := deployA.Status.CompletionTime; end == nil || end.After(deployB.Status.StartTime.Time) {
			t.Errorf("A's deploy (%s to %v) overlaps B's, which started at %s", deployA.Status.StartTime, end, deployB.Status.StartTime)
		}
	}
	return digest
}

// decision waits for the interceptor's n-th logged decision on delivery
// id (1 for the first time it came): a delivery it refuses is decided
// before the EventListener would create a run, so the run check after it
// needs no long sleep.
func (s *story) decision(t *testing.T, id string, n int) map[string]any {
	t.Helper()
	ctx := context.Background()
	var found map[string]any
	err := cp.WaitFor(ctx, time.Minute, func() (bool, error) {
		out, err := cp.Kubectl(ctx, nil, "logs", "-n", s.ns, "deployment/"+s.app+"-interceptor", "--tail=2000")
		if err != nil {
			return false, nil
		}
		seen := 0
		for _, line := range strings.Split(string(out), "\n") {
			var m map[string]any
			if strings.Contains(line, id) && json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "decision" && m["delivery"] == id {
				if seen++; seen == n {
					found = m
					return true, nil
				}
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("the interceptor logged no decision #%d on delivery %s: %v\n%s", n, id, err, serviceLogs(s.ns))
	}
	return found
}

// refused waits for the interceptor's decision on each delivery (the
// n-th on its id) to the reason it must give, then checks that no
// PipelineRun besides seen exists.
func (s *story) refused(t *testing.T, seen map[string]bool, reasons map[refusal]string) {
	t.Helper()
	for r, want := range reasons {
		d := s.decision(t, r.id, r.n)
		if d["continue"] != false || !strings.Contains(fmt.Sprint(d["reason"]), want) {
			t.Errorf("delivery %s (#%d): decision %v, want a refusal with %q", r.id, r.n, d, want)
		}
	}
	time.Sleep(3 * time.Second) // what a wrongly let-through delivery would have created by now
	for name := range runNames(t, s.ns) {
		if !seen[name] {
			t.Errorf("PipelineRun %s started after deliveries that must start none", name)
		}
	}
}

// refusal is the n-th time delivery id came.
type refusal struct {
	id string
	n  int
}

// refusals replays the release of sha3 (its run exists) and sends pushes
// of old commits once the default branch is at head; none may start a
// run, each refused by the check meant for it:
//   - GitHub's redelivery (same id, same body) by the delivery id label;
//   - a re-signed copy with a new id by the payload hash label;
//   - an edited, re-signed copy of sha3's push and a late push of sha2,
//     which have no run yet, by the branch-head check.
func refusals(t *testing.T, s *story, sha2, sha3, head string) {
	t.Helper()
	start := time.Now()
	var old *v1.PipelineRun
	runs, err := pipelineRuns(context.Background(), s.ns)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range runs {
		if r.Labels[interceptor.KindLabel] == "release" && r.Labels[interceptor.SHALabel] == sha3 {
			old = &runs[i]
		}
	}
	if old == nil {
		t.Fatalf("no release run labelled %s=%s", interceptor.SHALabel, sha3)
	}
	body := pushPayload(t, s.repo, sha3, s.cloneURL)
	id := old.Labels[interceptor.DeliveryLabel]
	if id == "" {
		t.Fatalf("release run %s has no %s label: %v", old.Name, interceptor.DeliveryLabel, old.Labels)
	}
	// The body is built again as it was: its hash must be the one on the run.
	expectLabels(t, old, map[string]string{interceptor.PayloadLabel: interceptor.PayloadHash(body)})

	var edited map[string]any
	if err := json.Unmarshal(body, &edited); err != nil {
		t.Fatal(err)
	}
	edited["before"] = sha2
	editedBody, err := json.Marshal(edited)
	if err != nil {
		t.Fatal(err)
	}
	seen := runNames(t, s.ns)
	copyID, editedID, lateID := randomSecret(t), randomSecret(t), randomSecret(t)
	postGitHubAs(t, s.sink.URL, "push", id, body, s.secret)
	postGitHubAs(t, s.sink.URL, "push", copyID, body, s.secret)
	postGitHubAs(t, s.sink.URL, "push", editedID, editedBody, s.secret)
	postGitHubAs(t, s.sink.URL, "push", lateID, pushPayload(t, s.repo, sha2, s.cloneURL), s.secret)
	s.refused(t, seen, map[refusal]string{
		{id, 2}:       "replay: a PipelineRun with " + interceptor.DeliveryLabel + "=" + id,
		{copyID, 1}:   "replay: a PipelineRun with " + interceptor.PayloadLabel + "=",
		{editedID, 1}: "push of " + sha3 + ", but master is at " + head,
		{lateID, 1}:   "push of " + sha2 + ", but master is at " + head,
	})
	t.Logf("replays and late pushes refused in %s", time.Since(start).Round(100*time.Millisecond))
}

// interceptorRefusesOthers calls the interceptor's Service over TLS, as
// the EventListener does (trusting the CA in its ClusterInterceptor), from
// the harness, which any Pod could do: a request naming another
// repository is refused, and so is one whose delivery is about another
// repository; the same request shape for the project's own repository is
// let through (so the refusals are about the repository). None starts a
// run, and the Pod logs each decision.
func interceptorRefusesOthers(t *testing.T, s *story) {
	t.Helper()
	ctx := context.Background()
	start := time.Now()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(caBundle(t, s.ns+"."+s.app))) {
		t.Fatalf("ClusterInterceptor %s.%s: no CA in its caBundle", s.ns, s.app)
	}
	var svc corev1.Service
	if err := cp.Get(ctx, s.ns, "service", s.app+"-interceptor", &svc); err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: pool, ServerName: s.app + "-interceptor." + s.ns + ".svc", MinVersion: tls.VersionTLS12}}}
	url := "https://" + net.JoinHostPort(svc.Spec.ClusterIP, "8443") + "/"
	const other = "octo-org/other"
	call := func(repoParam, event string, body []byte) (string, *triggersv1.InterceptorResponse) {
		t.Helper()
		id := randomSecret(t)
		req, err := json.Marshal(triggersv1.InterceptorRequest{
			Body:              string(body),
			Header:            map[string][]string{"X-Github-Event": {event}, "X-Github-Delivery": {id}},
			InterceptorParams: map[string]any{"repository": repoParam, "defaultBranch": "master"},
			Context:           &triggersv1.TriggerContext{EventID: id, TriggerID: "namespaces/" + s.ns + "/triggers/pull-request"},
		})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Post(url, "application/json", bytes.NewReader(req))
		if err != nil {
			t.Fatalf("POST %s: %v", url, err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var out triggersv1.InterceptorResponse
		if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &out) != nil {
			t.Fatalf("POST %s: %s: %s", url, resp.Status, raw)
		}
		return id, &out
	}
	prOf := func(repo string, number int) []byte {
		var p map[string]any
		if err := json.Unmarshal(prPayload(t, repo, s.head, s.cloneURL), &p); err != nil {
			t.Fatal(err)
		}
		p["number"] = number
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	seen := runNames(t, s.ns)
	// A pull request of a number with no runs: letting it through cancels
	// nothing.
	ownID, own := call(s.repo, "pull_request", prOf(s.repo, 99))
	if !own.Continue {
		t.Fatalf("the interceptor refused a request for its own repository: %+v", own.Status)
	}
	otherID, got := call(other, "pull_request", prOf(other, 98))
	if got.Continue || got.Status.Code != codes.PermissionDenied || !strings.Contains(got.Status.Message, "does not serve "+other) {
		t.Errorf("a request for %s: %+v, want continue=false, %s, \"does not serve %s\"", other, got, codes.PermissionDenied, other)
	}
	bodyID, got := call(s.repo, "pull_request", prOf(other, 97))
	if got.Continue || got.Status.Code != codes.FailedPrecondition || !strings.Contains(got.Status.Message, "delivery for "+other) {
		t.Errorf("a delivery about %s under %s's params: %+v, want continue=false, %s, \"delivery for %s\"", other, s.repo, got, codes.FailedPrecondition, other)
	}
	if d := s.decision(t, ownID, 1); d["continue"] != true {
		t.Errorf("the interceptor logged %v for its own repository's request", d)
	}
	s.refused(t, seen, map[refusal]string{{otherID, 1}: "does not serve " + other, {bodyID, 1}: "delivery for " + other})
	t.Logf("the interceptor's refusals over TLS checked in %s", time.Since(start).Round(100*time.Millisecond))
}
