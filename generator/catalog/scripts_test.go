package catalog_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pipewright/pipewright/generator/catalog"
	"github.com/pipewright/pipewright/test/steprun"
)

// These tests run every catalog script for real on this machine against
// small fixtures, with Tekton's variables substituted as Tekton would.
// A tool that this machine lacks skips only its Task, saying why, unless
// PIPEWRIGHT_REQUIRE_TOOLS=1 (set by `make test`, which installs them).

func need(t *testing.T, tool, why string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		if os.Getenv("PIPEWRIGHT_REQUIRE_TOOLS") == "1" {
			t.Fatalf("%s not found although make test installs it: %v", tool, err)
		}
		t.Skipf("skipping: %s not on PATH (%s); `make tools` installs it", tool, why)
	}
	return p
}

func run(t *testing.T, name string, in steprun.Inputs) steprun.Output {
	t.Helper()
	e, err := catalog.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	var out steprun.Output
	for _, s := range e.Spec.Steps {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		o, err := steprun.Run(ctx, e.Spec, s, in)
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out.Log += o.Log
		if out.Results == nil {
			out.Results = map[string]string{}
		}
		for k, v := range o.Results {
			out.Results[k] = v
		}
	}
	return out
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_COMMITTER_DATE=1700000000 +0000",
		"GIT_AUTHOR_DATE=1700000000 +0000", "HOME="+t.TempDir())
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, b)
	}
	return strings.TrimSpace(string(b))
}

func write(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestGitClone(t *testing.T) {
	need(t, "git", "git-clone")
	origin := t.TempDir()
	git(t, origin, "init", "-q", "-b", "main")
	write(t, origin, map[string]string{"README": "one\n"})
	git(t, origin, "add", ".")
	git(t, origin, "commit", "-q", "-m", "one")
	first := git(t, origin, "rev-parse", "HEAD")
	write(t, origin, map[string]string{"README": "two\n"})
	git(t, origin, "commit", "-q", "-am", "two")
	second := git(t, origin, "rev-parse", "HEAD")

	for _, tc := range []struct {
		name, revision, depth, subdir, want string
	}{
		{"default branch", "", "1", "", second},
		{"branch", "main", "1", "src", second},
		{"sha, full history", first, "0", "", first},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			// Leftovers from an earlier run must go.
			write(t, out, map[string]string{"stale": "x"})
			res := run(t, "git-clone", steprun.Inputs{
				Params:     map[string]string{"url": "file://" + origin, "revision": tc.revision, "depth": tc.depth, "subdirectory": tc.subdir},
				Workspaces: map[string]string{"output": out},
			})
			if res.Results["commit"] != tc.want {
				t.Errorf("commit result = %q, want %q", res.Results["commit"], tc.want)
			}
			if res.Results["url"] != "file://"+origin || res.Results["committer-date"] != "1700000000" {
				t.Errorf("results = %v", res.Results)
			}
			if tc.subdir == "" {
				if _, err := os.Stat(filepath.Join(out, "stale")); !os.IsNotExist(err) {
					t.Errorf("stale file survived delete-existing: %v", err)
				}
			}
			if _, err := os.Stat(filepath.Join(out, tc.subdir, "README")); err != nil {
				t.Errorf("checkout missing: %v", err)
			}
		})
	}
	t.Run("subdirectory escaping the workspace is refused", func(t *testing.T) {
		e, _ := catalog.Get("git-clone")
		_, err := steprun.Run(context.Background(), e.Spec, e.Spec.Steps[0], steprun.Inputs{
			Params:     map[string]string{"url": "file://" + origin, "subdirectory": "../x"},
			Workspaces: map[string]string{"output": t.TempDir()},
		})
		if err == nil || !strings.Contains(err.Error(), "relative path without") {
			t.Fatalf("want refusal, got %v", err)
		}
	})
}

// goModule is a tiny Go module with a main package, a library and a test.
func goModule(t *testing.T) string {
	dir := t.TempDir()
	write(t, dir, map[string]string{
		"go.mod":            "module example.com/tiny\n\ngo 1.22\n",
		"cmd/tiny/main.go":  "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/tiny/calc\"\n)\n\nfunc main() { fmt.Println(calc.Add(1, 2)) }\n",
		"calc/calc.go":      "// Package calc adds.\npackage calc\n\n// Add adds.\nfunc Add(a, b int) int { return a + b }\n\n// Sub subtracts.\nfunc Sub(a, b int) int { return a - b }\n",
		"calc/calc_test.go": "package calc\n\nimport \"testing\"\n\nfunc TestAdd(t *testing.T) {\n\tif Add(1, 2) != 3 {\n\t\tt.Fatal(\"bad\")\n\t}\n}\n",
	})
	return dir
}

