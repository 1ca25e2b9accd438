package lint

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pipewright/pipewright/pkg/tekton"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	triggers "github.com/tektoncd/triggers/pkg/apis/triggers/v1beta1"
	"k8s.io/apimachinery/pkg/api/equality"
)

// pipelineAt is a pipeline spec and where its YAML is.
type pipelineAt struct {
	u    *unit
	name string
	spec *v1.PipelineSpec
	at   []any
}

// runAt is a PipelineRun and where its YAML is (a document, or a
// TriggerTemplate's resource template).
type runAt struct {
	u  *unit
	pr *v1.PipelineRun
	at []any
	// why the run is pull-request triggered
	reason string
}

// crossObject runs the rules that look at several objects: pipeline wiring
// against the Tasks in the set, and pull-request runs against the Pipelines
// and Triggers that start them.
func crossObject(units []*unit) []Finding {
	var out []Finding
	tasks := map[string]*v1.TaskSpec{}
	pipelines := map[string]pipelineAt{}
	var specs []pipelineAt
	var runs []runAt
	templates := map[string][]runAt{}
	prTemplates := map[string]string{} // template name -> trigger that makes it PR-triggered
	for _, u := range units {
		switch o := u.obj.Obj.(type) {
		case *v1.Task:
			if prev, dup := tasks[o.Name]; !dup {
				tasks[o.Name] = &o.Spec
			} else if prev != nil && !equality.Semantic.DeepEqual(prev, &o.Spec) {
				// Several versions of a Task (a catalog tree): which one a
				// Pipeline means is unknown, so wiring skips it.
				tasks[o.Name] = nil
			}
		case *v1.Pipeline:
			p := pipelineAt{u, o.Name, &o.Spec, []any{"spec"}}
			specs = append(specs, p)
			if _, dup := pipelines[o.Name]; !dup {
				pipelines[o.Name] = p
			}
		case *v1.PipelineRun:
			if o.Spec.PipelineSpec != nil {
				specs = append(specs, pipelineAt{u, u.obj.Name, o.Spec.PipelineSpec, []any{"spec", "pipelineSpec"}})
			}
			runs = append(runs, runAt{u, o, nil, u.pr})
		case *triggers.TriggerTemplate:
			for i, rt := range o.Spec.ResourceTemplates {
				if pr, ok := decodeTemplate(rt.Raw).(*v1.PipelineRun); ok {
					at := []any{"spec", "resourcetemplates", i}
					templates[o.Name] = append(templates[o.Name], runAt{u, pr, at, ""})
					if pr.Spec.PipelineSpec != nil {
						specs = append(specs, pipelineAt{u, pr.Name + pr.GenerateName, pr.Spec.PipelineSpec, append(at, "spec", "pipelineSpec")})
					}
				}
			}
		case *triggers.Trigger:
			if o.Spec.Template.Ref != nil && prTrigger(o.Spec.Interceptors) {
				prTemplates[*o.Spec.Template.Ref] = "trigger " + o.Name
			}
		case *triggers.EventListener:
			for _, t := range o.Spec.Triggers {
				if t.Template != nil && t.Template.Ref != nil && prTrigger(t.Interceptors) {
					prTemplates[*t.Template.Ref] = fmt.Sprintf("EventListener %s trigger %s", o.Name, t.Name)
				}
			}
		}
	}
	for name, why := range prTemplates {
		for _, r := range templates[name] {
			r.reason = why + " via TriggerTemplate " + name
			runs = append(runs, r)
		}
	}
	for _, p := range specs {
		out = append(out, wiring(p, tasks)...)
		out = append(out, passedImages(p, tasks)...)
	}
	for _, r := range runs {
		if r.reason != "" {
			out = append(out, untrustedRun(r, pipelines, tasks)...)
		}
	}
	return out
}

// wiring reports tekton.PipelineWiring's issues at the field each one
// names, with its severity: a param Tekton ignores is a warning.
func wiring(p pipelineAt, tasks map[string]*v1.TaskSpec) []Finding {
	var out []Finding
	r := reporter{u: p.u, out: &out}
	for _, is := range tekton.PipelineWiring(p.name, p.spec, tasks) {
		msg := strings.TrimPrefix(is.Error(), "pipeline "+p.name+", ")
		r.add("wiring", p.u.doc.at(join(p.at, is.Path...)...), "%s", msg)
		if is.Severity == tekton.Warning {
			out[len(out)-1].Severity = Warning
		}
	}
	return out
}

