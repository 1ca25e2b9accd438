//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// makeRepo is the story's Go service with a Makefile as its interface: the
// pipeline runs its targets (build.commands: make), as Jenkins X build
// packs run a project's make targets.
func makeRepo() map[string]string {
	files := map[string]string{
		"Makefile": ".PHONY: test lint\n" +
			"test:\n\tgo test -count=1 ./...\n\t@echo \"make test: the Makefile's own target ran\"\n" +
			"lint:\n\tgo vet ./...\n\t@echo \"make lint: the Makefile's own target ran\"\n",
	}
	for k, v := range storyRepo {
		files[k] = v
	}
	return files
}

// TestMakeCommandsStory: a pull request of a Go project whose config says
// build.commands: make runs the repository's make lint and make test in the
// golang image (task go-make) and passes; a commit whose make test fails
// fails the run at its test task, and the commit's status says so.
func TestMakeCommandsStory(t *testing.T) {
	build := fmt.Sprintf(`build:
  pack: go
  commands: make
image: {repository: %s/codertocat/hello-make, builder: go-image}
`, cp.Registry())
	s := startStory(t, &story{ns: "projects-make", app: "hello-make", repo: "Codertocat/Hello-Make", build: build}, makeRepo(), "")
	ctx := context.Background()
	status := "pipewright/hello-make"

	postGitHub(t, s.sink.URL, "pull_request", prPayload(t, s.repo, s.head, s.cloneURL), s.secret)
	pr := waitNewRun(t, s.ns, "hello-make-pull-request", nil)
	run := waitPipelineRun(t, s.ns, pr, 15*time.Minute)
	runs := taskRuns(t, s.ns, pr)
	reportRuns(t, runs)
	if !run.Status.GetCondition("Succeeded").IsTrue() {
		t.Fatalf("pull-request run %s: %s\n%s", pr, run.Status.GetCondition("Succeeded").GetMessage(), failedLogs(s.ns, runs))
	}
	for task, want := range map[string]string{"lint": "make lint: the Makefile's own target ran", "test": "make test: the Makefile's own target ran"} {
		tr, ok := runs[task]
		if !ok {
			t.Fatalf("no %s task ran", task)
		}
		if ref := tr.Spec.TaskRef; ref == nil || ref.Name != "go-make" {
			t.Errorf("%s ran %+v, want the go-make Task", task, ref)
		}
		out, err := cp.Kubectl(ctx, nil, "logs", "-n", s.ns, tr.Status.PodName, "--all-containers")
		if err != nil || !strings.Contains(string(out), want) {
			t.Errorf("%s: the Makefile's target did not run (%v):\n%s", task, err, out)
		}
	}
	if got := statesFor(s.head, status); strings.Join(got, ",") != "pending,success" {
		t.Errorf("statuses for %s = %v, want pending then success", s.head, got)
	}

	// make test fails: the run fails at its test task.
	broken := map[string]string{"main_test.go": strings.ReplaceAll(storyRepo["main_test.go"], `"hello from release 1"`, `"something else"`)}
	sha := s.commit(t, broken, "break the test")
	seen := map[string]bool{pr: true}
	postGitHub(t, s.sink.URL, "pull_request", prPayload(t, s.repo, sha, s.cloneURL), s.secret)
	pr2 := waitNewRun(t, s.ns, "hello-make-pull-request", seen)
	run = waitPipelineRun(t, s.ns, pr2, 15*time.Minute)
	runs = taskRuns(t, s.ns, pr2)
	reportRuns(t, runs)
	if run.Status.GetCondition("Succeeded").IsTrue() {
		t.Errorf("pull-request run %s of a failing make test succeeded", pr2)
	}
	if tr, ok := runs["test"]; !ok || tr.Status.GetCondition("Succeeded").IsTrue() {
		t.Errorf("the test task did not fail: %+v", tr.Status.Conditions)
	}
	if got := statesFor(sha, status); strings.Join(got, ",") != "pending,failure" {
		t.Errorf("statuses for %s = %v, want pending then failure", sha, got)
	}
}