func TestGoTest(t *testing.T) {
	need(t, "go", "go-test")
	src, cache := goModule(t), steprun.GoCache(t)
	res := run(t, "go-test", steprun.Inputs{Workspaces: map[string]string{"source": src, "cache": cache}})
	// 3 statements: Add (covered), Sub and main (not).
	if res.Results["coverage"] != "33.3" {
		t.Errorf("coverage = %q, want 33.3\n%s", res.Results["coverage"], res.Log)
	}
	junit, err := os.ReadFile(filepath.Join(src, "junit.xml"))
	if err != nil || !strings.Contains(string(junit), `name="TestAdd"`) {
		t.Errorf("junit report missing TestAdd: %v\n%s", err, junit)
	}
	if _, err := os.Stat(filepath.Join(cache, "go", "build")); err != nil {
		t.Errorf("build cache not in cache workspace: %v", err)
	}
}

func TestGoTestFailureFails(t *testing.T) {
	need(t, "go", "go-test")
	src := goModule(t)
	write(t, src, map[string]string{"calc/bad_test.go": "package calc\n\nimport \"testing\"\n\nfunc TestBad(t *testing.T) { t.Fatal(\"broken\") }\n"})
	e, _ := catalog.Get("go-test")
	_, err := steprun.Run(context.Background(), e.Spec, e.Spec.Steps[0], steprun.Inputs{
		Params:     map[string]string{"junit-report": "", "race": "false"},
		Workspaces: map[string]string{"source": src, "cache": steprun.GoCache(t)},
	})
	if err == nil || !strings.Contains(err.Error(), "broken") {
		t.Fatalf("a failing test must fail the step, got %v", err)
	}
}

func TestGoBuild(t *testing.T) {
	need(t, "go", "go-build")
	src := goModule(t)
	res := run(t, "go-build", steprun.Inputs{
		Params:     map[string]string{"packages": "./cmd/tiny"},
		Workspaces: map[string]string{"source": src, "cache": steprun.GoCache(t)},
	})
	if res.Results["binaries"] != "bin/tiny" {
		t.Fatalf("binaries = %q\n%s", res.Results["binaries"], res.Log)
	}
	out, err := exec.Command(filepath.Join(src, "bin", "tiny")).Output()
	if err != nil || strings.TrimSpace(string(out)) != "3" {
		t.Fatalf("built binary: %q %v", out, err)
	}
}

func TestGoLint(t *testing.T) {
	need(t, "golangci-lint", "go-lint")
	src := goModule(t)
	res := run(t, "go-lint", steprun.Inputs{Workspaces: map[string]string{"source": src, "cache": steprun.GoCache(t)}})
	t.Log(res.Log)
	// A finding must fail the Task: an unchecked error (errcheck).
	write(t, src, map[string]string{"calc/bad.go": "package calc\n\nimport \"os\"\n\n// Bad ignores an error.\nfunc Bad() { os.Remove(\"x\") }\n"})
	e, _ := catalog.Get("go-lint")
	_, err := steprun.Run(context.Background(), e.Spec, e.Spec.Steps[0], steprun.Inputs{Workspaces: map[string]string{"source": src, "cache": steprun.GoCache(t)}})
	if err == nil || !strings.Contains(err.Error(), "errcheck") {
		t.Fatalf("want an errcheck finding to fail the step, got %v", err)
	}
}

