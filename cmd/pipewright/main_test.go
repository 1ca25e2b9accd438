package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildCLI builds the real binary once, so exit codes and stderr are tested
// as a user sees them.
func buildCLI(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "pipewright")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func TestCLIBadInput(t *testing.T) {
	bin := buildCLI(t)
	ro := t.TempDir()
	if err := os.Chmod(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	badCfg := filepath.Join(t.TempDir(), "pipewright.yaml")
	os.WriteFile(badCfg, []byte("apiVersion: pipewright.dev/v1alpha1\napp:\n  nmae: api\n"), 0o644)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"generate", "--bogus"}, "pipewright: unknown flag: --bogus"},
		{"unknown command", []string{"frobnicate"}, `pipewright: unknown command "frobnicate"`},
		{"unwritable output", []string{"generate", "-o", filepath.Join(ro, "out")}, "pipewright: output folder " + filepath.Join(ro, "out")},
		{"bad config", []string{"generate", "-f", badCfg, "-o", filepath.Join(t.TempDir(), "out")}, "pipewright: " + badCfg + `:3:3: app.nmae: unknown field "nmae" (hint: did you mean "name"?)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if os.Geteuid() == 0 && tc.name == "unwritable output" {
				// root writes anywhere; make the parent a file instead.
				f := filepath.Join(t.TempDir(), "file")
				os.WriteFile(f, nil, 0o644)
				tc.args[2] = filepath.Join(f, "out")
				tc.want = "pipewright: output folder " + tc.args[2]
			}
			cmd := exec.Command(bin, tc.args...)
			out, err := cmd.CombinedOutput()
			if err == nil || cmd.ProcessState.ExitCode() != 1 {
				t.Fatalf("want exit code 1, got %v\n%s", err, out)
			}
			if !strings.HasPrefix(string(out), tc.want) {
				t.Fatalf("stderr = %q, want prefix %q", out, tc.want)
			}
		})
	}
	t.Run("bad config writes nothing", func(t *testing.T) {
		dir := t.TempDir()
		exec.Command(bin, "generate", "-f", badCfg, "-o", filepath.Join(dir, "out")).Run()
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Fatalf("output folder touched: %v", entries)
		}
	})
	t.Run("help lists the commands", func(t *testing.T) {
		out, err := exec.Command(bin, "--help").CombinedOutput()
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []string{"generate", "init", "schema", "catalog", "images"} {
			if !strings.Contains(string(out), "  "+c+" ") {
				t.Errorf("--help lacks %s:\n%s", c, out)
			}
		}
	})
	t.Run("generate with no arguments writes the built-in example", func(t *testing.T) {
		dir := t.TempDir()
		cmd := exec.Command(bin, "generate")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "generated CI/CD for hello-world") {
			t.Fatalf("%v\n%s", err, out)
		}
		if _, err := os.Stat(filepath.Join(dir, "out", "kustomization.yaml")); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("generate into a project root keeps the user's files", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "README.md"), []byte("# mine\n"), 0o644)
		cmd := exec.Command(bin, "generate", "-o", ".")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "README.md: exists and pipewright did not write it") {
			t.Fatalf("want a refusal naming README.md, got %v\n%s", err, out)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "README.md")); string(b) != "# mine\n" {
			t.Fatalf("README.md is now %q", b)
		}
		cmd = exec.Command(bin, "generate", "-o", ".", "--force")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "pipewright owns the files listed in .pipewright-files") {
			t.Fatalf("--force: %v\n%s", err, out)
		}
	})
	t.Run("generate without -f uses ./pipewright.yaml and says so", func(t *testing.T) {
		dir := t.TempDir()
		b, err := os.ReadFile("../../examples/node/pipewright.yaml")
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "pipewright.yaml"), b, 0o644)
		cmd := exec.Command(bin, "generate", "-o", "tekton")
		cmd.Dir = dir
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil || stderr.String() != "using ./pipewright.yaml (no -f given)\n" || !strings.Contains(string(out), "(node pack") {
			t.Fatalf("%v\nstdout %s\nstderr %s", err, out, stderr.String())
		}
	})
}
