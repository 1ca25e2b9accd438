package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestLintCLI runs the real binary: the default --fail-on is error, the
// summary goes to stderr, and --feature-flags reaches Tekton's validation.
func TestLintCLI(t *testing.T) {
	bin := buildCLI(t)
	fixture := func(name string) string {
		return filepath.Join("..", "..", "pkg", "lint", "testdata", "fixtures", name)
	}
	for _, tc := range []struct {
		name       string
		args       []string
		code       int
		stdout     string // a line stdout must contain
		stderrHead string
	}{
		{"errors fail", []string{fixture("task-privileged.yaml")}, 1, "error privileged", "lint: 1 file, 1 object (1 Task)"},
		{"warnings pass by default", []string{fixture("tool-image.yaml")}, 0, "warning unpinned-image", "lint: 1 file, 2 objects (1 Pipeline, 1 Task)"},
		{"warnings fail on request", []string{"--fail-on", "warning", fixture("tool-image.yaml")}, 1, "warning unpinned-image", "lint: 1 file"},
		{"CEL when without the flag", []string{fixture("cel-when.yaml")}, 1, "error tekton-validate", "lint: 1 file, 1 object (1 Pipeline)"},
		{"CEL when with the flag", []string{"--feature-flags", "enable-cel-in-whenexpression=true", fixture("cel-when.yaml")}, 0, "", "lint: 1 file, 1 object (1 Pipeline)"},
		{"bad flag", []string{"--feature-flags", "enable-cel-in-whenexpression", fixture("cel-when.yaml")}, 2, "", "pipewright: --feature-flags: feature flag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			cmd := exec.Command(bin, append([]string{"lint"}, tc.args...)...)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			cmd.Run()
			if code := cmd.ProcessState.ExitCode(); code != tc.code {
				t.Errorf("exit code %d, want %d\n%s%s", code, tc.code, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tc.stdout, stdout.String())
			}
			if !strings.HasPrefix(stderr.String(), tc.stderrHead) {
				t.Errorf("stderr = %q, want prefix %q", stderr.String(), tc.stderrHead)
			}
		})
	}
}