func TestNodeTest(t *testing.T) {
	need(t, "npm", "node-test")
	src := t.TempDir()
	write(t, src, map[string]string{
		"package.json":      `{"name":"tiny","version":"1.0.0","scripts":{"test":"node test.js"}}`,
		"package-lock.json": `{"name":"tiny","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{"":{"name":"tiny","version":"1.0.0"}}}`,
		"test.js":           "const assert = require('assert'); assert.strictEqual(1 + 2, 3); console.log('node test passed');\n",
	})
	cache := t.TempDir()
	res := run(t, "node-test", steprun.Inputs{Workspaces: map[string]string{"source": src, "cache": cache}})
	if !strings.Contains(res.Log, "node test passed") {
		t.Fatalf("test did not run:\n%s", res.Log)
	}
	os.Remove(filepath.Join(src, "package-lock.json"))
	e, _ := catalog.Get("node-test")
	if _, err := steprun.Run(context.Background(), e.Spec, e.Spec.Steps[0], steprun.Inputs{Workspaces: map[string]string{"source": src}}); err == nil || !strings.Contains(err.Error(), "package-lock.json is missing") {
		t.Fatalf("want lock file refusal, got %v", err)
	}
}

// bunProject is a Bun project whose one dependency is a local package, so
// bun install resolves it without a registry; bun.lock is what bun 1.3.14
// writes for it.
func bunProject(t *testing.T, pkg string) string {
	src := t.TempDir()
	write(t, src, map[string]string{
		"package.json":        pkg,
		"helper/package.json": `{"name":"helper","version":"1.0.0","main":"index.js"}`,
		"helper/index.js":     "module.exports = (a, b) => a + b;\n",
		"bun.lock": `{
  "lockfileVersion": 1,
  "configVersion": 1,
  "workspaces": {
    "": {
      "name": "tiny",
      "dependencies": {
        "helper": "file:./helper",
      },
    },
  },
  "packages": {
    "helper": ["helper@file:helper", {}],
  }
}
`,
		"sum.test.js": "import { expect, test } from 'bun:test';\nconst add = require('helper');\ntest('adds', () => { expect(add(1, 2)).toBe(3); console.log('bun test ran'); });\n",
	})
	return src
}

func TestBunTest(t *testing.T) {
	need(t, "bun", "bun-test")
	const pkg = `{"name":"tiny","version":"1.0.0","dependencies":{"helper":"file:./helper"},"scripts":{"lint":"echo lint script ran"}}`
	src, cache := bunProject(t, pkg), t.TempDir()
	res := run(t, "bun-test", steprun.Inputs{Workspaces: map[string]string{"source": src, "cache": cache}})
	if !strings.Contains(res.Log, "bun test ran") || !strings.Contains(res.Log, "1 pass") {
		t.Fatalf("bun test did not run the test:\n%s", res.Log)
	}
	if _, err := os.Stat(filepath.Join(src, "node_modules", "helper", "index.js")); err != nil {
		t.Errorf("bun install did not install the dependency: %v", err)
	}
	// The lint role runs the package.json script.
	res = run(t, "bun-test", steprun.Inputs{Params: catalog.RoleParams("bun-test", "lint"), Workspaces: map[string]string{"source": src}})
	if !strings.Contains(res.Log, "lint script ran") {
		t.Fatalf("the lint script did not run:\n%s", res.Log)
	}
	e, _ := catalog.Get("bun-test")
	// A package.json the lock does not match fails the frozen install.
	write(t, src, map[string]string{"package.json": strings.Replace(pkg, `"helper":"file:./helper"`, `"helper":"file:./helper","other":"file:./helper"`, 1)})
	if _, err := steprun.Run(context.Background(), e.Spec, e.Spec.Steps[0], steprun.Inputs{Workspaces: map[string]string{"source": src}}); err == nil || !strings.Contains(err.Error(), "lockfile is frozen") {
		t.Fatalf("want the frozen lockfile to refuse a changed package.json, got %v", err)
	}
	os.Remove(filepath.Join(src, "bun.lock"))
	if _, err := steprun.Run(context.Background(), e.Spec, e.Spec.Steps[0], steprun.Inputs{Workspaces: map[string]string{"source": src}}); err == nil || !strings.Contains(err.Error(), "bun.lock is missing") {
		t.Fatalf("want lock file refusal, got %v", err)
	}
	// A failing test fails the step.
	src = bunProject(t, pkg)
	write(t, src, map[string]string{"sum.test.js": "import { expect, test } from 'bun:test';\ntest('broken', () => { expect(1).toBe(2); });\n"})
	if _, err := steprun.Run(context.Background(), e.Spec, e.Spec.Steps[0], steprun.Inputs{Workspaces: map[string]string{"source": src}}); err == nil || !strings.Contains(err.Error(), "broken") {
		t.Fatalf("a failing test must fail the step, got %v", err)
	}
}

