package catalog_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pipewright/pipewright/generator/catalog"
	"github.com/pipewright/pipewright/pkg/keys"
	"github.com/pipewright/pipewright/test/steprun"
)

// A test Task given a log name keeps its output for the check run: the
// step still fails with the test's exit code and shows its output, and the
// checkout then holds the end of that output and the step's times and exit
// code; without a log name nothing is kept.
func TestKeepLogOfFailingGoTest(t *testing.T) {
	need(t, "go", "go-test")
	src := goModule(t)
	write(t, src, map[string]string{"calc/bad_test.go": "package calc\n\nimport \"testing\"\n\nfunc TestBad(t *testing.T) { t.Fatal(\"broken\") }\n"})
	e, _ := catalog.Get("go-test")
	out, err := steprun.Run(context.Background(), e.Spec, e.Spec.Steps[0], steprun.Inputs{
		Params:     map[string]string{"junit-report": "", "race": "false", catalog.LogNameParam: "test"},
		Workspaces: map[string]string{"source": src, "cache": steprun.GoCache(t)},
	})
	if err == nil || !strings.Contains(err.Error(), "exit status 1") {
		t.Fatalf("a failing test must fail the step with go test's exit code, got %v", err)
	}
	if !strings.Contains(out.Log, "bad_test.go:5: broken") {
		t.Errorf("the step's own output lost the failure:\n%s", out.Log)
	}
	dir := filepath.Join(src, keys.TaskLogDir)
	log, err := os.ReadFile(filepath.Join(dir, "test.log"))
	if err != nil || !strings.Contains(string(log), "    bad_test.go:5: broken\n") || !strings.Contains(string(log), "FAIL\texample.com/tiny/calc") {
		t.Errorf("kept log (%v):\n%s", err, log)
	}
	st, err := os.ReadFile(filepath.Join(dir, "test.status"))
	f := strings.Fields(string(st))
	if err != nil || len(f) != 3 || f[2] != "1" {
		t.Fatalf("status %q (%v), want START END 1", st, err)
	}
	start, _ := strconv.ParseInt(f[0], 10, 64)
	end, _ := strconv.ParseInt(f[1], 10, 64)
	if start <= 0 || end < start {
		t.Errorf("status times %q", st)
	}

	// Passing, and without a name: nothing kept, exit 0.
	clean := goModule(t)
	if _, err := steprun.Run(context.Background(), e.Spec, e.Spec.Steps[0], steprun.Inputs{
		Params:     map[string]string{"junit-report": "", "race": "false"},
		Workspaces: map[string]string{"source": clean, "cache": steprun.GoCache(t)},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(clean, keys.TaskLogDir)); !os.IsNotExist(err) {
		t.Errorf("kept a log without a log name: %v", err)
	}
}

// The kept log is bounded: a test printing far more keeps its last bytes.
func TestKeepLogIsBounded(t *testing.T) {
	need(t, "go", "go-test")
	src := goModule(t)
	write(t, src, map[string]string{"calc/loud_test.go": "package calc\n\nimport (\n\t\"strings\"\n\t\"testing\"\n)\n\n" +
		"func TestLoud(t *testing.T) {\n\tfor i := 0; i < 3000; i++ {\n\t\tt.Log(strings.Repeat(\"x\", 100))\n\t}\n\tt.Fatal(\"the end\")\n}\n"})
	e, _ := catalog.Get("go-test")
	_, err := steprun.Run(context.Background(), e.Spec, e.Spec.Steps[0], steprun.Inputs{
		Params:     map[string]string{"junit-report": "", "race": "false", "flags": "-v", catalog.LogNameParam: "test"},
		Workspaces: map[string]string{"source": src, "cache": steprun.GoCache(t)},
	})
	if err == nil {
		t.Fatal("the failing test passed")
	}
	log, err := os.ReadFile(filepath.Join(src, keys.TaskLogDir, "test.log"))
	if err != nil || len(log) != keys.TaskLogBytes || !strings.Contains(string(log), "the end") {
		t.Errorf("kept %d bytes (%v), want the last %d with the failure", len(log), err, keys.TaskLogBytes)
	}
}

func TestKeepLogRefusesPathNames(t *testing.T) {
	need(t, "go", "go-test")
	src := goModule(t)
	e, _ := catalog.Get("go-test")
	_, err := steprun.Run(context.Background(), e.Spec, e.Spec.Steps[0], steprun.Inputs{
		Params:     map[string]string{catalog.LogNameParam: "../../etc/x"},
		Workspaces: map[string]string{"source": src, "cache": steprun.GoCache(t)},
	})
	if err == nil || !strings.Contains(err.Error(), "log-name must be a-z, 0-9 and -") {
		t.Fatalf("got %v", err)
	}
}
