package lint

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/pipewright/pipewright/pkg/keys"
	"github.com/tektoncd/pipeline/pkg/apis/pipeline/pod"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	triggers "github.com/tektoncd/triggers/pkg/apis/triggers/v1beta1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// RootStepsAnnotation on a Task lists steps that run as root on purpose, one
// "step: reason" per line (or separated by ";"). Those steps are exempt from
// run-as-root, missing-run-as-non-root and added-capabilities; the reason is
// required so the exception is reviewed like code.
const RootStepsAnnotation = keys.RootSteps

// rootExempt are the rules a root-steps entry waives.
var rootExempt = map[string]bool{"run-as-root": true, "missing-run-as-non-root": true, "added-capabilities": true}

// objectRules runs the rules that need one object only.
func objectRules(r reporter) {
	switch o := r.u.obj.Obj.(type) {
	case *v1.Task:
		taskRules(r, &o.Spec, o.ObjectMeta, []any{"spec"}, nil)
	case *v1.TaskRun:
		taskRunRules(r, o, nil)
	case *v1.Pipeline:
		pipelineRules(r, &o.Spec, o.ObjectMeta, []any{"spec"}, false, nil)
	case *v1.PipelineRun:
		pipelineRunRules(r, o, nil)
	case *triggers.TriggerTemplate:
		for i, rt := range o.Spec.ResourceTemplates {
			at := []any{"spec", "resourcetemplates", i}
			switch run := decodeTemplate(rt.Raw).(type) {
			case *v1.PipelineRun:
				pipelineRunRules(r, run, at)
			case *v1.TaskRun:
				taskRunRules(r, run, at)
			}
		}
	case *triggers.EventListener:
		for i, t := range o.Spec.Triggers {
			if t.TriggerRef != "" {
				continue // checked where the Trigger is defined
			}
			triggerRules(r, t.Name, t.Interceptors, []any{"spec", "triggers", i})
		}
	case *triggers.Trigger:
		triggerRules(r, o.Name, o.Spec.Interceptors, []any{"spec"})
	}
}

func join(prefix []any, more ...any) []any {
	return append(append([]any{}, prefix...), more...)
}

func pipelineRunRules(r reporter, pr *v1.PipelineRun, at []any) {
	if pr.Spec.Timeouts == nil || pr.Spec.Timeouts.Pipeline == nil {
		r.add("missing-timeout", r.u.doc.key(join(at, "spec", "timeouts")...),
			"PipelineRun %s sets no spec.timeouts.pipeline; it runs until the cluster default stops it", pr.Name+pr.GenerateName)
	} else if pr.Spec.Timeouts.Pipeline.Duration == 0 {
		r.add("missing-timeout", r.u.doc.key(join(at, "spec", "timeouts", "pipeline")...),
			"PipelineRun %s sets timeouts.pipeline to 0, which means no timeout", pr.Name+pr.GenerateName)
	}
	podRules(r, pr.Spec.TaskRunTemplate.PodTemplate, join(at, "spec", "taskRunTemplate", "podTemplate"))
	if ref := pr.Spec.PipelineRef; ref != nil {
		refRules(r, string(ref.Resolver), ref.Params, "", join(at, "spec", "pipelineRef"))
	}
	if pr.Spec.PipelineSpec != nil {
		pipelineRules(r, pr.Spec.PipelineSpec, pr.ObjectMeta, join(at, "spec", "pipelineSpec"), true,
			constants(pr.Spec.Params, pr.Spec.PipelineSpec.Params, nil))
	}
}

func taskRunRules(r reporter, tr *v1.TaskRun, at []any) {
	podRules(r, tr.Spec.PodTemplate, join(at, "spec", "podTemplate"))
	if ref := tr.Spec.TaskRef; ref != nil {
		refRules(r, string(ref.Resolver), ref.Params, "", join(at, "spec", "taskRef"))
	}
	if tr.Spec.TaskSpec != nil {
		taskRules(r, tr.Spec.TaskSpec, tr.ObjectMeta, join(at, "spec", "taskSpec"), constants(tr.Spec.Params, tr.Spec.TaskSpec.Params, nil))
	}
}

func podRules(r reporter, pt *pod.PodTemplate, at []any) {
	if pt == nil {
		return
	}
	if sc := pt.SecurityContext; sc != nil && sc.RunAsUser != nil && *sc.RunAsUser == 0 {
		r.add("run-as-root", r.u.doc.key(join(at, "securityContext", "runAsUser")...), "podTemplate runs every step as root (runAsUser: 0)")
	}
	for i, v := range pt.Volumes {
		if v.HostPath != nil {
			r.add("host-path", r.u.doc.key(join(at, "volumes", i, "hostPath")...), "podTemplate volume %q mounts the node's %s", v.Name, v.HostPath.Path)
		}
	}
}

