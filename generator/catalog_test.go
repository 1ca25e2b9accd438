package generator_test

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pipewright/pipewright/generator"
	"github.com/pipewright/pipewright/generator/catalog"
	"github.com/pipewright/pipewright/pkg/images"
	"github.com/pipewright/pipewright/pkg/tekton"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	corev1 "k8s.io/api/core/v1"
)

func catalogTasks(t *testing.T) []*v1.Task {
	t.Helper()
	tree, err := generator.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	var tasks []*v1.Task
	for _, p := range tree.Paths() {
		if !strings.HasSuffix(p, ".yaml") {
			continue
		}
		objs, err := tekton.Decode(p, tree[p])
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			if task, ok := o.Obj.(*v1.Task); ok {
				tasks = append(tasks, task)
			}
		}
	}
	return tasks
}

func TestCatalogLayoutAndMetadata(t *testing.T) {
	tree, err := generator.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	names := catalog.Names()
	if len(names) < 10 {
		t.Fatalf("catalog has %d tasks, want at least 10", len(names))
	}
	for _, n := range names {
		e, _ := catalog.Get(n)
		for _, f := range []string{e.Path(), filepath.Dir(e.Path()) + "/README.md"} {
			if _, ok := tree[f]; !ok {
				t.Errorf("missing %s", f)
			}
		}
		if !regexp.MustCompile(`^tasks/` + n + `/\d+\.\d+/` + n + `\.yaml$`).MatchString(e.Path()) {
			t.Errorf("%s: not in catalog layout", e.Path())
		}
	}
	for _, task := range catalogTasks(t) {
		for _, l := range []string{"app.kubernetes.io/version"} {
			if task.Labels[l] == "" {
				t.Errorf("task %s: label %s missing", task.Name, l)
			}
		}
		for _, a := range []string{"tekton.dev/pipelines.minVersion", "tekton.dev/categories", "tekton.dev/tags", "tekton.dev/displayName", "tekton.dev/platforms"} {
			if task.Annotations[a] == "" {
				t.Errorf("task %s: annotation %s missing", task.Name, a)
			}
		}
		if task.APIVersion != "tekton.dev/v1" || task.Kind != "Task" {
			t.Errorf("task %s: apiVersion/kind %s/%s", task.Name, task.APIVersion, task.Kind)
		}
	}
}

func TestCatalogIsDeterministicAndClean(t *testing.T) {
	a, err := generator.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := generator.Catalog()
	for p, data := range a {
		if !bytes.Equal(data, b[p]) {
			t.Errorf("%s differs between two runs", p)
		}
		for _, noise := range []string{"creationTimestamp", "computeResources: {}", "\r\n", "\nstatus:"} {
			if bytes.Contains(data, []byte(noise)) {
				t.Errorf("%s contains %q", p, noise)
			}
		}
	}
}

// tektonVar matches any Tekton variable reference a script must not contain.
var tektonVar = regexp.MustCompile(`\$\((params|workspaces|results|tasks|context|steps)\.`)

func TestScriptsTakeNoTektonVariables(t *testing.T) {
	for _, task := range catalogTasks(t) {
		for _, s := range task.Spec.Steps {
			if strings.Contains(s.Script, "$(params.") || tektonVar.MatchString(s.Script) {
				t.Errorf("task %s step %s: script body interpolates a Tekton variable; pass it through env", task.Name, s.Name)
			}
			if s.Script != "" && !strings.HasPrefix(s.Script, "#!/bin/sh\nset -eu\n") && !strings.HasPrefix(s.Script, "#!/usr/bin/env python3\n") {
				t.Errorf("task %s step %s: script does not start with the shared header", task.Name, s.Name)
			}
		}
	}
}

var pinned = regexp.MustCompile(`^[a-z0-9.-]+(/[a-z0-9._-]+)+(:[A-Za-z0-9._-]+)?@sha256:[0-9a-f]{64}$`)

