package tekton

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

// Wiring checks every Pipeline in objs, and every PipelineRun's embedded
// pipelineSpec, against the Tasks in objs, the Tasks embedded in it and
// the known Tasks (those a pipeline gets from the cluster or a bundle):
// params, workspaces and result references. Each Issue names both ends;
// its Path starts at the object's root.
func Wiring(objs []Object, known ...*v1.Task) []*Issue {
	tasks := map[string]*v1.TaskSpec{}
	for _, t := range known {
		tasks[t.Name] = &t.Spec
	}
	for _, o := range objs {
		if t, ok := o.Obj.(*v1.Task); ok {
			tasks[t.Name] = &t.Spec
		}
	}
	var out []*Issue
	add := func(o Object, prefix []any, issues []*Issue) {
		for _, e := range issues {
			e.File, e.Kind, e.Object = o.File, o.Kind, o.Name
			e.Path = append(append([]any{}, prefix...), e.Path...)
			out = append(out, e)
		}
	}
	for _, o := range objs {
		switch p := o.Obj.(type) {
		case *v1.Pipeline:
			add(o, []any{"spec"}, PipelineWiring(p.Name, &p.Spec, tasks))
		case *v1.PipelineRun:
			if p.Spec.PipelineSpec != nil {
				add(o, []any{"spec", "pipelineSpec"}, PipelineWiring(o.Name, p.Spec.PipelineSpec, tasks))
			}
		}
	}
	return out
}