// pipelineRules checks one pipeline spec; inRun is true for a PipelineRun's
// embedded spec, whose timeout is the run's.
// consts are the pipeline params whose value is fixed text (see constants).
func pipelineRules(r reporter, ps *v1.PipelineSpec, meta metav1.ObjectMeta, at []any, inRun bool, consts map[string]bool) {
	names := map[string]bool{}
	for _, pt := range ps.Tasks {
		names[pt.Name] = true
	}
	for _, list := range []struct {
		key   string
		tasks []v1.PipelineTask
	}{{"tasks", ps.Tasks}, {"finally", ps.Finally}} {
		for i, pt := range list.tasks {
			ptAt := join(at, list.key, i)
			if ref := pt.TaskRef; ref != nil {
				refRules(r, string(ref.Resolver), ref.Params, "", join(ptAt, "taskRef"))
			}
			if ref := pt.PipelineRef; ref != nil {
				refRules(r, string(ref.Resolver), ref.Params, "", join(ptAt, "pipelineRef"))
			}
			if !inRun && pt.Timeout == nil {
				r.add("missing-timeout", r.u.doc.at(ptAt...), "pipeline task %q has no timeout", pt.Name)
			}
			for j, ra := range pt.RunAfter {
				if !names[ra] {
					r.add("run-after-missing", r.u.doc.at(join(ptAt, "runAfter", j)...),
						"pipeline task %q runs after %q, which is not a task of this pipeline (tasks: %s)", pt.Name, ra, taskNames(names))
				}
			}
			if pt.TaskSpec != nil {
				m := meta
				if len(pt.TaskSpec.Metadata.Annotations) > 0 {
					m = metav1.ObjectMeta{Annotations: pt.TaskSpec.Metadata.Annotations}
				}
				taskRules(r, &pt.TaskSpec.TaskSpec, m, join(ptAt, "taskSpec"), constants(pt.Params, pt.TaskSpec.Params, consts))
			}
		}
	}
	refs := paramRefs(ps, func(c *v1.PipelineSpec) { c.Params = nil })
	for i, p := range ps.Params {
		if !refs[p.Name] {
			r.add("unused-param", r.u.doc.at(join(at, "params", i)...), "pipeline param %q is never used", p.Name)
		}
	}
}

var (
	paramRef  = regexp.MustCompile(`\$\((?:inputs\.)?params(?:\.([A-Za-z0-9_-]+)|\[\\?['"]([^'"\\]+)\\?['"]\])`)
	resultRef = regexp.MustCompile(`\$\(results(?:\.([A-Za-z0-9_-]+)|\[\\?['"]([^'"\\]+)\\?['"]\])\.path\)`)
	// untrusted are the variables whose text comes from outside the Task:
	// params (from the pipeline, often from the event), other tasks'
	// results, and Triggers' event body, headers and template params.
	untrusted  = regexp.MustCompile(`\$\((?:(?:inputs\.)?params[.\[]|tasks\.[^.()]+\.results\.|body[.\[)]|header[.\[)]|extensions[.\[]|tt\.params\.)[^)]*\)`)
	resultFile = regexp.MustCompile(`/tekton/results/([A-Za-z0-9_-]*)`)
	imageParam = regexp.MustCompile(`^\$\(params\.([A-Za-z0-9_-]+)\)$`)
	shells     = map[string]bool{"sh": true, "bash": true, "ash": true, "dash": true, "zsh": true, "ksh": true}
	shellFlag  = regexp.MustCompile(`^-[a-z]*c[a-z]*$`)
)

// paramRefs is the set of param names referenced anywhere in a copy of v
// with its declarations removed.
func paramRefs[T any](v *T, clear func(*T)) map[string]bool {
	c := *v
	clear(&c)
	b, _ := json.Marshal(&c)
	return matchNames(paramRef, b)
}

func matchNames(re *regexp.Regexp, b []byte) map[string]bool {
	out := map[string]bool{}
	for _, m := range re.FindAllSubmatch(b, -1) {
		out[string(m[1])+string(m[2])] = true
	}
	return out
}

// container is what steps and sidecars share for these rules.
type container struct {
	kind, name  string
	image       string
	command     []string
	args        []string
	script      string
	sc          *corev1.SecurityContext
	requests    corev1.ResourceList
	env         []corev1.EnvVar
	at          []any
	isStep      bool
	rootExempts bool
	consts      map[string]bool // params with fixed values, not injectable
}

