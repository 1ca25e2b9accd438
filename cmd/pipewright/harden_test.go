package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pipewright/pipewright/pkg/github"
	"github.com/spf13/cobra"
)

// find returns the command at path (e.g. "github status").
func find(t *testing.T, root *cobra.Command, path string) *cobra.Command {
	t.Helper()
	c, rest, err := root.Find(strings.Fields(path))
	if err != nil || len(rest) > 0 || c.CommandPath() != "pipewright "+path {
		t.Fatalf("no command %q: %v", path, err)
	}
	return c
}

// Every command that talks to GitHub has the same connection flags: one
// name, one help text, one default ($GITHUB_API_URL, else api.github.com).
func TestOneGitHubFlagGroup(t *testing.T) {
	users := []string{"github status", "github webhook", "interceptor serve", "simulate"}
	for _, env := range []string{"", "https://ghe.example.com/api/v3"} {
		t.Setenv(githubAPIEnv, env)
		wantAPI := env
		if env == "" {
			wantAPI = github.DefaultAPIURL
		}
		root := newRoot()
		type flag struct{ Usage, DefValue string }
		var first map[string]flag
		for _, path := range users {
			c := find(t, root, path)
			got := map[string]flag{}
			for _, name := range []string{"token-file", "api-url"} {
				f := c.Flags().Lookup(name)
				if f == nil {
					t.Fatalf("%s has no --%s", path, name)
				}
				got[name] = flag{f.Usage, f.DefValue}
			}
			if d := got["api-url"].DefValue; d != wantAPI {
				t.Errorf("%s: --api-url default %q with %s=%q, want %q", path, d, githubAPIEnv, env, wantAPI)
			}
			if first == nil {
				first = got
				continue
			}
			for name, f := range got {
				if f.Usage != first[name].Usage || f.DefValue != first[name].DefValue {
					t.Errorf("%s --%s differs from %s's: %q (default %q) vs %q (default %q)",
						path, name, users[0], f.Usage, f.DefValue, first[name].Usage, first[name].DefValue)
				}
			}
		}
	}
}

// Commands print through the command's writers, never straight to the
// process's stdout or stderr, so they can be embedded and tested.
func TestOutputGoesThroughTheCommand(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"schema"},
		{"images"},
		{"lint", "--explain", "unpinned-image"},
		{"catalog", "-o", filepath.Join(dir, "catalog")},
		{"generate", "-o", filepath.Join(dir, "out")},
		{"lint", "--format", "sarif", "../../tasks"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			stdout, stderr := captureStd(t)
			root := newRoot()
			var out, errOut bytes.Buffer
			root.SetOut(&out)
			root.SetErr(&errOut)
			root.SetArgs(args)
			if err := root.Execute(); err != nil {
				t.Fatal(err)
			}
			if out.Len() == 0 {
				t.Error("nothing written to the command's output")
			}
			if got := stdout(); got != "" {
				t.Errorf("wrote to os.Stdout: %.200s", got)
			}
			if got := stderr(); got != "" {
				t.Errorf("wrote to os.Stderr: %.200s", got)
			}
		})
	}
}

// captureStd points os.Stdout and os.Stderr at files until the test ends;
// the functions return what was written to each.
func captureStd(t *testing.T) (stdout, stderr func() string) {
	t.Helper()
	capture := func(std **os.File, name string) func() string {
		f, err := os.Create(filepath.Join(t.TempDir(), name))
		if err != nil {
			t.Fatal(err)
		}
		old := *std
		*std = f
		t.Cleanup(func() { *std = old; f.Close() })
		return func() string {
			b, _ := os.ReadFile(f.Name())
			return string(b)
		}
	}
	return capture(&os.Stdout, "stdout"), capture(&os.Stderr, "stderr")
}

// A cancelled context stops generate before it writes: no output folder
// appears, and an existing one keeps its files.
func TestGenerateStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := t.TempDir()
	fresh := filepath.Join(dir, "fresh")
	existing := filepath.Join(dir, "existing")
	os.MkdirAll(filepath.Join(existing, "pipelines"), 0o755)
	old := filepath.Join(existing, "pipelines", "old.yaml")
	os.WriteFile(old, []byte("old\n"), 0o644)
	for _, args := range [][]string{
		{"generate", "-o", fresh},
		{"generate", "-o", existing},
		{"catalog", "-o", fresh},
	} {
		root := newRoot()
		root.SetOut(io.Discard)
		root.SetArgs(args)
		if err := root.ExecuteContext(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("%v: err = %v, want context.Canceled", args, err)
		}
	}
	if _, err := os.Stat(fresh); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cancelled generate created %s (%v)", fresh, err)
	}
	entries, _ := os.ReadDir(existing)
	if b, _ := os.ReadFile(old); string(b) != "old\n" || len(entries) != 1 {
		t.Errorf("cancelled generate changed %s: %v", existing, entries)
	}
}

// Commands stop when their context ends, even while they wait for input.
func TestCommandsStopOnCancel(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"lint", "-"}, 2},
		{[]string{"github", "status", "--repo", "octo/app", "--sha", ghSHA, "--state", "success", "--check-run", "ci", "--annotations-file", "-"}, 1},
	} {
		stdin, w := io.Pipe() // never written: the command waits forever
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		root := newRoot()
		root.SetIn(stdin)
		root.SetOut(io.Discard)
		root.SetArgs(tc.args)
		done := make(chan error, 1)
		go func() { done <- root.ExecuteContext(ctx) }()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) || exitCode(err) != tc.code {
				t.Errorf("%s: err = %v (exit %d), want context.Canceled with exit code %d", tc.args[0], err, exitCode(err), tc.code)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%s did not stop when its context was cancelled", tc.args[0])
		}
		w.Close()
	}
}

// The real program: a FIFO named *.yaml is refused instead of blocking, and
// SIGTERM (or Ctrl-C) stops a command that waits, with exit code 2 for lint.
func TestCLIRefusesFIFOAndStopsOnSignal(t *testing.T) {
	bin := buildCLI(t)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "task.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, arg := range []string{dir, fifo} {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		cmd := exec.CommandContext(ctx, bin, "lint", arg)
		out, _ := cmd.CombinedOutput()
		blocked := ctx.Err() != nil
		cancel()
		if blocked {
			t.Fatalf("lint %s blocked", arg)
		}
		want := "pipewright: " + fifo + ": not a regular file (a named pipe); give a file\n"
		if cmd.ProcessState.ExitCode() != 2 || string(out) != want {
			t.Errorf("lint %s: exit %d, output %q; want 2, %q", arg, cmd.ProcessState.ExitCode(), out, want)
		}
	}

	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		cmd := exec.Command(bin, "lint", "-")
		stdin, err := cmd.StdinPipe() // held open: lint - waits
		if err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitForPipeRead(t, cmd.Process.Pid)
		cmd.Process.Signal(sig)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("%s did not stop lint", sig)
		}
		stdin.Close()
		if code := cmd.ProcessState.ExitCode(); code != 2 || stderr.String() != "pipewright: stopped by a signal: context canceled\n" {
			t.Errorf("after %s: exit %d, stderr %q", sig, code, stderr.String())
		}
	}
}

// waitForPipeRead waits until a thread of pid blocks reading a pipe, so the
// signal arrives after main has set up its handling.
func waitForPipeRead(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		tasks, _ := filepath.Glob(filepath.Join("/proc", strconv.Itoa(pid), "task", "*", "wchan"))
		for _, w := range tasks {
			if b, _ := os.ReadFile(w); strings.Contains(string(b), "pipe") {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("process %d never waited on its stdin", pid)
}