// PipelineWiring checks one pipeline spec against the given Tasks by name,
// by Tekton's own rules for running it:
//   - a param the Task declares without a default must be given, by
//     params or matrix (params and include), else the run fails;
//   - a param the Task does not declare is ignored by Tekton: a Warning
//     (likely a typo), and nothing for an embedded taskSpec that reads it
//     as $(params.x), since Tekton propagates it there;
//   - a workspace the Task declares (not optional) must be bound, except
//     that an embedded taskSpec using a workspace the pipeline declares
//     under the same name gets it propagated;
//   - a bound workspace the Task does not declare fails the run, except in
//     an embedded taskSpec, where the binding declares it;
//   - $(tasks.X.results.Y) must name a result X's Task declares.
//
// Pipeline tasks whose Task is neither embedded nor in tasks are skipped:
// their Task is not known here. Paths start at the spec.
func PipelineWiring(name string, spec *v1.PipelineSpec, tasks map[string]*v1.TaskSpec) []*Issue {
	specs := map[string]*v1.TaskSpec{} // pipeline task name -> task spec
	refs := map[string]string{}        // pipeline task name -> what it uses, for messages
	type located struct {
		pt   v1.PipelineTask
		path []any
	}
	var all []located
	for i, pt := range spec.Tasks {
		all = append(all, located{pt, []any{"tasks", i}})
	}
	for i, pt := range spec.Finally {
		all = append(all, located{pt, []any{"finally", i}})
	}
	for _, l := range all {
		pt := l.pt
		switch {
		case pt.TaskSpec != nil:
			specs[pt.Name] = &pt.TaskSpec.TaskSpec
			refs[pt.Name] = "embedded taskSpec"
		case tasks[TaskName(pt)] != nil:
			specs[pt.Name] = tasks[TaskName(pt)]
			refs[pt.Name] = "task " + TaskName(pt)
		}
	}
	pipelineWS := map[string]bool{}
	for _, w := range spec.Workspaces {
		pipelineWS[w.Name] = true
	}
	var out []*Issue
	for _, l := range all {
		pt := l.pt
		ts := specs[pt.Name]
		if ts == nil {
			continue
		}
		embedded := pt.TaskSpec != nil
		fail := func(sev Severity, path []any, format string, args ...any) {
			out = append(out, &Issue{
				Severity: sev,
				Path:     append(append([]any{}, l.path...), path...),
				Prefix:   fmt.Sprintf("pipeline %s, pipeline task %q (%s)", name, pt.Name, refs[pt.Name]),
				Message:  fmt.Sprintf(format, args...),
			})
		}
		declared := map[string]v1.ParamSpec{}
		for _, p := range ts.Params {
			declared[p.Name] = p
		}
		given := map[string]bool{}
		for i, p := range pt.Params {
			given[p.Name] = true
			if _, ok := declared[p.Name]; ok {
				continue
			}
			if embedded && readsParam(ts, p.Name) {
				continue // propagated into the embedded spec
			}
			fail(Warning, []any{"params", i}, "passes param %q, which %s does not declare (it declares: %s); Tekton ignores it", p.Name, refs[pt.Name], keys(declared))
		}
		if pt.Matrix != nil {
			for _, p := range pt.Matrix.GetAllParams() {
				given[p.Name] = true
			}
		}
		for _, p := range ts.Params {
			if p.Default == nil && !given[p.Name] {
				fail(Error, nil, "does not pass param %q, which %s requires", p.Name, refs[pt.Name])
			}
		}
		wsDeclared := map[string]v1.WorkspaceDeclaration{}
		for _, w := range ts.Workspaces {
			wsDeclared[w.Name] = w
		}
		bound := map[string]bool{}
		for i, w := range pt.Workspaces {
			bound[w.Name] = true
			if _, ok := wsDeclared[w.Name]; !ok && !embedded {
				fail(Error, []any{"workspaces", i}, "binds workspace %q, which %s does not declare (it declares: %s)", w.Name, refs[pt.Name], keys(wsDeclared))
			}
		}
		for _, w := range ts.Workspaces {
			if w.Optional || bound[w.Name] {
				continue
			}
			if embedded && pipelineWS[w.Name] && readsWorkspace(ts, w.Name) {
				continue // propagated from the pipeline's workspace of that name
			}
			fail(Error, nil, "does not bind workspace %q, which %s requires", w.Name, refs[pt.Name])
		}
		for _, m := range resultRefs(pt.Params, pt.When) {
			if e := refError(m[0], m[1], specs, refs); e != "" {
				fail(Error, nil, "%s", e)
			}
		}
	}
	// Pipeline results read task results too.
	for i, r := range spec.Results {
		b, _ := json.Marshal(r.Value)
		for _, m := range resultRef.FindAllStringSubmatch(string(b), -1) {
			if e := refError(m[1], m[2], specs, refs); e != "" {
				out = append(out, &Issue{
					Severity: Error,
					Path:     []any{"results", i},
					Prefix:   fmt.Sprintf("pipeline %s, result %q", name, r.Name),
					Message:  e,
				})
			}
		}
	}
	return out
}

// resultRefs lists the (task, result) pairs params and when expressions
// read through $(tasks.X.results.Y).
func resultRefs(params v1.Params, when v1.WhenExpressions) [][2]string {
	b, _ := json.Marshal(struct {
		P v1.Params          `json:"p"`
		W v1.WhenExpressions `json:"w"`
	}{params, when})
	var out [][2]string
	for _, m := range resultRef.FindAllStringSubmatch(string(b), -1) {
		out = append(out, [2]string{m[1], m[2]})
	}
	return out
}

// readsParam reports whether a task spec reads $(params.name) (or
// $(params["name"]) and friends) anywhere, as Tekton substitutes it.
func readsParam(ts *v1.TaskSpec, name string) bool {
	b, _ := json.Marshal(ts)
	s := string(b)
	for _, form := range []string{"params." + name, "params['" + name + "']", `params[\"` + name + `\"]`} {
		if strings.Contains(s, "$("+form) {
			return true
		}
	}
	return false
}

// readsWorkspace reports whether a task spec reads $(workspaces.name.…),
// which is what makes Tekton propagate a pipeline workspace into it.
func readsWorkspace(ts *v1.TaskSpec, name string) bool {
	b, _ := json.Marshal(ts)
	return strings.Contains(string(b), "$(workspaces."+name+".")
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
