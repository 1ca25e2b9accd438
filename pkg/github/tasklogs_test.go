package github

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pipewright/pipewright/pkg/keys"
)

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// go test prints a failing test's file relative to its package's folder;
// the report finds it in the checkout, takes the failed task's last lines
// and both tasks' durations.
func TestReadTaskLogs(t *testing.T) {
	co := t.TempDir()
	write(t, co, "svc/api/calc_test.go", "package api\n")
	write(t, co, "svc/api/calc.go", "package api\n")
	logs := filepath.Join(co, keys.TaskLogDir)
	var out strings.Builder
	for i := range 50 {
		out.WriteString("noise line " + strings.Repeat("x", i) + "\n")
	}
	out.WriteString("--- FAIL: TestAdd (0.00s)\n    calc_test.go:8: Add(1, 2) = 4, want 3\n" +
		co + "/svc/api/calc.go:3:1: exported function Add should have comment\nFAIL\tgithub.com/acme/svc/api\t0.004s\n")
	write(t, logs, "test.log", out.String())
	write(t, logs, "test.status", "1700000000 1700000072 1\n")
	write(t, logs, "lint.log", "all good\n")
	write(t, logs, "lint.status", "1700000000 1700000009 0\n")
	rep, err := ReadTaskLogs(co, []TaskOutcome{{Name: "clone", Outcome: "Succeeded"}, {Name: "lint", Outcome: "Succeeded"}, {Name: "test", Outcome: "Failed"}})
	if err != nil {
		t.Fatal(err)
	}
	wantTasks := []TaskOutcome{{"clone", "Succeeded", 0}, {"lint", "Succeeded", 9 * time.Second}, {"test", "Failed", 72 * time.Second}}
	if diff := cmp.Diff(wantTasks, rep.Tasks); diff != "" {
		t.Errorf("tasks (-want +got):\n%s", diff)
	}
	wantAnns := []Annotation{
		{Path: "svc/api/calc_test.go", Line: 8, Message: "Add(1, 2) = 4, want 3"},
		{Path: "svc/api/calc.go", Line: 3, Column: 1, Message: "exported function Add should have comment"},
	}
	if diff := cmp.Diff(wantAnns, rep.Annotations); diff != "" {
		t.Errorf("annotations (-want +got):\n%s", diff)
	}
	if len(rep.Logs) != 1 || rep.Logs[0].Name != "test" {
		t.Fatalf("logs %+v, want the failed test's", rep.Logs)
	}
	lines := strings.Split(strings.TrimSuffix(rep.Logs[0].Tail, "\n"), "\n")
	if len(lines) != tailLines || lines[len(lines)-1] != "FAIL\tgithub.com/acme/svc/api\t0.004s" {
		t.Errorf("tail has %d lines ending %q, want %d ending with go test's FAIL line", len(lines), lines[len(lines)-1], tailLines)
	}
}

// The code under test writes the checkout: a log that is a symlink to a
// file outside it (the App's key) is not read, nor is a FIFO waited on.
func TestReadTaskLogsStaysInCheckout(t *testing.T) {
	co, outside := t.TempDir(), t.TempDir()
	write(t, outside, "private-key.pem", "-----BEGIN RSA PRIVATE KEY-----\nsecret\n")
	logs := filepath.Join(co, keys.TaskLogDir)
	if err := os.MkdirAll(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "private-key.pem"), filepath.Join(logs, "test.log")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(logs, "lint.log")); err != nil {
		t.Fatal(err)
	}
	rep, err := ReadTaskLogs(co, []TaskOutcome{{Name: "test", Outcome: "Failed"}, {Name: "lint", Outcome: "Failed"}, {Name: "../x", Outcome: "Failed"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Logs) != 0 || len(rep.Annotations) != 0 {
		t.Errorf("read outside the checkout: %+v", rep)
	}
}

// A log cannot close the summary's code block.
func TestLogSectionFence(t *testing.T) {
	got := logSections([]TaskLog{{Name: "test", Tail: "```\n# injected\n````\n"}})
	if !strings.Contains(got, "\n`````\n```\n# injected\n````\n`````\n") {
		t.Errorf("got %q", got)
	}
}
