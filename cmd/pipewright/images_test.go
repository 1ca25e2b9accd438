package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipewright/pipewright/generator/builtin"
	"github.com/pipewright/pipewright/generator/generatortest"
	"github.com/pipewright/pipewright/pkg/images"
)

func TestCLIImages(t *testing.T) {
	bin := buildCLI(t)
	dir := t.TempDir()
	// Stand-in overrides: well-formed digests no registry serves.
	d := generatortest.Digests(t, 3)
	cfgGolang := "config.example.com/golang:1.26.6@" + d[0]
	cfgDistroless := "config.example.com/distroless/static@" + d[1]
	flagDigest := d[2]
	flagGolang := "flag.example.com/golang:1.26.6@" + flagDigest
	flagKubectl := "flag.example.com/kubectl@" + flagDigest

	cfg := filepath.Join(dir, "pipewright.yaml")
	write := func(path, data string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(cfg, string(builtin.Config)+"images:\n  golang: "+cfgGolang+"\n  distroless-static: "+cfgDistroless+"\n")
	imageFile := filepath.Join(dir, "images.json")
	write(imageFile, `{"version": 1, "images": [
  {"name": "golang", "repo": "flag.example.com/golang", "tag": "1.26.6", "digest": "`+flagDigest+`"},
  {"name": "kubectl", "repo": "flag.example.com/kubectl", "digest": "`+flagDigest+`"}
]}
`)
	run := func(t *testing.T, args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("pipewright %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	// list parses `pipewright images` output, checking order and alignment.
	list := func(t *testing.T, out string) map[string]string {
		t.Helper()
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != len(images.All()) {
			t.Fatalf("%d lines for %d images:\n%s", len(lines), len(images.All()), out)
		}
		refs, col, prev := map[string]string{}, -1, ""
		for _, l := range lines {
			fields := strings.Fields(l)
			if len(fields) != 2 {
				t.Fatalf("line %q: want NAME REF", l)
			}
			if fields[0] <= prev {
				t.Errorf("%s listed after %s", fields[0], prev)
			}
			if c := strings.Index(l, fields[1]); col >= 0 && c != col {
				t.Errorf("line %q: reference at column %d, want %d", l, c, col)
			} else {
				col = c
			}
			prev, refs[fields[0]] = fields[0], fields[1]
		}
		return refs
	}

	t.Run("the lock's references", func(t *testing.T) {
		refs := list(t, run(t, "images"))
		for _, img := range images.All() {
			if refs[img.Name] != img.Ref() {
				t.Errorf("%s: %s, want %s", img.Name, refs[img.Name], img.Ref())
			}
		}
	})
	t.Run("config and --images, the flag winning", func(t *testing.T) {
		refs := list(t, run(t, "images", "-f", cfg, "--images", imageFile))
		want := map[string]string{"golang": flagGolang, "kubectl": flagKubectl, "distroless-static": cfgDistroless, "node": images.Node.Ref()}
		for name, ref := range want {
			if refs[name] != ref {
				t.Errorf("%s: %s, want %s", name, refs[name], ref)
			}
		}
		if refs := list(t, run(t, "images", "-f", cfg)); refs["golang"] != cfgGolang || refs["kubectl"] != images.Kubectl.Ref() {
			t.Errorf("config only: golang %s, kubectl %s", refs["golang"], refs["kubectl"])
		}
	})
	t.Run("generate and catalog write the overrides", func(t *testing.T) {
		out := filepath.Join(dir, "out")
		run(t, "generate", "-f", cfg, "--images", imageFile, "-o", out)
		if b, _ := os.ReadFile(filepath.Join(out, "tasks", "go-test.yaml")); !strings.Contains(string(b), "image: "+flagGolang+"\n") {
			t.Errorf("tasks/go-test.yaml lacks %s:\n%s", flagGolang, b)
		}
		cat := filepath.Join(dir, "catalog")
		run(t, "catalog", "--images", imageFile, "-o", cat)
		if b, _ := os.ReadFile(filepath.Join(cat, "tasks", "kubectl-apply", "0.1", "kubectl-apply.yaml")); !strings.Contains(string(b), "image: "+flagKubectl+"\n") {
			t.Errorf("catalog kubectl-apply lacks %s:\n%s", flagKubectl, b)
		}
	})
	t.Run("a bad --images file is refused, naming file, line and entry", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.json")
		write(bad, "{\"version\": 1, \"images\": [\n    {\"name\": \"golnag\", \"repo\": \"x\", \"digest\": \""+flagDigest+"\"}\n]}\n")
		for _, args := range [][]string{
			{"images", "--images", bad},
			{"generate", "--images", bad, "-o", filepath.Join(dir, "never")},
			{"catalog", "--images", bad, "-o", filepath.Join(dir, "never")},
		} {
			cmd := exec.Command(bin, args...)
			out, err := cmd.CombinedOutput()
			if err == nil || cmd.ProcessState.ExitCode() != 1 {
				t.Fatalf("%v: want exit code 1, got %v\n%s", args, err, out)
			}
			want := "pipewright: --images: " + bad + `:2:5: images[0] ("golnag"): no catalog image "golnag" (hint: did you mean "golang"?`
			if !strings.HasPrefix(string(out), want) {
				t.Errorf("%v: stderr = %q, want prefix %q", args, out, want)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "never")); err == nil {
			t.Error("a refused --images file still wrote output")
		}
	})
}
