package lint

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"

	"github.com/tektoncd/pipeline/pkg/apis/config"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	triggers "github.com/tektoncd/triggers/pkg/apis/triggers/v1beta1"
	"sigs.k8s.io/yaml"
)

// Report is what a lint run found and what it read.
type Report struct {
	Findings []Finding
	Summary  Summary
}

// Summary counts what a run read: files, objects by kind, and what it did
// not lint, by reason, so nothing is skipped without a word.
type Summary struct {
	Files        int            `json:"files"`
	Objects      map[string]int `json:"objects"`
	Skipped      map[string]int `json:"skippedDocuments"`
	SkippedFiles map[string]int `json:"skippedFiles"`
}

func newSummary() Summary {
	return Summary{Objects: map[string]int{}, Skipped: map[string]int{}, SkippedFiles: map[string]int{}}
}

func (s *Summary) add(in Input, r fileResult) {
	if in.Skip != "" {
		s.SkippedFiles[in.Skip]++
		return
	}
	s.Files++
	for k, n := range r.objects {
		s.Objects[k] += n
	}
	for k, n := range r.skipped {
		s.Skipped[k] += n
	}
}

// String is one line: "lint: 3 files, 7 objects (4 Task, 3 Pipeline);
// skipped 1 document (1 templated YAML); skipped 1 file (1 unreadable)".
func (s Summary) String() string {
	total := func(m map[string]int) int {
		n := 0
		for _, v := range m {
			n += v
		}
		return n
	}
	list := func(m map[string]int) string {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(m)) {
			parts = append(parts, fmt.Sprintf("%d %s", m[k], k))
		}
		return strings.Join(parts, ", ")
	}
	plural := func(n int, word string) string {
		if n == 1 {
			return fmt.Sprintf("%d %s", n, word)
		}
		return fmt.Sprintf("%d %ss", n, word)
	}
	line := "lint: " + plural(s.Files, "file") + ", " + plural(total(s.Objects), "object")
	if len(s.Objects) > 0 {
		line += " (" + list(s.Objects) + ")"
	}
	if n := total(s.Skipped); n > 0 {
		line += "; skipped " + plural(n, "document") + " (" + list(s.Skipped) + ")"
	}
	if n := total(s.SkippedFiles); n > 0 {
		line += "; skipped " + plural(n, "file") + " (" + list(s.SkippedFiles) + ")"
	}
	return line
}

// markPatches marks the files a kustomization in their folder names as a
// patch: they are fragments, not objects to lint.
func markPatches(in []Input) {
	patches := map[string]bool{}
	seen := map[string]bool{}
	for _, i := range in {
		dir := filepath.Dir(i.Path)
		if i.Path == "-" || seen[dir] {
			continue
		}
		seen[dir] = true
		for _, name := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				continue
			}
			var k struct {
				PatchesStrategicMerge []string `json:"patchesStrategicMerge"`
				Patches               []struct {
					Path string `json:"path"`
				} `json:"patches"`
				PatchesJSON6902 []struct {
					Path string `json:"path"`
				} `json:"patchesJson6902"`
			}
			if yaml.Unmarshal(b, &k) != nil {
				continue
			}
			files := k.PatchesStrategicMerge
			for _, p := range k.Patches {
				files = append(files, p.Path)
			}
			for _, p := range k.PatchesJSON6902 {
				files = append(files, p.Path)
			}
			for _, f := range files {
				if f != "" && !strings.Contains(f, "\n") {
					patches[filepath.Clean(filepath.Join(dir, f))] = true
				}
			}
		}
	}
	for i := range in {
		if in[i].Skip == "" && patches[filepath.Clean(in[i].Path)] {
			in[i].Skip = "kustomize patch"
		}
	}
}

// env is what every file's rules share: the Tekton configuration (feature
// flags) validation runs under.
type env struct {
	ctx       context.Context
	validated sync.Map // [32]byte -> validation
}

func newEnv(cfg *Config) *env {
	ctx := context.Background()
	if cfg.flags != nil {
		c := config.FromContextOrDefaults(ctx)
		c.FeatureFlags = cfg.flags
		ctx = config.ToContext(ctx, c)
	}
	return &env{ctx: ctx}
}

// SetFeatureFlags declares the cluster's feature-flags ConfigMap data
// (enable-cel-in-whenexpression: "true", ...), added to the config file's
// featureFlags; Tekton's validation then accepts what the cluster accepts.
func (c *Config) SetFeatureFlags(m map[string]string) error {
	if c.FeatureFlags == nil {
		c.FeatureFlags = map[string]string{}
	}
	maps.Copy(c.FeatureFlags, m)
	ff, err := config.NewFeatureFlagsFromMap(c.FeatureFlags)
	if err != nil {
		return fmt.Errorf("feature flags: %w", err)
	}
	c.flags = ff
	return nil
}

// ParseFeatureFlags reads "key=value,key=value".
func ParseFeatureFlags(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("feature flag %q: want key=value (enable-cel-in-whenexpression=true)", kv)
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, nil
}

// slim drops what the cross-object rules do not read from an object kept
// for them (scripts, descriptions: most of a Task's text), and says whether
// the object is kept at all: only the kinds crossObject looks at are.
func slim(obj any) bool {
	switch o := obj.(type) {
	case *v1.Task:
		ts := &o.Spec
		ts.Description = ""
		for i := range ts.Steps {
			ts.Steps[i].Script, ts.Steps[i].Args = "", nil
		}
		for i := range ts.Sidecars {
			ts.Sidecars[i].Script, ts.Sidecars[i].Args = "", nil
		}
		for i := range ts.Params {
			ts.Params[i].Description = ""
		}
		for i := range ts.Results {
			ts.Results[i].Description = ""
		}
		for i := range ts.Workspaces {
			ts.Workspaces[i].Description = ""
		}
		o.Annotations = nil
		return true
	case *v1.Pipeline, *v1.PipelineRun, *triggers.TriggerTemplate, *triggers.Trigger, *triggers.EventListener:
		return true
	}
	return false
}

// memoryBudget sets a soft memory limit of what the process uses now plus
// budget times the input's size, and returns the function restoring the
// previous limit.
func memoryBudget(in []Input, budget float64) func() {
	n := 0
	for _, i := range in {
		n += len(i.Data)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	prev := debug.SetMemoryLimit(int64(ms.Sys-ms.HeapIdle) + int64(budget*float64(n))) // idle heap is reused first
	return func() { debug.SetMemoryLimit(prev) }
}
