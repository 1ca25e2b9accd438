//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pipewright/pipewright/generator"
	"github.com/pipewright/pipewright/generator/catalog"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	corev1 "k8s.io/api/core/v1"
)

// helloRepo is a small repository with a Go service (an HTTP server and its
// test), a Node.js package and a Python test, plus the service's
// Deployment: nothing that needs a package registry, which Pods cannot reach.
var helloRepo = map[string]string{
	"go.mod": "module example.com/hello\n\ngo 1.26\n",
	// It answers HTTP with package net alone: from the cold build cache
	// every run starts with, net/http (TLS, x509, HTTP/2) doubled the CPU
	// of each Go step, on a 2-core node that runs the whole suite. The
	// demo that takes real traffic (TestRealTraffic) is examples/go, on
	// net/http.
	"main.go": `package main

import (
	"bufio"
	"fmt"
	"net"
	"time"
)

func greeting() string { return "hello from pipewright" }

// answer reads one request's head (at most 64 lines) and answers it with
// the greeting, closing the connection.
func answer(c net.Conn) {
	defer func() { _ = c.Close() }()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	for i := 0; i < 64; i++ {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		if line == "\r\n" || line == "\n" {
			break
		}
	}
	body := greeting() + "\n"
	_, _ = fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
}

func main() {
	l, err := net.Listen("tcp", ":8080")
	if err != nil {
		panic(err)
	}
	for {
		c, err := l.Accept()
		if err != nil {
			continue
		}
		go answer(c)
	}
}
`,
	"main_test.go": `package main

import "testing"

func TestGreeting(t *testing.T) {
	if greeting() != "hello from pipewright" {
		t.Fatal(greeting())
	}
}
`,
	"web/package.json":      `{"name": "web", "version": "1.0.0", "scripts": {"test": "node --test"}}` + "\n",
	"web/package-lock.json": `{"name": "web", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": {"": {"name": "web", "version": "1.0.0"}}}` + "\n",
	"web/sum.test.js":       "const test = require('node:test');\nconst assert = require('node:assert');\ntest('sum', () => assert.strictEqual(1 + 1, 2));\n",
	"py/test_sum.py":        "def test_sum():\n    assert 1 + 1 == 2\n",
	"k8s/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: hello}
spec:
  replicas: 1
  selector: {matchLabels: {app: hello}}
  template:
    metadata: {labels: {app: hello}}
    spec:
      securityContext: {runAsNonRoot: true, runAsUser: 65532}
      containers:
      - name: hello
        image: placeholder.invalid/hello
        ports: [{containerPort: 8080}]
`,
}

// catalogPipeline chains catalog Tasks the way a release would: clone, then
// Go test, build and lint, Node and Python tests and a Dockerfile image
// (image-build, rootless BuildKit) in parallel, the Go image built with
// pipewright's tool image and pushed to the node's registry, deployed with
// kubectl-apply, and a commit status posted. As in generated pipelines, the
// checkout is in the claim's src folder and the Go Tasks' optional cache
// workspace is its cache folder.
const catalogPipeline = `apiVersion: tekton.dev/v1
kind: Pipeline
metadata: {name: catalog-run}
spec:
  params:
  - {name: url}
  - {name: image}
  - {name: tool-image}
  - {name: github-api}
  workspaces: [{name: source}]
  tasks:
  - name: clone
    taskRef: {name: git-clone}
    params: [{name: url, value: $(params.url)}, {name: revision, value: main}]
    workspaces: [{name: output, workspace: source, subPath: src}]
  - name: go-test
    runAfter: [clone]
    taskRef: {name: go-test}
    # -race needs cgo, and gotestsum is fetched from the module proxy, which
    # Pods cannot reach here.
    params: [{name: race, value: "false"}, {name: junit-report, value: ""}]
    workspaces: [{name: source, workspace: source, subPath: src}, {name: cache, workspace: source, subPath: cache}]
  - name: go-build
    runAfter: [clone]
    taskRef: {name: go-build}
    workspaces: [{name: source, workspace: source, subPath: src}, {name: cache, workspace: source, subPath: cache}]
  - name: go-lint
    runAfter: [clone]
    taskRef: {name: go-lint}
    workspaces: [{name: source, workspace: source, subPath: src}, {name: cache, workspace: source, subPath: cache}]
  - name: node-test
    runAfter: [clone]
    taskRef: {name: node-test}
    params: [{name: context, value: web}]
    workspaces: [{name: source, workspace: source, subPath: src}]
  - name: python-test
    runAfter: [clone]
    taskRef: {name: python-test}
    params: [{name: context, value: py}]
    workspaces: [{name: source, workspace: source, subPath: src}]
  - name: dockerfile-image
    runAfter: [clone]
    taskRef: {name: image-build}
    params:
    - {name: image, value: "$(params.image)-docker:$(tasks.clone.results.commit)"}
    - {name: dockerfile, value: docker/Dockerfile}
    workspaces: [{name: source, workspace: source, subPath: src}]
  - name: image
    runAfter: [go-test, go-build]
    taskRef: {name: go-image}
    params:
    - {name: pipewright-image, value: $(params.tool-image)}
    - {name: image, value: $(params.image)}
    workspaces: [{name: source, workspace: source, subPath: src}, {name: cache, workspace: source, subPath: cache}]
  - name: deploy
    runAfter: [image]
    taskRef: {name: kubectl-apply}
    params:
    - {name: deployment, value: hello}
    - {name: container, value: hello}
    - {name: image, value: "$(tasks.image.results.IMAGE_URL)@$(tasks.image.results.IMAGE_DIGEST)"}
    - {name: rollout-timeout, value: 3m}
    workspaces: [{name: source, workspace: source, subPath: src}]
  finally:
  - name: status
    taskRef: {name: github-set-status}
    params:
    - {name: repo-full-name, value: acme/hello}
    - {name: sha, value: $(tasks.clone.results.commit)}
    - {name: state, value: success}
    - {name: github-api-url, value: $(params.github-api)}
`

// TestCatalogTasksRun installs the catalog with the node's stand-in images
// (pipewright catalog --images) and runs a PipelineRun that uses every
// catalog Task a stand-in exists for, on a claim from the default
// StorageClass (root-owned 0755, as block storage gives): each step really
// runs, as uid 65532, and the results, the pushed image, the running
// Deployment and the posted commit status are checked.
func TestCatalogTasksRun(t *testing.T) {
	ctx := context.Background()
	ns := "catalog-run"
	namespace(t, ns)
	applyCatalog(t, ns)
	// image-build's Dockerfile starts from the Debian stand-in; its RUN
	// hands a file to uid 65532, which needs the builder's id mapping.
	repo := maps.Clone(helloRepo)
	repo["docker/Dockerfile"] = "FROM " + cp.Images().Base + `
COPY py/ /srv/py/
RUN chown -R 65532:65532 /srv/py && test "$(stat -c %u /srv/py/test_sum.py)" = 65532
USER 65532
`
	sha, err := cp.Git.CreateRepo("acme", "hello", repo, "hello")
	if err != nil {
		t.Fatal(err)
	}
	setup := `apiVersion: v1
kind: ServiceAccount
metadata: {name: runner}
---
apiVersion: v1
kind: Secret
metadata: {name: github-token}
stringData: {token: test-token}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: deployer}
rules:
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get, list, watch, create, patch, update]
- apiGroups: [apps]
  resources: [replicasets]
  verbs: [get, list, watch]
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: deployer}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deployer}
subjects: [{kind: ServiceAccount, name: runner}]
---
` + catalogPipeline + `---
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: hello-1}
spec:
  pipelineRef: {name: catalog-run}
  params:
  - {name: url, value: "` + cp.Git.RepoURL("acme", "hello") + `"}
  - {name: image, value: "` + cp.Registry() + `/acme/hello"}
  - {name: tool-image, value: "` + cp.Images().Tool + `"}
  - {name: github-api, value: "` + cp.GitHub.URL + `"}
  taskRunTemplate:
    serviceAccountName: runner
    podTemplate:
      securityContext: {fsGroup: 65532}
  timeouts: {pipeline: 25m}
  workspaces:
  - name: source
    volumeClaimTemplate:
      spec:
        accessModes: [ReadWriteOnce]
        resources: {requests: {storage: 1Gi}}