func TestImagesPinnedFromTheTable(t *testing.T) {
	if _, err := images.Pinned(); err != nil {
		t.Fatal(err)
	}
	table := map[string]bool{}
	for _, img := range images.All() {
		e, ok := pinnedLock(t).Get(img.Name)
		if !ok || e.Source == "" {
			t.Errorf("image %s has no lock entry with a recorded source", img.Name)
		}
		if e.Ref() != img.Ref() {
			t.Errorf("image %s: step ref %s is not the lock's %s", img.Name, img.Ref(), e.Ref())
		}
		table[img.Ref()] = true
	}
	for _, task := range catalogTasks(t) {
		for _, s := range task.Spec.Steps {
			if s.Image == "$(params."+catalog.ToolImageParam+")" {
				// The tool image is the installer's own build: a required
				// param, never a default digest nobody published.
				for _, p := range task.Spec.Params {
					if p.Name == catalog.ToolImageParam && p.Default != nil {
						t.Errorf("task %s: param %s has a default", task.Name, p.Name)
					}
				}
				continue
			}
			if !pinned.MatchString(s.Image) {
				t.Errorf("task %s step %s: image %q is not pinned by digest", task.Name, s.Name, s.Image)
			}
			if !table[s.Image] {
				t.Errorf("task %s step %s: image %q is not from the image table", task.Name, s.Name, s.Image)
			}
		}
	}
}

func TestStepsRestrictedWithResourcesAndTimeouts(t *testing.T) {
	for _, task := range catalogTasks(t) {
		for _, s := range task.Spec.Steps {
			where := task.Name + "/" + s.Name
			sc := s.SecurityContext
			// A step may need more than the restricted profile (root, or a
			// rootless builder's user namespace) only with a declared reason.
			declared := strings.Contains(task.Annotations[catalog.RootStepsAnnotation], s.Name+": ")
			if sc == nil || sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" {
				t.Errorf("%s: securityContext does not drop ALL capabilities: %+v", where, sc)
				continue
			}
			restricted := sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation && len(sc.Capabilities.Add) == 0 &&
				sc.SeccompProfile != nil && sc.SeccompProfile.Type == corev1.SeccompProfileTypeRuntimeDefault && sc.AppArmorProfile == nil
			if !restricted && !declared {
				t.Errorf("%s: securityContext not restricted and no reason declared: %+v", where, sc)
			}
			root := sc.RunAsUser != nil && *sc.RunAsUser == 0
			if root && !declared {
				t.Errorf("%s: runs as root without a declared reason", where)
			}
			if !root && (sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot) {
				t.Errorf("%s: runAsNonRoot not set", where)
			}
			if s.ComputeResources.Requests.Cpu().IsZero() || s.ComputeResources.Requests.Memory().IsZero() {
				t.Errorf("%s: no resource requests", where)
			}
			if s.Timeout == nil || s.Timeout.Duration <= 0 {
				t.Errorf("%s: no timeout", where)
			}
		}
	}
}

func TestShellcheck(t *testing.T) {
	if _, err := exec.LookPath("shellcheck"); err != nil {
		if os.Getenv("PIPEWRIGHT_REQUIRE_TOOLS") == "1" {
			t.Fatal("shellcheck missing although make test installs it")
		}
		t.Skip("skipping: shellcheck not on PATH; `make tools` installs it")
	}
	for _, task := range catalogTasks(t) {
		for _, s := range task.Spec.Steps {
			if !strings.HasPrefix(s.Script, "#!/bin/sh") {
				continue
			}
			cmd := exec.Command("shellcheck", "--shell=sh", "--severity=style", "-")
			cmd.Stdin = strings.NewReader(s.Script)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("task %s step %s: shellcheck:\n%s", task.Name, s.Name, out)
			}
		}
	}
}

// Every image reference in the committed output (the catalog and every
// example's generated set) is a lock entry's ref, or the tool image param
// the installer pins.
func TestCommittedImagesComeFromTheLock(t *testing.T) {
	refs := map[string]bool{"$(params." + catalog.ToolImageParam + ")": true}
	for _, e := range pinnedLock(t).Images {
		refs[e.Ref()] = true
	}
	imageLine := regexp.MustCompile(`(?m)^\s*(?:-\s+)?image:\s*(\S+)\s*$`)
	seen := 0
	for _, root := range []string{"../tasks", "../examples"} {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") {
				return err
			}
			if root == "../examples" && !strings.Contains(p, "/tekton/") {
				return nil // the examples' own app manifests, not generated
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, m := range imageLine.FindAllStringSubmatch(string(b), -1) {
				if strings.HasPrefix(m[1], "${") {
					continue // a line a script writes (kubectl-apply's kustomize patch), not a step's image
				}
				seen++
				if !refs[m[1]] {
					t.Errorf("%s: image %s is not from the lock", p, m[1])
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if seen < 30 {
		t.Errorf("found only %d image references; is the scan looking in the right place?", seen)
	}
}

// pinnedLock is the embedded lock; a lock that does not cover the table
// fails the test.
func pinnedLock(t *testing.T) images.Lock {
	t.Helper()
	l, err := images.Pinned()
	if err != nil {
		t.Fatal(err)
	}
	return l
}
