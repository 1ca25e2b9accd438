package tekton

import (
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"

	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
)

// ParallelWriters reports pipeline tasks that may run at the same time and
// write the same folder: both write a pipeline workspace at subPaths that
// are the same or one inside the other, and neither runs after the other
// (runAfter, or a $(tasks.X.results.Y) reference, transitively). Two `npm
// ci` in one checkout at once fail, or worse, pass on a half-written
// node_modules.
//
// writes names the workspaces (the Task's own names) that the Task of a
// pipeline task writes into, by Task name (TaskName); a Task it knows
// nothing of writes none. Finally tasks run after every task, and at the
// same time as each other.
func ParallelWriters(name string, spec *v1.PipelineSpec, writes func(task string) []string) []error {
	type write struct {
		task, ws, sub string // pipeline task, pipeline workspace, subPath
		finally       bool
	}
	var ws []write
	all := append(append([]v1.PipelineTask{}, spec.Tasks...), spec.Finally...)
	for i, pt := range all {
		var task string
		if pt.TaskSpec == nil {
			task = TaskName(pt)
		}
		written := map[string]bool{}
		for _, w := range writes(task) {
			written[w] = true
		}
		for _, b := range pt.Workspaces {
			if written[b.Name] {
				ws = append(ws, write{pt.Name, b.Workspace, path.Clean("/" + b.SubPath), i >= len(spec.Tasks)})
			}
		}
	}
	after := ancestors(spec.Tasks)
	var errs []error
	seen := map[[2]string]bool{}
	for i, a := range ws {
		for _, b := range ws[i+1:] {
			if a.task == b.task || a.ws != b.ws || !nested(a.sub, b.sub) || seen[[2]string{a.task, b.task}] {
				continue
			}
			ordered := after[b.task][a.task] || after[a.task][b.task] || a.finally != b.finally
			if ordered {
				continue
			}
			seen[[2]string{a.task, b.task}] = true
			errs = append(errs, fmt.Errorf("pipeline %s, pipeline tasks %q and %q both write workspace %q (subPaths %q and %q) and may run at the same time: order them with runAfter",
				name, a.task, b.task, a.ws, strings.TrimPrefix(a.sub, "/"), strings.TrimPrefix(b.sub, "/")))
		}
	}
	return errs
}

// nested reports whether one of two cleaned absolute paths is the other or
// inside it.
func nested(a, b string) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	return a == b || a == "/" || strings.HasPrefix(b, a+"/")
}

// ancestors maps each pipeline task to the tasks it runs after,
// transitively: runAfter and the tasks whose results it reads.
func ancestors(tasks []v1.PipelineTask) map[string]map[string]bool {
	direct := map[string][]string{}
	for _, pt := range tasks {
		deps := append([]string{}, pt.RunAfter...)
		b, _ := json.Marshal(struct {
			P v1.Params          `json:"p"`
			W v1.WhenExpressions `json:"w"`
		}{pt.Params, pt.When})
		for _, m := range resultRef.FindAllStringSubmatch(string(b), -1) {
			deps = append(deps, m[1])
		}
		sort.Strings(deps)
		direct[pt.Name] = deps
	}
	out := map[string]map[string]bool{}
	var visit func(string) map[string]bool
	visit = func(t string) map[string]bool {
		if a, ok := out[t]; ok {
			return a
		}
		a := map[string]bool{}
		out[t] = a // a cycle (which Tekton's Validate reports) stops here
		for _, d := range direct[t] {
			a[d] = true
			for x := range visit(d) {
				a[x] = true
			}
		}
		return a
	}
	for _, pt := range tasks {
		visit(pt.Name)
	}
	return out
}