func TestGoMake(t *testing.T) {
	need(t, "go", "go-make")
	need(t, "make", "go-make")
	src := goModule(t)
	write(t, src, map[string]string{"Makefile": ".PHONY: build test lint\nbuild:\n\tgo build -o bin/tiny ./cmd/tiny\ntest:\n\tgo test -count=1 ./...\nlint:\n\tgo vet ./...\n"})
	cache := steprun.GoCache(t)
	res := run(t, "go-make", steprun.Inputs{Params: map[string]string{"targets": "build test"}, Workspaces: map[string]string{"source": src, "cache": cache}})
	if !strings.Contains(res.Log, "go-make: make build") || !strings.Contains(res.Log, "ok  \texample.com/tiny/calc") {
		t.Fatalf("make build test did not run:\n%s", res.Log)
	}
	if _, err := os.Stat(filepath.Join(src, "bin", "tiny")); err != nil {
		t.Errorf("make build wrote no binary: %v", err)
	}
	res = run(t, "go-make", steprun.Inputs{Params: catalog.RoleParams("go-make", "lint"), Workspaces: map[string]string{"source": src, "cache": cache}})
	if !strings.Contains(res.Log, "go-make: make lint") {
		t.Fatalf("the lint role did not run make lint:\n%s", res.Log)
	}
	e, _ := catalog.Get("go-make")
	// A target the Makefile lacks fails before any target runs.
	_, err := steprun.Run(context.Background(), e.Spec, e.Spec.Steps[0], steprun.Inputs{Params: map[string]string{"targets": "test check"}, Workspaces: map[string]string{"source": src, "cache": cache}})
	if err == nil || !strings.Contains(err.Error(), "the Makefile has no target check") || strings.Contains(err.Error(), "make test") {
		t.Fatalf("want a missing target refused up front, got %v", err)
	}
	// A failing target fails the step.
	write(t, src, map[string]string{"calc/bad_test.go": "package calc\n\nimport \"testing\"\n\nfunc TestBad(t *testing.T) { t.Fatal(\"broken\") }\n"})
	_, err = steprun.Run(context.Background(), e.Spec, e.Spec.Steps[0], steprun.Inputs{Workspaces: map[string]string{"source": src, "cache": cache}})
	if err == nil || !strings.Contains(err.Error(), "broken") {
		t.Fatalf("a failing make test must fail the step, got %v", err)
	}
}

// debianPython returns a PATH entry whose python3 has pytest (Debian's
// python3-pytest), since PyPI is out of reach here.
func debianPython(t *testing.T) string {
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(py, "-c", "import pytest").Run() == nil {
			dir := t.TempDir()
			abs, _ := exec.LookPath(py)
			if err := os.Symlink(abs, filepath.Join(dir, "python3")); err != nil {
				t.Fatal(err)
			}
			return dir
		}
	}
	if os.Getenv("PIPEWRIGHT_REQUIRE_TOOLS") == "1" {
		t.Fatal("no python3 with pytest although make test installs python3-pytest")
	}
	t.Skip("skipping: no python3 with pytest (PyPI is unreachable here; `make tools` installs Debian's python3-pytest)")
	return ""
}

func TestPythonTest(t *testing.T) {
	py := debianPython(t)
	src := t.TempDir()
	write(t, src, map[string]string{
		"calc.py":      "def add(a, b):\n    return a + b\n",
		"test_calc.py": "from calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n",
	})
	res := run(t, "python-test", steprun.Inputs{
		Workspaces: map[string]string{"source": src},
		Env:        []string{"PATH=" + py + ":" + os.Getenv("PATH")},
	})
	if !strings.Contains(res.Log, "1 passed") {
		t.Fatalf("pytest did not pass:\n%s", res.Log)
	}
	junit, err := os.ReadFile(filepath.Join(src, "junit.xml"))
	if err != nil || !strings.Contains(string(junit), `name="test_add"`) {
		t.Fatalf("junit report: %v\n%s", err, junit)
	}
}