// consts are the params whose value is fixed text, which injection does not
// report (nil for a Task or Pipeline of its own: its callers choose).
func taskRules(r reporter, ts *v1.TaskSpec, meta metav1.ObjectMeta, at []any, consts map[string]bool) {
	exempt := rootSteps(r, meta)
	if len(at) == 1 { // a Task's own annotation must name its steps
		for name := range exempt {
			if !slices.ContainsFunc(ts.Steps, func(s v1.Step) bool { return s.Name == name }) {
				r.add("bad-ignore", r.u.doc.key("metadata", "annotations", RootStepsAnnotation),
					"%s names step %q, which this Task does not have", RootStepsAnnotation, name)
			}
		}
	}
	var cs []container
	for i, s := range ts.Steps {
		if s.Ref != nil {
			refRules(r, string(s.Ref.Resolver), s.Ref.Params, "", join(at, "steps", i, "ref"))
		}
		cs = append(cs, container{kind: "step", name: s.Name, image: s.Image, command: s.Command, args: s.Args, script: s.Script,
			sc: s.SecurityContext, requests: s.ComputeResources.Requests, env: s.Env, at: join(at, "steps", i), isStep: s.Ref == nil})
	}
	for i, s := range ts.Sidecars {
		cs = append(cs, container{kind: "sidecar", name: s.Name, image: s.Image, command: s.Command, args: s.Args, script: s.Script,
			sc: s.SecurityContext, at: join(at, "sidecars", i)})
	}
	var tmpl *corev1.SecurityContext
	var tmplRequests corev1.ResourceList
	if t := ts.StepTemplate; t != nil {
		tmpl, tmplRequests = t.SecurityContext, t.ComputeResources.Requests
		securityContextRules(r, "stepTemplate", t.SecurityContext, join(at, "stepTemplate"), false)
		if t.Image != "" {
			imageRules(r, ts, t.Image, "stepTemplate", join(at, "stepTemplate", "image"), at)
		}
	}
	for _, c := range cs {
		what := fmt.Sprintf("%s %q", c.kind, c.name)
		if c.image != "" {
			imageRules(r, ts, c.image, what, join(c.at, "image"), at)
		}
		c.consts = consts
		injectionRules(r, c, what)
		scriptRules(r, c, what)
		ex := exempt[c.name] && c.kind == "step"
		securityContextRules(r, what, c.sc, c.at, ex)
		if c.isStep && !ex && !nonRoot(c.sc, tmpl) && !isRoot(c.sc) && !isRoot(tmpl) {
			r.add("missing-run-as-non-root", r.u.doc.at(c.at...), "%s does not set securityContext.runAsNonRoot: true (nor a non-zero runAsUser), so it runs as the image's user, often root", what)
		}
		if c.isStep && len(c.requests) == 0 && len(tmplRequests) == 0 {
			r.add("missing-resources", r.u.doc.at(c.at...), "%s has no computeResources.requests", what)
		}
	}
	for i, v := range ts.Volumes {
		if v.HostPath != nil {
			r.add("host-path", r.u.doc.key(join(at, "volumes", i, "hostPath")...), "volume %q mounts the node's %s", v.Name, v.HostPath.Path)
		}
	}
	refs := paramRefs(ts, func(c *v1.TaskSpec) { c.Params = nil })
	for i, p := range ts.Params {
		if !refs[p.Name] {
			r.add("unused-param", r.u.doc.at(join(at, "params", i)...), "param %q is never used", p.Name)
		}
	}
	written, opaque := writtenResults(ts)
	for i, res := range ts.Results {
		if !opaque && res.Value == nil && !written[res.Name] {
			r.add("unwritten-result", r.u.doc.at(join(at, "results", i)...), "result %q is declared but no step writes $(results.%s.path)", res.Name, res.Name)
		}
	}
}

// writtenResults lists results some step refers to by path. opaque is true
// when a step runs a StepAction, whose writes are not visible here.
func writtenResults(ts *v1.TaskSpec) (map[string]bool, bool) {
	for _, s := range ts.Steps {
		if s.Ref != nil {
			return nil, true
		}
	}
	b, _ := json.Marshal(struct {
		A []v1.Step                 `json:"a"`
		B []v1.Sidecar              `json:"b"`
		C *v1.StepTemplate          `json:"c"`
		D []corev1.Volume           `json:"d"`
		E []v1.WorkspaceDeclaration `json:"e"`
	}{ts.Steps, ts.Sidecars, ts.StepTemplate, ts.Volumes, ts.Workspaces})
	w := matchNames(resultRef, b)
	// Some Tasks write the path Tekton mounts results at directly.
	for _, m := range resultFile.FindAllSubmatch(b, -1) {
		if len(m[1]) == 0 {
			// Copied into the folder under a computed name (cp out/*
			// /tekton/results/, /tekton/results/$NAME): can't tell which.
			return nil, true
		}
		w[string(m[1])] = true
	}
	return w, false
}

func nonRoot(sc, tmpl *corev1.SecurityContext) bool {
	for _, s := range []*corev1.SecurityContext{sc, tmpl} {
		if s == nil {
			continue
		}
		if s.RunAsNonRoot != nil {
			return *s.RunAsNonRoot
		}
		if s.RunAsUser != nil {
			return *s.RunAsUser != 0
		}
	}
	return false
}

