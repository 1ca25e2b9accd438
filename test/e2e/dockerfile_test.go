//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pipewright/pipewright/generator/catalog"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	corev1 "k8s.io/api/core/v1"
)

// webRepo is a Node.js service built from a Dockerfile: npm test and lint
// need no package registry, and the Dockerfile's RUN hands a folder to uid
// 65532, which only works when the builder maps more than its own uid into
// the build (a rootless builder's subordinate ids). FROM names the node
// stand-in in the node's registry (%s).
func webRepo(from, body string) map[string]string {
	return map[string]string{
		"package.json":      `{"name": "web", "version": "1.0.0", "private": true, "scripts": {"test": "node --test", "lint": "node --check index.js && node --check greeting.js"}}` + "\n",
		"package-lock.json": `{"name": "web", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": {"": {"name": "web", "version": "1.0.0"}}}` + "\n",
		"greeting.js":       fmt.Sprintf("module.exports = () => %q;\n", body),
		"greeting.test.js": fmt.Sprintf(`const test = require('node:test');
const assert = require('node:assert');
const greeting = require('./greeting');
test('greeting', () => assert.strictEqual(greeting(), %q));
`, body),
		"index.js": `const http = require('node:http');
const greeting = require('./greeting');
http.createServer((req, res) => res.end(greeting() + '\n')).listen(8080);
`,
		"Dockerfile": "FROM " + from + `
WORKDIR /app
COPY package.json greeting.js index.js ./
RUN mkdir -p /app/data && chown -R 65532:65532 /app/data && test "$(stat -c %u /app/data)" = 65532
USER 65532
CMD ["node", "index.js"]
`,
		"k8s/app.yaml": appSpec{name: "web", noService: true}.manifests(),
	}
}

// TestDockerfileStory is the story of a Dockerfile project (the node pack)
// on the node: the generated pull-request pipeline tests, lints and builds
// the image with rootless BuildKit (uid 1000) without pushing, and the
// release pipeline builds, pushes by digest and deploys it, and the Pod
// answers. The namespace is labelled Pod Security level privileged, which
// the build step needs (baseline forbids its Unconfined seccomp profile).
func TestDockerfileStory(t *testing.T) {
	ctx := context.Background()
	ns := "dockerfile"
	node, ok := cp.Images().Standins["node"]
	if !ok {
		t.Skip("no node stand-in: this machine has no Node.js with npm")
	}
	s := startStory(t, &story{ns: ns, app: "web", repo: "acme/web", build: fmt.Sprintf("build: {pack: node}\nimage: {repository: %s/acme/web}\n", cp.Registry())},
		webRepo(node, "hello from the dockerfile, release 1"), "")
	sink, secret, cloneURL, sha1 := s.sink, s.secret, s.cloneURL, s.head
	// Before any run: the build step's Pod needs level privileged.
	if out, err := cp.Kubectl(ctx, nil, "label", "namespace", ns, "pod-security.kubernetes.io/enforce=privileged"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}

	// The pull request: test, lint and a build without push; pending, then
	// success.
	start := time.Now()
	postGitHub(t, sink.URL, "pull_request", prPayload(t, s.repo, sha1, cloneURL), secret)
	pr := waitNewRun(t, ns, "web-pull-request", nil)
	run := waitPipelineRun(t, ns, pr, 15*time.Minute)
	runs := taskRuns(t, ns, pr)
	reportRuns(t, runs)
	if !run.Status.GetCondition("Succeeded").IsTrue() {
		t.Fatalf("pull-request run %s: %s\n%s\nsink:\n%s", pr, run.Status.GetCondition("Succeeded").GetMessage(), failedLogs(ns, runs), sink.Log(30))
	}
	t.Logf("PR run (signed delivery to final status): %s", time.Since(start).Round(100*time.Millisecond))
	for _, task := range []string{"clone", "test", "lint", "build-image", "report-success"} {
		if tr, ok := runs[task]; !ok || !tr.Status.GetCondition("Succeeded").IsTrue() {
			t.Errorf("pull-request Task %s did not succeed", task)
		}
	}
	if got := statesFor(sha1, "pipewright/web"); strings.Join(got, ",") != "pending,success" {
		t.Errorf("statuses for %s = %v, want pending then success", sha1, got)
	}
	prDigest := result(runs["build-image"], "IMAGE_DIGEST")
	if !strings.HasPrefix(prDigest, "sha256:") {
		t.Errorf("the pull-request build wrote no digest: %+v", runs["build-image"].Status.Results)
	}
	if code := manifestStatus(t, "acme/web", sha1); code != 404 {
		t.Errorf("the pull-request build pushed %s/acme/web:%s (HTTP %d), want nothing pushed", cp.Registry(), sha1, code)
	}
	expectBuildStepContext(t, ns, runs["build-image"].Status.PodName)

	// The merge: the release builds, pushes by digest and deploys.
	start = time.Now()
	digest := s.release(t, sha1)
	t.Logf("release run (signed delivery to deployed): %s", time.Since(start).Round(100*time.Millisecond))
	if code := manifestStatus(t, "acme/web", digest); code != 200 {
		t.Errorf("the registry has no manifest %s/acme/web@%s (HTTP %d)", cp.Registry(), digest, code)
	}
	expectServing(t, ns, "web", digest, "hello from the dockerfile, release 1")
}

