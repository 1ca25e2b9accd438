//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/pipewright/pipewright/pkg/tekton"
	"sigs.k8s.io/yaml"
)

// TestCatalogInstalls applies the committed catalog the way the README says
// (kubectl apply -R -f tasks/ -f pipelines/) through Tekton's admission
// webhooks, and checks every object is there afterwards.
func TestCatalogInstalls(t *testing.T) {
	ctx := context.Background()
	ns := "catalog"
	namespace(t, ns)
	var dirs []string
	for _, d := range []string{"tasks", "pipelines"} {
		if _, err := os.Stat(filepath.Join(repoRoot(), d)); err == nil {
			dirs = append(dirs, filepath.Join(repoRoot(), d))
		}
	}
	want := manifestNames(t, dirs...)
	if len(want) == 0 {
		t.Fatal("no manifests found in tasks/ or pipelines/")
	}
	out, err := cp.ApplyDir(ctx, ns, dirs...)
	if err != nil {
		t.Fatalf("kubectl apply rejected part of the catalog:\n%v\noutput:\n%s", err, out)
	}
	// One "kind/name created" line per object: nothing skipped or refused.
	applied := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(applied) != len(want) {
		t.Errorf("kubectl apply reported %d objects, the folders hold %d:\n%s", len(applied), len(want), out)
	}

	got := map[string]bool{}
	for _, kind := range []string{"tasks.tekton.dev", "pipelines.tekton.dev"} {
		var list struct {
			Items []struct {
				Kind     string `json:"kind"`
				Metadata struct {
					Name string `json:"name"`
				} `json:"metadata"`
			} `json:"items"`
		}
		b, err := cp.Kubectl(ctx, nil, "get", kind, "-n", ns, "-o", "json")
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &list); err != nil {
			t.Fatal(err)
		}
		for _, it := range list.Items {
			got[it.Kind+"/"+it.Metadata.Name] = true
		}
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("kubectl get does not show %s after apply", w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("cluster holds %d Tasks and Pipelines, applied %d", len(got), len(want))
	}
}

// manifestNames lists kind/name of every object in the YAML files under dirs.
func manifestNames(t *testing.T, dirs ...string) []string {
	t.Helper()
	var names []string
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, d := range tekton.Split(b) {
				var o struct {
					Kind     string `json:"kind"`
					Metadata struct {
						Name string `json:"name"`
					} `json:"metadata"`
				}
				if err := yaml.Unmarshal(d.Text, &o); err != nil {
					t.Fatalf("%s: %v", path, err)
				}
				if o.Kind != "" {
					names = append(names, o.Kind+"/"+o.Metadata.Name)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(names)
	return names
}
