//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pipewright/pipewright/pkg/github/githubtest"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
)

// monoService is a small Go service of the monorepo under services/<name>:
// its own module, a passing test, and its Deployment and Service.
func monoService(name, greeting string) map[string]string {
	dir := "services/" + name + "/"
	return map[string]string{
		dir + "go.mod":       "module example.com/" + name + "\n\ngo 1.26\n",
		dir + "main.go":      strings.ReplaceAll(helloRepo["main.go"], "hello from pipewright", greeting),
		dir + "main_test.go": strings.ReplaceAll(helloRepo["main_test.go"], "hello from pipewright", greeting),
		dir + "k8s/app.yaml": strings.ReplaceAll(`apiVersion: apps/v1
kind: Deployment
metadata: {name: NAME}
spec:
  replicas: 1
  selector: {matchLabels: {app: NAME}}
  template:
    metadata: {labels: {app: NAME}}
    spec:
      securityContext: {runAsNonRoot: true, runAsUser: 65532}
      containers:
      - name: NAME
        image: placeholder.invalid/NAME
        ports: [{containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: NAME}
spec:
  selector: {app: NAME}
  ports: [{port: 80, targetPort: 8080}]
`, "NAME", name),
	}
}

// TestMonorepoStory is a monorepo of two Go services (services/api and
// services/web) generated with a services: list and applied as generated:
// a pull request that changes only web runs the shared pull-request
// pipeline once, for web, and web's status goes pending then success; a
// merge that changes both releases both, neither cancelling the other, and
// each Deployment runs the digest its own release built.
func TestMonorepoStory(t *testing.T) {
	ctx := context.Background()
	const repo = "Codertocat/Monorepo"
	files := map[string]string{}
	for _, svc := range []string{"api", "web"} {
		for k, v := range monoService(svc, "hello from "+svc+" 1") {
			files[k] = v
		}
	}
	build := fmt.Sprintf(`build:
  pack: go
  # As in newStory: no C compiler for -race, no module proxy for gotestsum.
  test: {params: {race: "false", junit-report: ""}}
image: {repository: %s/%s, builder: go-image}
services:
  - {name: api, context: services/api}
  - {name: web, context: services/web}
`, cp.Registry(), strings.ToLower(repo))
	s := startStory(t, &story{ns: "monostory", app: "mono", repo: repo, build: build}, files, "")
	known := func() map[string]bool {
		runs, _ := pipelineRuns(ctx, s.ns)
		m := map[string]bool{}
		for _, r := range runs {
			m[r.Name] = true
		}
		return m
	}
	newRuns := func(seen map[string]bool) []v1.PipelineRun {
		runs, _ := pipelineRuns(ctx, s.ns)
		var out []v1.PipelineRun
		for _, r := range runs {
			if !seen[r.Name] {
				out = append(out, r)
			}
		}
		return out
	}

	// A pull request whose files are only web's: one run, web's.
	start := time.Now()
	web2 := monoService("web", "hello from web 2")
	prFiles := map[string]string{"services/web/main.go": web2["services/web/main.go"], "services/web/main_test.go": web2["services/web/main_test.go"]}
	prSHA := s.commit(t, prFiles, "web: greeting 2")
	cp.GitHub.AddPull(repo, githubtest.Pull{Number: 2, Author: "Codertocat", Association: "OWNER", HeadSHA: prSHA, HeadRef: "changes", BaseRef: "master",
		Files: []string{"services/web/main.go", "services/web/main_test.go"}})
	seen := known()
	postGitHub(t, s.sink.URL, "pull_request", prPayload(t, repo, prSHA, s.cloneURL), s.secret)
	pr := waitNewRun(t, s.ns, "mono-go-pull-request", seen)
	run := waitPipelineRun(t, s.ns, pr, 15*time.Minute)
	runs := taskRuns(t, s.ns, pr)
	reportRuns(t, runs)
	if !run.Status.GetCondition("Succeeded").IsTrue() {
		t.Fatalf("pull-request run %s: %s\n%s", pr, run.Status.GetCondition("Succeeded").GetMessage(), failedLogs(s.ns, runs))
	}
	t.Logf("PR feedback time (signed delivery to final status): %s", time.Since(start).Round(100*time.Millisecond))
	if got := run.Labels["pipewright.dev/service"]; got != "web" {
		t.Errorf("the pull-request run is labelled service %q, want web", got)
	}
	if got := param(run, "context"); got != "services/web" {
		t.Errorf("the pull-request run's context is %q, want services/web", got)
	}
	if got := result(runs["clone"], "commit"); got != prSHA {
		t.Errorf("the pull-request run cloned %s, want %s", got, prSHA)
	}
	if got := statesFor(prSHA, "pipewright/web"); strings.Join(got, ",") != "pending,success" {
		t.Errorf("web's statuses for %s = %v, want pending then success", prSHA, got)
	}
	if got := statesFor(prSHA, "pipewright/api"); len(got) != 0 {
		t.Errorf("api got statuses %v for a pull request that does not touch it", got)
	}
	if extra := newRuns(seen); len(extra) != 1 {
		var names []string
		for _, r := range extra {
			names = append(names, r.Name+" ("+r.Labels["pipewright.dev/service"]+")")
		}
		t.Errorf("the pull request started %d runs %v, want web's only", len(extra), names)
	}

	// A merge of the pull request's commit and one that changes api: the
	// push's commits touch both services, two releases, both deploy.
	api2 := monoService("api", "hello from api 2")
	merge := map[string]string{
		"services/api/main.go": api2["services/api/main.go"], "services/api/main_test.go": api2["services/api/main_test.go"],
	}
	sha := s.commit(t, merge, "api: greeting 2")
	seen = known()
	cp.GitHub.SetBranch(repo, "master", sha)
	postGitHub(t, s.sink.URL, "push", monoPush(t, s, map[string][]string{
		prSHA: {"services/web/main.go", "services/web/main_test.go"},
		sha:   {"services/api/main.go", "services/api/main_test.go"},
	}, prSHA, sha), s.secret)
	var releases []v1.PipelineRun
	err := cp.WaitFor(ctx, time.Minute, func() (bool, error) {
		releases = newRuns(seen)
		return len(releases) >= 2, nil
	})
	if err != nil {
		t.Fatalf("the merge started %d runs, want 2: %v\n%s", len(releases), err, serviceLogs(s.ns))
	}
	time.Sleep(5 * time.Second) // a third run would come with the others
	if releases = newRuns(seen); len(releases) != 2 {
		t.Fatalf("the merge started %d runs, want 2", len(releases))
	}
	digests := map[string]string{}
	for _, r := range releases {
		svc := r.Labels["pipewright.dev/service"]
		if r.Spec.PipelineRef == nil || r.Spec.PipelineRef.Name != "mono-go-release" {
			t.Errorf("the merge started %s (%s), not a release", r.Name, svc)
			continue
		}
		done := waitPipelineRun(t, s.ns, r.Name, 15*time.Minute)
		runs := taskRuns(t, s.ns, r.Name)
		reportRuns(t, runs)
		if done.Spec.Status != "" {
			t.Errorf("%s's release run %s was cancelled (%s)", svc, r.Name, done.Spec.Status)
		}
		if !done.Status.GetCondition("Succeeded").IsTrue() {
			t.Fatalf("%s's release run %s (%s): %s\n%s", svc, r.Name, done.Spec.Status, done.Status.GetCondition("Succeeded").GetMessage(), failedLogs(s.ns, runs))
		}
		if got := result(runs["clone"], "commit"); got != sha {
			t.Errorf("%s's release cloned %s, want %s", svc, got, sha)
		}
		if got := param(done, "manifests"); got != "services/"+svc+"/k8s" {
			t.Errorf("%s's release deploys %q, want services/%s/k8s", svc, got, svc)
		}
		digests[svc] = result(runs["build-image"], "IMAGE_DIGEST")
		if !strings.HasPrefix(digests[svc], "sha256:") {
			t.Fatalf("%s's release pushed no digest (results %+v)", svc, runs["build-image"].Status.Results)
		}
	}
	if svcs := slices.Sorted(maps.Keys(digests)); strings.Join(svcs, ",") != "api,web" {
		t.Fatalf("the releases were of %v, want api and web", svcs)
	}
	if digests["api"] == digests["web"] {
		t.Errorf("api and web released the same digest %s", digests["api"])
	}
	expectServing(t, s.ns, "api", digests["api"], "hello from api 2")
	expectServing(t, s.ns, "web", digests["web"], "hello from web 2")
}

// param is the value of a PipelineRun's string param name.
func param(r *v1.PipelineRun, name string) string {
	for _, p := range r.Spec.Params {
		if p.Name == name {
			return p.Value.StringVal
		}
	}
	return ""
}

// monoPush is the push example made a push to the default branch of the
// commits shas, oldest first, each modifying its files (the release
// triggers' path filters read the commits' file lists); the last is the
// new head.
func monoPush(t *testing.T, s *story, files map[string][]string, shas ...string) []byte {
	t.Helper()
	head := shas[len(shas)-1]
	var p map[string]any
	if err := json.Unmarshal(pushPayload(t, s.repo, head, s.cloneURL), &p); err != nil {
		t.Fatal(err)
	}
	var commits []any
	for _, sha := range shas {
		c := maps.Clone(p["head_commit"].(map[string]any))
		c["id"], c["added"], c["removed"], c["modified"] = sha, []string{}, []string{}, files[sha]
		commits = append(commits, c)
	}
	p["commits"], p["head_commit"] = commits, commits[len(commits)-1]
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