// TestBuildKitNeedsPrivilegedPodSecurity shows why the Dockerfile story's
// namespace is labelled privileged: under Pod Security baseline, the
// image-build Pod is refused for its Unconfined seccomp profile.
func TestBuildKitNeedsPrivilegedPodSecurity(t *testing.T) {
	ctx := context.Background()
	ns := "dockerfile-baseline"
	namespace(t, ns)
	if out, err := cp.Kubectl(ctx, nil, "label", "namespace", ns, "pod-security.kubernetes.io/enforce=baseline"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	applyCatalog(t, ns)
	run := `apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: build}
spec:
  taskRef: {name: image-build}
  params: [{name: image, value: "` + cp.Registry() + `/acme/refused:1"}]
  workspaces: [{name: source, emptyDir: {}}]
`
	if out, err := cp.Kubectl(ctx, []byte(run), "apply", "-n", ns, "-f", "-"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var tr v1.TaskRun
	err := cp.WaitFor(ctx, 2*time.Minute, func() (bool, error) {
		if err := cp.Get(ctx, ns, "taskrun", "build", &tr); err != nil {
			return false, err
		}
		c := tr.Status.GetCondition("Succeeded")
		return c != nil && !c.IsUnknown(), nil
	})
	if err != nil {
		t.Fatalf("the TaskRun did not end under baseline: %v (%+v)", err, tr.Status.Conditions)
	}
	c := tr.Status.GetCondition("Succeeded")
	if c.IsTrue() || !strings.Contains(c.GetMessage(), "baseline") || !strings.Contains(c.GetMessage(), "seccomp") {
		t.Errorf("under baseline the build ended %s: %s; want it refused by Pod Security for its seccomp profile", c.GetReason(), c.GetMessage())
	}
	t.Logf("under Pod Security baseline: %s: %s", c.GetReason(), c.GetMessage())
}

// expectBuildStepContext checks that the build step ran with the context
// the catalog declares: uid 1000, not root, Unconfined seccomp.
func expectBuildStepContext(t *testing.T, ns, podName string) {
	t.Helper()
	var pod corev1.Pod
	if err := cp.Get(context.Background(), ns, "pod", podName, &pod); err != nil {
		t.Fatal(err)
	}
	for _, c := range pod.Spec.Containers {
		if c.Name != "step-build-and-push" {
			continue
		}
		sc := c.SecurityContext
		if sc == nil || sc.RunAsUser == nil || *sc.RunAsUser != catalog.BuildKitUID || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot ||
			sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeUnconfined {
			t.Errorf("build step securityContext = %+v, want uid %d, non-root, Unconfined seccomp", sc, catalog.BuildKitUID)
		}
		return
	}
	t.Errorf("pod %s has no step-build-and-push container", pod.Name)
}

// manifestStatus is the HTTP status of the node's registry for repo's
// manifest ref (a tag or digest).
func manifestStatus(t *testing.T, repo, ref string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodHead, fmt.Sprintf("http://%s/v2/%s/manifests/%s", cp.Registry(), repo, ref), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
