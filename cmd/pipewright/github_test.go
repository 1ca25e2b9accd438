package main

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipewright/pipewright/pkg/github/githubtest"
	"github.com/pipewright/pipewright/pkg/keys"
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

// As a finally step runs it: authenticated as a GitHub App from its key
// file, the check run alone, tasks as arguments, and the checkout's kept
// logs making the table's durations, the failed task's lines and its
// annotation.
func TestGitHubStatusCheckRunAsApp(t *testing.T) {
	srv := githubtest.New(t)
	srv.AddRepo("octo/app", ghSHA)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	srv.AddApp(77, &key.PublicKey)
	srv.Install(77, "octo", "octo/app")
	keyFile := writeTemp(t, "app.pem", string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})))
	co := t.TempDir()
	for name, content := range map[string]string{
		"main_test.go":                     "package main\n",
		keys.TaskLogDir + "/test.log":      "--- FAIL: TestHello (0.00s)\n    main_test.go:9: got \"hi\", want \"hello\"\nFAIL\n",
		keys.TaskLogDir + "/test.status":   "100 131 1\n",
		keys.TaskLogDir + "/clone.unknown": "",
	} {
		p := filepath.Join(co, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, err := runGitHub(t, "status", "--api-url", srv.URL, "--app-id", "77", "--app-key-file", keyFile,
		"--repo", "octo/app", "--sha", ghSHA, "--state", "failure", "--no-status", "--check-run", "app-pull-request",
		"--checkout", co, "clone=Succeeded", "test=Failed", "build-image=None")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "check run app-pull-request (") || !strings.Contains(out, "3 tasks, 1 annotations") {
		t.Errorf("stdout: %s", out)
	}
	runs := srv.CheckRuns("octo/app")
	if len(runs) != 1 || runs[0]["conclusion"] != "failure" {
		t.Fatalf("check runs %v", runs)
	}
	summary := runs[0]["output"].(map[string]any)["summary"].(string)
	for _, want := range []string{"| test | ❌ Failed | 31s |", "| clone | ✅ Succeeded | — |", "```\n--- FAIL: TestHello (0.00s)\n    main_test.go:9: got \"hi\", want \"hello\"\nFAIL\n```"} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, summary)
		}
	}
	anns := srv.Annotations("octo/app", runs[0]["id"].(int64))
	if len(anns) != 1 || anns[0].(map[string]any)["path"] != "main_test.go" || anns[0].(map[string]any)["start_line"] != float64(9) {
		t.Errorf("annotations %v", anns)
	}
}

func TestGitHubAppFlags(t *testing.T) {
	for args, want := range map[string]string{
		"--app-id 5":           "--app-id 5: pass the App's private key with --app-key-file",
		"--app-key-file x.pem": "--app-key-file and --app-installation-id need --app-id",
		"--app-id 5 --app-key-file x --token-file y": "--token-file and --app-id: give one way to authenticate",
	} {
		_, err := runGitHub(t, append([]string{"status", "--repo", "octo/app", "--sha", ghSHA, "--state", "success"}, strings.Fields(args)...)...)
		if err == nil || err.Error() != want {
			t.Errorf("%s: got %v, want %s", args, err, want)
		}
	}
}