`
	if out, err := cp.Kubectl(ctx, []byte(setup), "apply", "-n", ns, "-f", "-"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	start := time.Now()
	pr := waitPipelineRun(t, ns, "hello-1", 22*time.Minute)
	t.Logf("PipelineRun hello-1: %s in %s", pr.Status.GetCondition("Succeeded").GetReason(), time.Since(start).Round(time.Second))
	runs := taskRuns(t, ns, "hello-1")
	reportRuns(t, runs)
	if !pr.Status.GetCondition("Succeeded").IsTrue() {
		t.Fatalf("PipelineRun failed: %s\n%s", pr.Status.GetCondition("Succeeded").GetMessage(), failedLogs(ns, runs))
	}
	want := []string{"clone", "go-test", "go-build", "go-lint", "node-test", "python-test", "dockerfile-image", "image", "deploy", "status"}
	for _, task := range want {
		tr, ok := runs[task]
		if !ok {
			t.Errorf("no TaskRun for %s", task)
			continue
		}
		if !tr.Status.GetCondition("Succeeded").IsTrue() {
			t.Errorf("TaskRun %s: %s", task, tr.Status.GetCondition("Succeeded").GetMessage())
		}
	}
	if got := result(runs["clone"], "commit"); got != sha {
		t.Errorf("clone result commit = %q, want the repository's head %s", got, sha)
	}
	if got := result(runs["go-test"], "coverage"); got == "" || got == "0" {
		t.Errorf("go-test coverage result = %q, want a figure above 0", got)
	}
	if got := result(runs["go-build"], "binaries"); !strings.Contains(got, "hello") {
		t.Errorf("go-build binaries result = %q, want it to name hello", got)
	}
	digest := result(runs["image"], "IMAGE_DIGEST")
	if !strings.HasPrefix(digest, "sha256:") || result(runs["image"], "IMAGE_URL") != cp.Registry()+"/acme/hello" {
		t.Fatalf("go-image results: url %q digest %q", result(runs["image"], "IMAGE_URL"), digest)
	}
	// image-build pushed its image by tag, and the digest it wrote is the
	// registry's.
	dd := result(runs["dockerfile-image"], "IMAGE_DIGEST")
	if want := cp.Registry() + "/acme/hello-docker:" + sha; result(runs["dockerfile-image"], "IMAGE_URL") != want || !strings.HasPrefix(dd, "sha256:") {
		t.Errorf("image-build results: url %q (want %s) digest %q", result(runs["dockerfile-image"], "IMAGE_URL"), want, dd)
	} else if code := manifestStatus(t, "acme/hello-docker", dd); code != 200 {
		t.Errorf("the registry has no manifest acme/hello-docker@%s (HTTP %d)", dd, code)
	}
	// What the steps printed, read back through kubectl logs.
	if logs, err := cp.Kubectl(ctx, nil, "logs", "-n", ns, runs["go-test"].Status.PodName, "-c", "step-test"); err != nil || !strings.Contains(string(logs), "ok") {
		t.Errorf("go-test step log (err %v):\n%s", err, logs)
	}

	// The Deployment runs exactly the pushed digest, and answers.
	var pods corev1.PodList
	if err := cp.Get(ctx, ns, "pods", "", &pods); err != nil {
		t.Fatal(err)
	}
	var served bool
	for _, p := range pods.Items {
		if p.Labels["app"] != "hello" || p.Status.Phase != corev1.PodRunning {
			continue
		}
		if img := p.Spec.Containers[0].Image; !strings.HasSuffix(img, "@"+digest) {
			t.Errorf("pod %s runs %s, want the pushed digest %s", p.Name, img, digest)
		}
		if len(p.Status.ContainerStatuses) == 0 || !strings.HasSuffix(p.Status.ContainerStatuses[0].ImageID, digest) {
			t.Errorf("pod %s container status image %v, want %s", p.Name, p.Status.ContainerStatuses, digest)
		}
		body, err := httpGet(fmt.Sprintf("http://%s:8080/", p.Status.PodIP))
		if err != nil || strings.TrimSpace(body) != "hello from pipewright" {
			t.Errorf("GET the pod: %q, %v", body, err)
		}
		served = true
	}
	if !served {
		t.Error("no running hello pod")
	}
	statuses := cp.GitHub.Statuses("acme/hello")
	if len(statuses) != 1 || statuses[0]["state"] != "success" || !strings.HasSuffix(fmt.Sprint(statuses[0]["url"]), "/statuses/"+sha) {
		t.Errorf("GitHub test server statuses = %v, want one success for %s", statuses, sha)
	}
}

// applyCatalog installs every catalog Task into ns with the node's stand-in
// images, as `pipewright catalog --images` writes them.
func applyCatalog(t *testing.T, ns string) {
	t.Helper()
	ctx := context.Background()
	tree, err := generator.CatalogWithImages(standinImages(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := tree.Write(dir); err != nil {
		t.Fatal(err)
	}
	if out, err := cp.ApplyDir(ctx, ns, filepath.Join(dir, "tasks")); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}

// standinImages is the override set naming the node's stand-ins, as
// `--images` reads it from the file the harness writes.
func standinImages(t *testing.T) catalog.ImageSet {
	t.Helper()
	imagesFile, err := cp.ImagesFile()
	if err != nil {
		t.Fatal(err)
	}
	images, err := catalog.ReadImageFile(imagesFile)
	if err != nil {
		t.Fatal(err)
	}
	return images
}

func waitPipelineRun(t *testing.T, ns, name string, timeout time.Duration) *v1.PipelineRun {
	t.Helper()
	ctx := context.Background()
	var pr v1.PipelineRun
	err := cp.WaitFor(ctx, timeout, func() (bool, error) {
		if err := cp.Get(ctx, ns, "pipelinerun", name, &pr); err != nil {
			return false, err
		}
		c := pr.Status.GetCondition("Succeeded")
		return c != nil && !c.IsUnknown(), nil
	})
	if err != nil {
		runs := taskRuns(t, ns, name)
		reportRuns(t, runs)
		desc, _ := cp.Kubectl(ctx, nil, "get", "pods,pvc,pv", "-n", ns, "-o", "wide")
		t.Fatalf("PipelineRun %s did not finish: %v\n%s\n%s", name, err, desc, failedLogs(ns, runs))
	}
	return &pr
}

// taskRuns maps each pipeline task of a PipelineRun to its TaskRun.
func taskRuns(t *testing.T, ns, pipelineRun string) map[string]v1.TaskRun {
	t.Helper()
	var list v1.TaskRunList
	if err := cp.Get(context.Background(), ns, "taskruns", "", &list); err != nil {
		t.Fatal(err)
	}
	out := map[string]v1.TaskRun{}
	for _, tr := range list.Items {
		if tr.Labels["tekton.dev/pipelineRun"] == pipelineRun {
			out[tr.Labels["tekton.dev/pipelineTask"]] = tr
		}
	}
	return out
}

// reportRuns writes what ran, for a person reading the suite's output and
// for $PIPEWRIGHT_RUN_REPORT when set.
func reportRuns(t *testing.T, runs map[string]v1.TaskRun) {
	t.Helper()
	var b strings.Builder
	// In the order they started, as a person follows the run.
	tasks := sortedNames(runs)
	sort.SliceStable(tasks, func(i, j int) bool {
		a, b := runs[tasks[i]].Status.StartTime, runs[tasks[j]].Status.StartTime
		return a != nil && (b == nil || a.Before(b))
	})
	for _, task := range tasks {
		tr := runs[task]
		c := tr.Status.GetCondition("Succeeded")
		d := time.Duration(0)
		if tr.Status.StartTime != nil && tr.Status.CompletionTime != nil {
			d = tr.Status.CompletionTime.Sub(tr.Status.StartTime.Time)
		}
		fmt.Fprintf(&b, "  %-12s %-10s %6s\n", task, c.GetReason(), d.Round(100*time.Millisecond))
	}
	head := "TaskRuns"
	for _, tr := range runs {
		name := tr.Labels["tekton.dev/pipelineRun"]
		var pr v1.PipelineRun
		if name == "" || cp.Get(context.Background(), tr.Namespace, "pipelinerun", name, &pr) != nil {
			break
		}
		c := pr.Status.GetCondition("Succeeded")
		d := time.Duration(0)
		if pr.Status.StartTime != nil && pr.Status.CompletionTime != nil {
			d = pr.Status.CompletionTime.Sub(pr.Status.StartTime.Time)
		}
		pipeline := "embedded"
		if pr.Spec.PipelineRef != nil {
			pipeline = pr.Spec.PipelineRef.Name
		}
		head = fmt.Sprintf("PipelineRun %s/%s (%s): %s in %s", tr.Namespace, name, pipeline, c.GetReason(), d.Round(100*time.Millisecond))
		break
	}
	t.Logf("%s\n%s", head, b.String())
	if path := os.Getenv("PIPEWRIGHT_RUN_REPORT"); path != "" {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err == nil {
			fmt.Fprintf(f, "%s: %s\n%s", t.Name(), head, b.String())
			f.Close()
		}
	}
}

func sortedNames[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// failedLogs returns the logs of every step of the TaskRuns that did not
// succeed.
func failedLogs(ns string, runs map[string]v1.TaskRun) string {
	var b strings.Builder
	for _, task := range sortedNames(runs) {
		tr := runs[task]
		if tr.Status.GetCondition("Succeeded").IsTrue() || tr.Status.PodName == "" {
			continue
		}
		out, err := cp.Kubectl(context.Background(), nil, "logs", "-n", ns, tr.Status.PodName, "--all-containers", "--prefix", "--tail=40")
		fmt.Fprintf(&b, "==> %s (%s): %v\n%s\n", task, tr.Status.PodName, err, out)
	}
	return b.String()
}

func result(tr v1.TaskRun, name string) string {
	for _, r := range tr.Status.Results {
		if r.Name == name {
			return strings.TrimSpace(r.Value.StringVal)
		}
	}
	return ""
}

func httpGet(url string) (string, error) {
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return string(b), err
}
