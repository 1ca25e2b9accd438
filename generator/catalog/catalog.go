// Package catalog defines pipewright's Tekton Tasks in Go, one file per Task,
// with Tekton's own v1 types. Shared step conventions live in step.go and the
// pinned image table in pkg/images.
package catalog

import (
	"fmt"
	"sort"
	"strings"

	"github.com/pipewright/pipewright/pkg/keys"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MinPipelinesVersion is the oldest Tekton Pipelines release the catalog
// declares support for. We validate and e2e-test against v1.15; v1.0 is the
// first release with the stable v1 API these Tasks are written in.
const MinPipelinesVersion = "1.0.0"

// Entry is one catalog Task with the metadata the catalog layout needs.
type Entry struct {
	Name        string
	Version     string
	DisplayName string
	Categories  []string
	Tags        []string
	Platforms   []string
	// Summary is the first line of the description (the README title line);
	// Details follow it.
	Summary string
	Details string
	Spec    v1.TaskSpec
	// Example holds param values for the README's usage example.
	Example map[string]string
	// RootSteps names the steps declared to run as root, with the reason;
	// it becomes the pipewright.dev/root-steps annotation the linter reads.
	RootSteps map[string]string
	// Writes names the workspaces the Task's steps write into (a checkout
	// they install dependencies or write reports into), besides cache
	// workspaces: the Go, npm, pip and Maven caches lock their own entries,
	// so tasks running at the same time may share one. Two pipeline tasks
	// that write the same folder must not run at the same time; the
	// pipeline builder checks it with tekton.ParallelWriters.
	Writes []string
	// RoleParams are the params a pipeline passes the Task by the role it
	// runs in, lint or test, besides context: the one place that says how a
	// Task that does both lints (node-test runs the package.json script
	// lint, go-make the make target lint).
	RoleParams map[string]map[string]string
}

// RoleParams is what Entry.RoleParams says of the catalog Task task for
// role (lint or test); nil when it says nothing.
func RoleParams(task, role string) map[string]string {
	e, err := Get(task)
	if err != nil {
		return nil
	}
	return e.RoleParams[role]
}

// Writes is what Entry.Writes says of the catalog Task task; nil for a
// Task the catalog does not have.
func Writes(task string) []string {
	e, err := Get(task)
	if err != nil {
		return nil
	}
	return e.Writes
}

// RootStepsAnnotation lists a Task's justified root steps, "step: reason"
// one per line; `pipewright lint` waives its root rules for exactly these.
const RootStepsAnnotation = keys.RootSteps

// Task returns the Entry as a Tekton Task object with the catalog's labels
// and annotations.
func (e Entry) Task() *v1.Task {
	spec := *e.Spec.DeepCopy()
	spec.Description = strings.TrimSpace(e.Summary + "\n\n" + e.Details)
	platforms := e.Platforms
	if len(platforms) == 0 {
		platforms = []string{"linux/amd64", "linux/arm64"}
	}
	t := &v1.Task{
		TypeMeta: metav1.TypeMeta{APIVersion: "tekton.dev/v1", Kind: "Task"},
		ObjectMeta: metav1.ObjectMeta{
			Name: e.Name,
			Labels: map[string]string{
				"app.kubernetes.io/version":    e.Version,
				"app.kubernetes.io/part-of":    "pipewright",
				"app.kubernetes.io/managed-by": "pipewright",
			},
			Annotations: map[string]string{
				"tekton.dev/pipelines.minVersion": MinPipelinesVersion,
				"tekton.dev/categories":           strings.Join(e.Categories, ", "),
				"tekton.dev/tags":                 strings.Join(e.Tags, ", "),
				"tekton.dev/displayName":          e.DisplayName,
				"tekton.dev/platforms":            strings.Join(platforms, ","),
			},
		},
		Spec: spec,
	}
	if len(e.RootSteps) > 0 {
		var lines []string
		for _, name := range sortedKeys(e.RootSteps) {
			lines = append(lines, name+": "+e.RootSteps[name])
		}
		t.Annotations[RootStepsAnnotation] = strings.Join(lines, "\n")
	}
	return t
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Path is the Task's file in tektoncd/catalog layout.
func (e Entry) Path() string {
	return fmt.Sprintf("tasks/%s/%s/%s.yaml", e.Name, e.Version, e.Name)
}

var registry = map[string]func() Entry{}

// register is called from each Task file's init.
func register(name string, f func() Entry) {
	if _, dup := registry[name]; dup {
		panic("catalog: duplicate task " + name)
	}
	registry[name] = f
}

// All returns every catalog Task, sorted by name.
func All() []Entry {
	names := Names()
	out := make([]Entry, 0, len(names))
	for _, n := range names {
		out = append(out, registry[n]())
	}
	return out
}

// Names lists the catalog Task names, sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Get returns one catalog Task by name.
func Get(name string) (Entry, error) {
	f, ok := registry[name]
	if !ok {
		return Entry{}, fmt.Errorf("no catalog task %q (have %s)", name, strings.Join(Names(), ", "))
	}
	return f(), nil
}
