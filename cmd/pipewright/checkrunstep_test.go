package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipewright/pipewright/generator/catalog"
	"github.com/pipewright/pipewright/pkg/github/githubtest"
	"github.com/pipewright/pipewright/test/steprun"
)

// The two catalog steps of a failing pull-request run, on this machine: the
// go-test step, given its log name, fails and keeps its output in the
// checkout; then the github-check-run step, with its args substituted as
// Tekton would and its Secret's key file where it mounts it, writes one
// completed check run as the App: conclusion failure, the task table, the
// test's last lines and an annotation at the failing test's line.
func TestCheckRunStepReportsFailedGoTest(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("skipping: go not on PATH")
	}
	co := t.TempDir()
	for name, content := range map[string]string{
		"go.mod":            "module example.com/tiny\n\ngo 1.22\n",
		"calc/calc.go":      "package calc\n\nfunc Add(a, b int) int { return a + b + 1 }\n",
		"calc/calc_test.go": "package calc\n\nimport \"testing\"\n\nfunc TestAdd(t *testing.T) {\n\tif got := Add(1, 2); got != 3 {\n\t\tt.Errorf(\"Add(1, 2) = %d, want 3\", got)\n\t}\n}\n",
	} {
		p := filepath.Join(co, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	test, _ := catalog.Get("go-test")
	_, err := steprun.Run(context.Background(), test.Spec, test.Spec.Steps[0], steprun.Inputs{
		Params:     map[string]string{"junit-report": "", "race": "false", catalog.LogNameParam: "test"},
		Workspaces: map[string]string{"source": co, "cache": steprun.GoCache(t)},
		Env:        []string{"GOFLAGS=-mod=mod", "GOTOOLCHAIN=local"},
	})
	if err == nil {
		t.Fatal("the failing test passed")
	}

	srv := githubtest.New(t)
	const sha = "0123456789abcdef0123456789abcdef01234567"
	srv.AddRepo("octo/tiny", sha)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	srv.AddApp(31, &key.PublicKey)
	srv.Install(31, "octo")
	secret := t.TempDir()
	if err := os.WriteFile(filepath.Join(secret, catalog.AppKeyFile), pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		t.Fatal(err)
	}

	report, _ := catalog.Get("github-check-run")
	step := report.Spec.Steps[0]
	params := map[string]string{
		"name": "tiny-pull-request", "repo-full-name": "octo/tiny", "sha": sha, "state": "failure",
		"target-url": "https://dashboard.example.com/#/namespaces/ci/pipelineruns/tiny-pr-1", "github-api-url": srv.URL, "app-id": "31",
	}
	for _, p := range report.Spec.Params {
		if _, ok := params[p.Name]; !ok && p.Default != nil {
			params[p.Name] = p.Default.StringVal
		}
	}
	var args []string
	for _, a := range step.Args {
		if a == "$(params.tasks[*])" {
			args = append(args, "clone=Succeeded", "test=Failed", "build-image=None")
			continue
		}
		for k, v := range params {
			a = strings.ReplaceAll(a, "$(params."+k+")", v)
		}
		a = strings.ReplaceAll(a, "$(workspaces.source.path)", co)
		a = strings.ReplaceAll(a, step.VolumeMounts[0].MountPath, secret)
		if strings.Contains(a, "$(") {
			t.Fatalf("arg %s left unsubstituted", a)
		}
		args = append(args, a)
	}
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		t.Fatalf("pipewright %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}

	runs := srv.CheckRuns("octo/tiny")
	if len(runs) != 1 {
		t.Fatalf("%d check runs, want 1", len(runs))
	}
	run := runs[0]
	if run["name"] != "tiny-pull-request" || run["status"] != "completed" || run["conclusion"] != "failure" || run["details_url"] != params["target-url"] {
		t.Errorf("check run %v", run)
	}
	summary := run["output"].(map[string]any)["summary"].(string)
	for _, want := range []string{"| clone | ✅ Succeeded | — |", "| test | ❌ Failed | ", "| build-image | ⏭️ None (did not run) | — |",
		"calc_test.go:7: Add(1, 2) = 4, want 3", "FAIL\texample.com/tiny/calc"} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, summary)
		}
	}
	anns := srv.Annotations("octo/tiny", run["id"].(int64))
	if len(anns) != 1 {
		t.Fatalf("annotations %v, want the failing test's", anns)
	}
	a := anns[0].(map[string]any)
	if a["path"] != "calc/calc_test.go" || a["start_line"] != float64(7) || a["message"] != "Add(1, 2) = 4, want 3" {
		t.Errorf("annotation %v, want calc/calc_test.go:7", a)
	}
	for _, r := range srv.Requests() {
		if strings.Contains(r.Path, "/check-runs") && !strings.HasPrefix(r.Auth, "Bearer ghs_") {
			t.Errorf("%s %s without the installation token", r.Method, r.Path)
		}
	}
}