// A project without tests fails with pytest's exit code 5 and says how to
// turn the task off, instead of ending on pytest's own "no tests ran".
func TestPythonTestNoTests(t *testing.T) {
	py := debianPython(t)
	src := t.TempDir()
	write(t, src, map[string]string{"app.py": "print('hi')\n"})
	e, _ := catalog.Get("python-test")
	res, err := steprun.Run(context.Background(), e.Spec, e.Spec.Steps[0], steprun.Inputs{
		Workspaces: map[string]string{"source": src},
		Env:        []string{"PATH=" + py + ":" + os.Getenv("PATH")},
	})
	if err == nil || !strings.Contains(res.Log+err.Error(), "pytest collected no tests: add test_*.py files, or turn the test task off with build.test.disabled: true") {
		t.Fatalf("want a failure naming build.test.disabled, got %v\n%s", err, res.Log)
	}
}

func TestJavaTest(t *testing.T) {
	e, _ := catalog.Get("java-test")
	t.Run("gradle without wrapper is refused", func(t *testing.T) {
		src := t.TempDir()
		write(t, src, map[string]string{"build.gradle": "plugins { id 'java' }\n"})
		_, err := steprun.Run(context.Background(), e.Spec, e.Spec.Steps[0], steprun.Inputs{Workspaces: map[string]string{"source": src}})
		if err == nil || !strings.Contains(err.Error(), "commit the Gradle wrapper") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("maven build", func(t *testing.T) {
		need(t, "mvn", "java-test")
		// Maven needs its plugins (surefire, compiler) from Maven Central,
		// which this machine cannot reach; run only when they are cached.
		home, _ := os.UserHomeDir()
		if _, err := os.Stat(filepath.Join(home, ".m2", "repository", "org", "apache", "maven", "plugins", "maven-surefire-plugin")); err != nil {
			t.Skip("skipping the Maven build: Maven Central is unreachable here and no Maven plugins are cached in ~/.m2")
		}
	})
}

// statusServer speaks the part of GitHub's REST API the status script uses.
type statusServer struct {
	mu       sync.Mutex
	requests []recorded
	failures int // answer 502 this many times first
	code     int // then answer this (201 if 0)
}

type recorded struct {
	Method, Path, Auth, APIVersion string
	Body                           map[string]string
}

func (s *statusServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var body map[string]string
	_ = json.Unmarshal(b, &body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, recorded{r.Method, r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("X-GitHub-Api-Version"), body})
	if s.failures > 0 {
		s.failures--
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	code := s.code
	if code == 0 {
		code = http.StatusCreated
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	if code == http.StatusCreated {
		_ = json.NewEncoder(w).Encode(map[string]any{"id": 1, "state": body["state"], "context": body["context"]})
	} else {
		_, _ = w.Write([]byte(`{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}`))
	}
}

func TestGithubSetStatus(t *testing.T) {
	need(t, "python3", "github-set-status")
	const sha = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
	in := func(url string) steprun.Inputs {
		return steprun.Inputs{
			Params: map[string]string{"repo-full-name": "octo/hello", "sha": sha, "state": "success",
				"description": `tests "passed" $(rm -rf /)`, "target-url": "https://dashboard.example/run/1", "github-api-url": url},
			Secrets: map[string]string{"github-token/token": "s3cret"},
		}
	}
	t.Run("sets the status", func(t *testing.T) {
		srv := &statusServer{failures: 1}
		ts := httptest.NewServer(srv)
		defer ts.Close()
		res := run(t, "github-set-status", in(ts.URL))
		if len(srv.requests) != 2 {
			t.Fatalf("want a retry after 502, got %d requests\n%s", len(srv.requests), res.Log)
		}
		got := srv.requests[1]
		want := recorded{"POST", "/repos/octo/hello/statuses/" + sha, "Bearer s3cret", "2022-11-28",
			map[string]string{"state": "success", "context": "pipewright", "description": `tests "passed" $(rm -rf /)`, "target_url": "https://dashboard.example/run/1"}}
		if got.Method != want.Method || got.Path != want.Path || got.Auth != want.Auth || got.APIVersion != want.APIVersion || !equal(got.Body, want.Body) {
			t.Fatalf("request = %+v\nwant      %+v", got, want)
		}
	})
	t.Run("bad token fails at once", func(t *testing.T) {
		srv := &statusServer{code: http.StatusUnauthorized}
		ts := httptest.NewServer(srv)
		defer ts.Close()
		e, _ := catalog.Get("github-set-status")
		_, err := steprun.Run(context.Background(), e.Spec, e.Spec.Steps[0], in(ts.URL))
		if err == nil || !strings.Contains(err.Error(), "HTTP 401") || !strings.Contains(err.Error(), "token is invalid") || len(srv.requests) != 1 {
			t.Fatalf("want one request and a 401 error, got %d requests, %v", len(srv.requests), err)
		}
	})
}

func equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestImageBuildScript runs image-build's script with buildctl-daemonless.sh
// replaced by a program that records what it was given and writes the
// metadata buildctl writes; the real BuildKit runs in the e2e suite
// (TestCatalogTasksRun, TestDockerfileStory), which needs a node.
func TestImageBuildScript(t *testing.T) {
	bin := t.TempDir()
	fake := `#!/bin/sh
{ echo "flags=${BUILDKITD_FLAGS}"; echo "docker_config=${DOCKER_CONFIG:-}"; printf 'arg=%s\n' "$@"
  cfg=${BUILDKITD_FLAGS##*--config=}; echo "config:"; cat "$cfg"; } >"$CALLS"
while [ $# -gt 0 ]; do
  if [ "$1" = --metadata-file ]; then printf '{\n  "containerimage.digest": "%s",\n  "image.name": "x"\n}\n' "$DIGEST" >"$2"; fi
  shift
done
`
	if err := os.WriteFile(filepath.Join(bin, "buildctl-daemonless.sh"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	digest := "sha256:" + strings.Repeat("ab", 32)
	src := t.TempDir()
	if err := os.MkdirAll(filepath.Join(src, "app", "docker"), 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, image, noPush, digest string
		dockerconfig                bool
		want, notWant               []string
		fails                       bool
	}{
		{name: "private registry over HTTP", image: "10.201.0.1:5000/acme/app:abc", digest: digest,
			want: []string{"arg=type=image,name=10.201.0.1:5000/acme/app:abc,push=true,registry.insecure=true",
				`[registry."10.201.0.1:5000"]`, "http = true", "flags=--oci-worker-no-process-sandbox --config=",
				"arg=context=SRC/app", "arg=dockerfile=SRC/app/docker", "arg=filename=Dockerfile.prod",
				"arg=build-arg:PIPEWRIGHT=1", "arg=target=run", "docker_config=\n"}},
		{name: "public registry with credentials", image: "ghcr.io/acme/app:abc", digest: digest, dockerconfig: true,
			want:    []string{"arg=type=image,name=ghcr.io/acme/app:abc,push=true\n", "docker_config=SRC/dockerconfig"},
			notWant: []string{"registry.insecure", "http = true"}},
		{name: "pull request: no push", image: "10.201.0.1:5000/acme/app:pr-1", noPush: "true", digest: digest,
			want: []string{"arg=type=image,name=10.201.0.1:5000/acme/app:pr-1,push=false\n"}},
		{name: "no digest in the metadata", image: "ghcr.io/acme/app:abc", fails: true},
	}
	e, _ := catalog.Get("image-build")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			calls := filepath.Join(t.TempDir(), "calls")
			ws := map[string]string{"source": src}
			if c.dockerconfig {
				ws["dockerconfig"] = filepath.Join(src, "dockerconfig")
			}
			in := steprun.Inputs{
				Params: map[string]string{"image": c.image, "context": "app", "dockerfile": "docker/Dockerfile.prod",
					"no-push": c.noPush, "target": "run"},
				Workspaces: ws,
				Env:        []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "CALLS=" + calls, "DIGEST=" + c.digest},
			}
			if c.noPush == "" {
				in.Params["no-push"] = "false"
			}
			out, err := steprun.Run(context.Background(), e.Spec, e.Spec.Steps[0], in)
			if c.fails {
				if err != nil && out.Results["IMAGE_DIGEST"] == "" && strings.Contains(out.Log, "names no image digest") {
					return
				}
				t.Fatalf("want a failure naming the missing digest, got %v, results %v\n%s", err, out.Results, out.Log)
			}
			if err != nil || out.Results["IMAGE_DIGEST"] != c.digest || out.Results["IMAGE_URL"] != c.image {
				t.Fatalf("results %v, %v\n%s", out.Results, err, out.Log)
			}
			b, _ := os.ReadFile(calls)
			got := strings.ReplaceAll(string(b), src, "SRC")
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("buildctl call lacks %q:\n%s", w, got)
				}
			}
			for _, w := range c.notWant {
				if strings.Contains(got, w) {
					t.Errorf("buildctl call has %q:\n%s", w, got)
				}
			}
		})
	}
}