func isRoot(sc *corev1.SecurityContext) bool {
	return sc != nil && sc.RunAsUser != nil && *sc.RunAsUser == 0
}

func securityContextRules(r reporter, what string, sc *corev1.SecurityContext, at []any, rootOK bool) {
	if sc == nil {
		return
	}
	scAt := join(at, "securityContext")
	if sc.Privileged != nil && *sc.Privileged {
		r.add("privileged", r.u.doc.key(join(scAt, "privileged")...), "%s runs privileged", what)
	}
	if rootOK {
		return
	}
	if isRoot(sc) {
		r.add("run-as-root", r.u.doc.key(join(scAt, "runAsUser")...), "%s runs as root (runAsUser: 0)", what)
	}
	if sc.Capabilities != nil && len(sc.Capabilities.Add) > 0 {
		var caps []string
		for _, c := range sc.Capabilities.Add {
			caps = append(caps, string(c))
		}
		r.add("added-capabilities", r.u.doc.key(join(scAt, "capabilities", "add")...), "%s adds capabilities %s", what, strings.Join(caps, ", "))
	}
}

// rootSteps reads RootStepsAnnotation; entries without a reason are
// reported and waive nothing.
func rootSteps(r reporter, meta metav1.ObjectMeta) map[string]bool {
	v, ok := meta.Annotations[RootStepsAnnotation]
	if !ok {
		return nil
	}
	p := r.u.doc.key("metadata", "annotations", RootStepsAnnotation)
	out := map[string]bool{}
	for _, e := range strings.FieldsFunc(v, func(c rune) bool { return c == '\n' || c == ';' }) {
		step, reason, _ := strings.Cut(e, ":")
		step, reason = strings.TrimSpace(step), strings.TrimSpace(reason)
		if step == "" {
			continue
		}
		if reason == "" {
			r.add("bad-ignore", p, "%s entry %q gives no reason, so it waives nothing", RootStepsAnnotation, step)
			continue
		}
		out[step] = true
	}
	return out
}

func imageRules(r reporter, ts *v1.TaskSpec, image, what string, at, specAt []any) {
	p := r.u.doc.at(at...)
	// An image chosen by a param is judged by the param's default.
	if m := imageParam.FindStringSubmatch(image); m != nil {
		for i, ps := range ts.Params {
			if ps.Name == m[1] && ps.Default != nil && ps.Default.StringVal != "" {
				image = ps.Default.StringVal
				p = r.u.doc.at(join(specAt, "params", i, "default")...)
				what += fmt.Sprintf(" (image from param %q's default)", ps.Name)
			}
		}
	}
	if strings.Contains(image, "$(") {
		return // chosen at run time; nothing to judge here
	}
	if strings.Contains(image, "@sha256:") {
		return
	}
	r.add("unpinned-image", p, "%s image %s is not pinned by digest", what, image)
	name := image
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	if i := strings.LastIndex(name, ":"); i < 0 || name[i+1:] == "latest" {
		r.add("latest-tag", p, "%s image %s uses the latest tag", what, image)
	}
}

func injectionRules(r reporter, c container, what string) {
	seen := map[string]bool{}
	report := func(field string, at []any, text, where string) {
		for _, v := range untrusted.FindAllString(text, -1) {
			if seen[field+v] {
				continue
			}
			if m := paramRef.FindStringSubmatch(v); m != nil && c.consts[m[1]+m[2]] && strings.HasPrefix(v, m[0]) {
				continue // the run fixes this param's text
			}
			seen[field+v] = true
			r.add("injection", r.u.doc.inScalar(v, at...), "%s is interpolated into %s of %s; pass it through env", v, where, what)
		}
	}
	report("script", join(c.at, "script"), c.script, "the script")
	argv := append(append([]string{}, c.command...), c.args...)
	scriptArg := codeArg(argv, len(c.command) == 0)
	// Only argv[0] and a shell's -c script are code; other arguments (a
	// shell's $0, $1, ...) are data, which is the safe way to pass them.
	for i, a := range argv {
		field, idx := "command", i
		if i >= len(c.command) {
			field, idx = "args", i-len(c.command)
		}
		switch {
		case i == scriptArg:
			report(field, join(c.at, field, idx), a, "the code an interpreter runs (-c/-e)")
		case i == 0 && field == "command":
			report(field, join(c.at, field, idx), a, "the command (it picks the program to run)")
		}
	}
}

// taskNames lists a pipeline's task names for messages; runAfter needs at
// least one task, so the list is never empty.
func taskNames(m map[string]bool) string {
	return strings.Join(slices.Sorted(maps.Keys(m)), ", ")
}
