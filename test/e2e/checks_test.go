//go:build e2e

package e2e

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// checksAppID is the GitHub App of TestCheckRunOfFailingPullRequest on the
// shared GitHub API test server.
const checksAppID = 5151

// TestCheckRunOfFailingPullRequest: a project generated with github.app
// gets a signed pull_request delivery whose head fails its test. The
// pull-request run fails at test, and its finally task, running pipewright
// from the tool image with the App's key from its Secret, trades the App's
// JWT (verified by the test server against the App's public key) for an
// installation token and leaves exactly one check run on the head: named
// after the pipeline, completed with conclusion failure, a table of the
// tasks, the test's last lines and an annotation at the failing line of
// main_test.go. No commit status is set.
func TestCheckRunOfFailingPullRequest(t *testing.T) {
	const repo = "Codertocat/Hello-Checks"
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	cp.GitHub.AddApp(checksAppID, &key.PublicKey)
	cp.GitHub.Install(checksAppID, "Codertocat", repo)

	files := map[string]string{}
	for k, v := range storyRepo {
		files[k] = v
	}
	// main_test.go:7 is t.Fatal(greeting()): it now fails there.
	files["main_test.go"] = strings.ReplaceAll(storyRepo["main_test.go"], `"hello from release 1"`, `"something else"`)
	if line := strings.Split(files["main_test.go"], "\n")[6]; !strings.Contains(line, "t.Fatal(greeting())") {
		t.Fatalf("main_test.go line 7 is %q", line)
	}
	s := newStory(t, "checks", repo, files, fmt.Sprintf("  app: {id: %d}\n", checksAppID))
	createAppSecret(t, s.ns, key)
	sha := s.head

	start := time.Now()
	postGitHub(t, s.sink.URL, "pull_request", prPayload(t, s.repo, sha, s.cloneURL), s.secret)
	name := waitNewRun(t, s.ns, s.app+"-pull-request", nil)
	run := waitPipelineRun(t, s.ns, name, 15*time.Minute)
	took := time.Since(start)
	runs := taskRuns(t, s.ns, name)
	reportRuns(t, runs)
	if run.Status.GetCondition("Succeeded").IsTrue() {
		t.Fatalf("the pull-request run %s of a failing test succeeded", name)
	}
	if tr, ok := runs["test"]; !ok || tr.Status.GetCondition("Succeeded").IsTrue() {
		t.Fatalf("the test Task did not fail: %+v", tr.Status.Conditions)
	}
	for _, report := range []string{"set-pending", "report-failure"} {
		if tr, ok := runs[report]; !ok || !tr.Status.GetCondition("Succeeded").IsTrue() {
			t.Errorf("%s did not succeed\n%s", report, failedLogs(s.ns, runs))
		}
	}
	t.Logf("PR run %s: delivery to finished run in %s", name, took.Round(100*time.Millisecond))

	var mine []map[string]any
	for _, c := range cp.GitHub.CheckRuns(repo) {
		if c["head_sha"] == sha {
			mine = append(mine, c)
		}
	}
	if len(mine) != 1 {
		t.Fatalf("%d check runs on %s, want one: %v", len(mine), sha, mine)
	}
	c := mine[0]
	if c["name"] != s.app+"-pull-request" || c["status"] != "completed" || c["conclusion"] != "failure" {
		t.Errorf("check run %v %v %v, want %s-pull-request completed with failure", c["name"], c["status"], c["conclusion"], s.app)
	}
	summary, _ := c["output"].(map[string]any)["summary"].(string)
	for _, want := range []string{"| Task | Outcome | Duration |", "| clone | ✅ Succeeded |", "| test | ❌ Failed | ",
		"| build-image | ⏭️ None (did not run) |", "main_test.go:7: hello from release 1", "--- FAIL: TestGreeting"} {
		if !strings.Contains(summary, want) {
			t.Errorf("the check run's summary lacks %q:\n%s", want, summary)
		}
	}
	var found bool
	for _, a := range cp.GitHub.Annotations(repo, c["id"].(int64)) {
		a := a.(map[string]any)
		if a["path"] == "main_test.go" && a["start_line"] == float64(7) && a["message"] == "hello from release 1" {
			found = true
		}
	}
	if !found {
		t.Errorf("no annotation at main_test.go:7: %v", cp.GitHub.Annotations(repo, c["id"].(int64)))
	}
	if got := statesFor(sha, "pipewright/"+s.app); len(got) != 0 {
		t.Errorf("commit statuses %v set besides the check run", got)
	}
	// Every check run write came with an installation token the server
	// issued, after the App's JWT found the installation.
	var lookedUp bool
	for _, r := range cp.GitHub.Requests() {
		if r.Path == "/repos/"+repo+"/installation" {
			lookedUp = true
		}
		if strings.Contains(r.Path, "/repos/"+repo+"/check-runs") && !strings.HasPrefix(r.Auth, "Bearer ghs_") {
			t.Errorf("%s %s without an installation token", r.Method, r.Path)
		}
	}
	if !lookedUp {
		t.Errorf("the App's installation on %s was never looked up", repo)
	}
}

// createAppSecret creates the Secret the generated README lists for the
// App: its private key as private-key.pem.
func createAppSecret(t *testing.T, ns string, key *rsa.PrivateKey) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "private-key.pem")
	if err := os.WriteFile(f, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := cp.Kubectl(context.Background(), nil, "create", "secret", "generic", "github-app", "-n", ns, "--from-file=private-key.pem="+f); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}