// passedImages judges the images a Pipeline hands to Tasks that run a step
// image chosen by a param without a default (the Task leaves pinning to its
// caller): a literal value, or the default of the pipeline param passed on,
// must be pinned by digest like any step image.
func passedImages(p pipelineAt, tasks map[string]*v1.TaskSpec) []Finding {
	var out []Finding
	r := reporter{u: p.u, out: &out}
	pdefaults := map[string]int{}
	for i, ps := range p.spec.Params {
		pdefaults[ps.Name] = i
	}
	for _, pt := range append(append([]v1.PipelineTask{}, p.spec.Tasks...), p.spec.Finally...) {
		if pt.TaskRef == nil || pt.TaskRef.Name == "" || tasks[pt.TaskRef.Name] == nil {
			continue
		}
		ts := tasks[pt.TaskRef.Name]
		for _, name := range imageParams(ts) {
			for _, prm := range pt.Params {
				if prm.Name != name {
					continue
				}
				v, at := prm.Value.StringVal, locateNamed(p, locateTask(p, pt.Name), "params", name)
				at = join(at, "value")
				if m := imageParam.FindStringSubmatch(v); m != nil {
					i, ok := pdefaults[m[1]]
					if !ok || p.spec.Params[i].Default == nil {
						continue // given by the run: judged where it is written
					}
					v, at = p.spec.Params[i].Default.StringVal, join(p.at, "params", i, "default")
				}
				if v == "" || strings.Contains(v, "$(") || strings.Contains(v, "@sha256:") {
					continue
				}
				r.add("unpinned-image", p.u.doc.at(at...), "pipeline task %q passes image %s to param %q, which task %s runs as a step image; it is not pinned by digest", pt.Name, v, name, pt.TaskRef.Name)
			}
		}
	}
	return out
}

// imageParams are the params without a default that a Task's steps use as
// their whole image.
func imageParams(ts *v1.TaskSpec) []string {
	var out []string
	for _, s := range ts.Steps {
		m := imageParam.FindStringSubmatch(s.Image)
		if m == nil {
			continue
		}
		for _, ps := range ts.Params {
			if ps.Name == m[1] && ps.Default == nil {
				out = append(out, m[1])
			}
		}
	}
	return out
}

func locateTask(p pipelineAt, name string) []any {
	for i, pt := range p.spec.Tasks {
		if pt.Name == name {
			return join(p.at, "tasks", i)
		}
	}
	for i, pt := range p.spec.Finally {
		if pt.Name == name {
			return join(p.at, "finally", i)
		}
	}
	return p.at
}

// locateNamed finds the element called name in the list key under at.
func locateNamed(p pipelineAt, at []any, key, name string) []any {
	if list := p.u.doc.exact(join(at, key)...); list != nil {
		for i, el := range list.Content {
			if c := child(el, "name"); c != nil && c.Value == name {
				return join(at, key, i)
			}
		}
	}
	return at
}

