package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipewright/pipewright/pkg/github/githubtest"
)

const ghSHA = "0123456789abcdef0123456789abcdef01234567"

// runGitHub runs `pipewright github ARGS...` and returns stdout and the error.
func runGitHub(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(append([]string{"github"}, args...))
	err := root.Execute()
	return out.String(), err
}

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestGitHubStatusCommand(t *testing.T) {
	srv := githubtest.New(t)
	srv.AddRepo("octo/app", ghSHA)
	token := writeTemp(t, "token", srv.AppToken+"\n")
	out, err := runGitHub(t, "status", "--api-url", srv.URL, "--token-file", token,
		"--repo", "octo/app", "--sha", ghSHA, "--state", "failure", "--context", "pipewright/pr",
		"--check-run", "pipewright/pr", "--task", "clone=Succeeded", "--task", "test=Failed",
		"--annotations", "./main.go:3:1: undefined: x\nFAIL")
	if err != nil {
		t.Fatal(err)
	}
	want := "status failure set on octo/app@" + ghSHA + " (context \"pipewright/pr\")\n" +
		"check run pipewright/pr (1002) created on octo/app@" + ghSHA + ": 2 tasks, 1 annotations\n"
	if out != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", out, want)
	}
	var methods []string
	for _, r := range srv.Requests() {
		methods = append(methods, r.Method+" "+r.Path)
		if r.Auth != "Bearer "+srv.AppToken {
			t.Errorf("%s %s: Authorization %q", r.Method, r.Path, r.Auth)
		}
	}
	wantReqs := "POST /repos/octo/app/statuses/" + ghSHA + "|GET /repos/octo/app/commits/" + ghSHA + "/check-runs|POST /repos/octo/app/check-runs"
	if got := strings.Join(methods, "|"); got != wantReqs {
		t.Errorf("requests %s, want %s", got, wantReqs)
	}
	if n := len(srv.Annotations("octo/app", 1002)); n != 1 {
		t.Errorf("%d annotations on the server, want 1", n)
	}
}

func TestGitHubStatusCommandBadToken(t *testing.T) {
	srv := githubtest.New(t)
	srv.AddRepo("octo/app", ghSHA)
	t.Setenv("GITHUB_TOKEN", "expired")
	_, err := runGitHub(t, "status", "--api-url", srv.URL, "--repo", "octo/app", "--sha", ghSHA, "--state", "success")
	want := "POST /repos/octo/app/statuses/" + ghSHA + ": HTTP 401 Bad credentials: the token is invalid or expired (check --token-file or GITHUB_TOKEN)"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}

func TestGitHubWebhookCommandTwice(t *testing.T) {
	srv := githubtest.New(t)
	srv.AddRepo("octo/app")
	t.Setenv("GITHUB_TOKEN", srv.Token)
	secret := writeTemp(t, "secret", "hmac-secret\n")
	args := []string{"webhook", "--api-url", srv.URL, "--repo", "octo/app", "--url", "https://ci.example.com/", "--secret-file", secret}
	for i, verb := range []string{"created", "updated"} {
		out, err := runGitHub(t, args...)
		if err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
		want := "webhook 1001 " + verb + " on octo/app: https://ci.example.com/, events pull_request, push, issue_comment, content type json\n"
		if out != want {
			t.Errorf("run %d stdout %q, want %q", i+1, out, want)
		}
	}
	if hooks := srv.Hooks("octo/app"); len(hooks) != 1 {
		t.Fatalf("%d hooks after two runs, want 1", len(hooks))
	}
	if got := srv.HookSecret("octo/app", 1001); got != "hmac-secret" {
		t.Errorf("secret %q, want the file's content without its newline", got)
	}
}
