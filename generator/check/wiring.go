package check

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
)

// resultRef matches $(tasks.<task>.results.<result>) with an optional
// [index] or .key suffix.
var resultRef = regexp.MustCompile(`\$\(tasks\.([a-z0-9-]+)\.results\.([A-Za-z0-9_.-]+?)(?:\[[^\]]*\])?\)`)

// TaskName is the catalog name a pipeline task refers to: taskRef.name, or
// the "name" param of a resolver reference (bundles, cluster, hub).
func TaskName(pt v1.PipelineTask) string {
	if pt.TaskRef == nil {
		return ""
	}
	if pt.TaskRef.Name != "" {
		return pt.TaskRef.Name
	}
	for _, p := range pt.TaskRef.Params {
		if p.Name == "name" {
			return p.Value.StringVal
		}
	}
	return ""
}

// Wiring checks every Pipeline in objs against the Tasks in objs, the Tasks
// embedded in it and the known Tasks (those a pipeline gets from the cluster
// or a bundle): params, workspaces and result references. Each error names
// both ends.
func Wiring(objs []Object, known ...*v1.Task) []error {
	tasks := map[string]*v1.TaskSpec{}
	for _, t := range known {
		tasks[t.Name] = &t.Spec
	}
	for _, o := range objs {
		if t, ok := o.Obj.(*v1.Task); ok {
			tasks[t.Name] = &t.Spec
		}
	}
	var errs []error
	for _, o := range objs {
		switch p := o.Obj.(type) {
		case *v1.Pipeline:
			for _, e := range PipelineWiring(p.Name, &p.Spec, tasks) {
				errs = append(errs, fmt.Errorf("%s: %w", o.File, e))
			}
		case *v1.PipelineRun:
			if p.Spec.PipelineSpec != nil {
				for _, e := range PipelineWiring(o.Name, p.Spec.PipelineSpec, tasks) {
					errs = append(errs, fmt.Errorf("%s: %w", o.File, e))
				}
			}
		}
	}
	return errs
}

// PipelineWiring checks one pipeline spec against the given Tasks by name.
// Pipeline tasks whose Task is neither embedded nor in tasks are skipped:
// their Task is not known here.
func PipelineWiring(name string, spec *v1.PipelineSpec, tasks map[string]*v1.TaskSpec) []error {
	specs := map[string]*v1.TaskSpec{} // pipeline task name -> task spec
	refs := map[string]string{}        // pipeline task name -> what it uses, for messages
	all := append(append([]v1.PipelineTask{}, spec.Tasks...), spec.Finally...)
	for _, pt := range all {
		switch {
		case pt.TaskSpec != nil:
			specs[pt.Name] = &pt.TaskSpec.TaskSpec
			refs[pt.Name] = "embedded taskSpec"
		case tasks[TaskName(pt)] != nil:
			specs[pt.Name] = tasks[TaskName(pt)]
			refs[pt.Name] = "task " + TaskName(pt)
		}
	}
	var errs []error
	fail := func(pt v1.PipelineTask, format string, args ...any) {
		errs = append(errs, fmt.Errorf("pipeline %s, pipeline task %q (%s): %s", name, pt.Name, refs[pt.Name], fmt.Sprintf(format, args...)))
	}
	for _, pt := range all {
		ts := specs[pt.Name]
		if ts == nil {
			continue
		}
		declared := map[string]v1.ParamSpec{}
		for _, p := range ts.Params {
			declared[p.Name] = p
		}
		given := map[string]bool{}
		for _, p := range pt.Params {
			given[p.Name] = true
			if _, ok := declared[p.Name]; !ok {
				fail(pt, "passes param %q, which %s does not declare (it declares: %s)", p.Name, refs[pt.Name], keys(declared))
			}
		}
		for _, p := range ts.Params {
			if p.Default == nil && !given[p.Name] {
				fail(pt, "does not pass param %q, which %s requires", p.Name, refs[pt.Name])
			}
		}
		wsDeclared := map[string]v1.WorkspaceDeclaration{}
		for _, w := range ts.Workspaces {
			wsDeclared[w.Name] = w
		}
		bound := map[string]bool{}
		for _, w := range pt.Workspaces {
			bound[w.Name] = true
			if _, ok := wsDeclared[w.Name]; !ok {
				fail(pt, "binds workspace %q, which %s does not declare (it declares: %s)", w.Name, refs[pt.Name], keys(wsDeclared))
			}
		}
		for _, w := range ts.Workspaces {
			if !w.Optional && !bound[w.Name] {
				fail(pt, "does not bind workspace %q, which %s requires", w.Name, refs[pt.Name])
			}
		}
		checkResultRefs(pt, specs, refs, fail)
	}
	// Pipeline results read task results too.
	for _, r := range spec.Results {
		b, _ := json.Marshal(r.Value)
		for _, m := range resultRef.FindAllStringSubmatch(string(b), -1) {
			if e := refError(m[1], m[2], specs, refs); e != "" {
				errs = append(errs, fmt.Errorf("pipeline %s, result %q: %s", name, r.Name, e))
			}
		}
	}
	return errs
}

func checkResultRefs(pt v1.PipelineTask, specs map[string]*v1.TaskSpec, refs map[string]string, fail func(v1.PipelineTask, string, ...any)) {
	b, _ := json.Marshal(struct {
		P v1.Params          `json:"p"`
		W v1.WhenExpressions `json:"w"`
	}{pt.Params, pt.When})
	for _, m := range resultRef.FindAllStringSubmatch(string(b), -1) {
		if e := refError(m[1], m[2], specs, refs); e != "" {
			fail(pt, "%s", e)
		}
	}
}

func refError(task, result string, specs map[string]*v1.TaskSpec, refs map[string]string) string {
	ts, ok := specs[task]
	if !ok {
		return "" // unknown producer: Tekton's Validate reports missing tasks
	}
	result = strings.SplitN(result, ".", 2)[0] // object result key
	for _, r := range ts.Results {
		if r.Name == result {
			return ""
		}
	}
	names := make([]string, 0, len(ts.Results))
	for _, r := range ts.Results {
		names = append(names, r.Name)
	}
	sort.Strings(names)
	return fmt.Sprintf("reads $(tasks.%s.results.%s), but %s (pipeline task %q) has no result %q (it has: %s)",
		task, result, refs[task], task, result, orNone(names))
}

func keys[V any](m map[string]V) string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return orNone(out)
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