// untrustedRun reports Secrets and service-account tokens that a
// pull-request triggered run hands to steps running the pull request's code.
func untrustedRun(r runAt, pipelines map[string]pipelineAt, tasks map[string]*v1.TaskSpec) []Finding {
	var out []Finding
	rep := reporter{u: r.u, out: &out}
	d := r.u.doc
	if sa := r.pr.Spec.TaskRunTemplate.ServiceAccountName; sa != "" {
		pt := r.pr.Spec.TaskRunTemplate.PodTemplate
		if pt == nil || pt.AutomountServiceAccountToken == nil || *pt.AutomountServiceAccountToken {
			rep.add("secrets-in-untrusted-run", d.at(join(r.at, "spec", "taskRunTemplate", "serviceAccountName")...),
				"pull-request run (%s) mounts service account %s's token into every step, including those running the pull request's code; set podTemplate.automountServiceAccountToken: false", r.reason, sa)
		}
	}
	var p pipelineAt
	switch {
	case r.pr.Spec.PipelineSpec != nil:
		p = pipelineAt{r.u, r.pr.Name, r.pr.Spec.PipelineSpec, join(r.at, "spec", "pipelineSpec")}
	case r.pr.Spec.PipelineRef != nil && pipelines[r.pr.Spec.PipelineRef.Name].spec != nil:
		p = pipelines[r.pr.Spec.PipelineRef.Name]
	default:
		return out // the pipeline is not in the linted set
	}
	secretWS := map[string]int{} // pipeline workspace -> index in the run
	secretName := map[string]string{}
	for i, w := range r.pr.Spec.Workspaces {
		if name := secretOf(w); name != "" {
			secretWS[w.Name], secretName[w.Name] = i, name
		}
	}
	all := append(append([]v1.PipelineTask{}, p.spec.Tasks...), p.spec.Finally...)
	// Workspaces a cloning task writes hold the pull request's code.
	source := map[string]bool{}
	cloners := map[string]bool{}
	for _, pt := range all {
		if isCloner(pt) {
			cloners[pt.Name] = true
			for _, w := range pt.Workspaces {
				source[w.Workspace] = true
			}
		}
	}
	for _, w := range r.pr.Spec.Workspaces {
		if secretOf(w) != "" {
			delete(source, w.Name) // a Secret is not where the clone goes
		}
	}
	for _, pt := range all {
		if cloners[pt.Name] || !runsSource(pt, source) {
			continue
		}
		ptAt := locateTask(p, pt.Name)
		for j, w := range pt.Workspaces {
			i, ok := secretWS[w.Workspace]
			if !ok {
				continue
			}
			at := join(r.at, "spec", "workspaces", i)
			if p.u == r.u {
				at = join(ptAt, "workspaces", j)
			}
			rep.add("secrets-in-untrusted-run", d.at(at...),
				"pull-request run (%s) mounts Secret %s (workspace %q) into pipeline task %q, which runs the pull request's code", r.reason, secretName[w.Workspace], w.Workspace, pt.Name)
		}
		ts := (*v1.TaskSpec)(nil)
		tsAt := []any(nil)
		if pt.TaskSpec != nil {
			ts, tsAt = &pt.TaskSpec.TaskSpec, join(ptAt, "taskSpec")
		} else {
			ts = tasks[tekton.TaskName(pt)]
		}
		if ts == nil {
			continue
		}
		untrustedSecretRefs(ts, func(stepAt []any, what string) {
			at := join(r.at, "spec")
			if p.u == r.u {
				at = ptAt
				if tsAt != nil {
					at = join(tsAt, stepAt...)
				}
			}
			rep.add("secrets-in-untrusted-run", d.at(at...),
				"pull-request run (%s): %s in pipeline task %q, which runs the pull request's code", r.reason, what, pt.Name)
		})
		for i, s := range ts.Steps {
			for k, e := range s.Env {
				if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
					continue
				}
				at := join(r.at, "spec")
				if p.u == r.u {
					at = ptAt
					if tsAt != nil {
						at = join(tsAt, "steps", i, "env", k)
					}
				}
				rep.add("secrets-in-untrusted-run", d.at(at...),
					"pull-request run (%s): step %q of pipeline task %q, which runs the pull request's code, reads Secret %s into $%s", r.reason, s.Name, pt.Name, e.ValueFrom.SecretKeyRef.Name, e.Name)
			}
		}
	}
	return out
}

func secretOf(w v1.WorkspaceBinding) string {
	if w.Secret != nil {
		return w.Secret.SecretName
	}
	if w.Projected != nil {
		for _, s := range w.Projected.Sources {
			if s.Secret != nil {
				return s.Secret.Name
			}
			if s.ServiceAccountToken != nil {
				return "service-account-token"
			}
		}
	}
	return ""
}

func isCloner(pt v1.PipelineTask) bool {
	return strings.Contains(tekton.TaskName(pt), "clone") || strings.Contains(pt.Name, "clone") || strings.Contains(pt.Name, "fetch")
}

// runsSource is true when the task binds a workspace holding the checked-out
// code, or when no task is known to clone (then every task is suspect).
func runsSource(pt v1.PipelineTask, source map[string]bool) bool {
	if len(source) == 0 {
		return true
	}
	for _, w := range pt.Workspaces {
		if source[w.Workspace] {
			return true
		}
	}
	b, _ := json.Marshal(pt.Params)
	return strings.Contains(string(b), "$(workspaces.")
}
