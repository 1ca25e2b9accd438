package generator

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pipewright/pipewright/generator/catalog"
	"github.com/pipewright/pipewright/generator/config"
	"github.com/pipewright/pipewright/generator/pipeline"
	"github.com/pipewright/pipewright/generator/render"
	"github.com/pipewright/pipewright/generator/trigger"
	"github.com/pipewright/pipewright/pkg/keys"
	"github.com/pipewright/pipewright/pkg/tekton"
	"github.com/tektoncd/pipeline/pkg/apis/pipeline/pod"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	triggersv1 "github.com/tektoncd/triggers/pkg/apis/triggers/v1beta1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// A monorepo's objects are shared where its services allow: services of one
// shape (the same pipelines once their own values are params: pack,
// toolchain, tweaks, builder, strategy) run one pull-request and one release
// pipeline, and one TriggerTemplate of each; all run with one pair of
// service accounts, under one EventListener. What is a service's own is
// small: its Triggers (its path filters, its values as bindings) and its
// manual run templates. A thousand services so make a few dozen shared
// objects and three files each, not a project each (a thousand
// EventListeners, which also needs a thousand webhooks where GitHub allows
// twenty per repository).
const (
	// ServiceLabel names the service a Trigger or run is for.
	ServiceLabel = keys.Service
	// ListenerLabel marks the Triggers the monorepo's EventListener
	// selects (Triggers' labelSelector).
	ListenerLabel = keys.Prefix + "listener"
	// serviceParam is the TriggerTemplate param holding the service's name.
	serviceParam = "service"
)

// serviceParams are the pipeline params whose values are each service's
// own: shared pipelines declare them without a default, and each
// service's runs and Triggers give them.
var serviceParams = []string{keys.ParamContext, keys.ParamImageContext, keys.ParamDockerfile, keys.ParamImage, keys.ParamManifests,
	keys.ParamDeployment, keys.ParamContainer, keys.ParamStatusContext}

var serviceParamDocs = map[string]string{
	keys.ParamContext:       "The service's folder in the repository.",
	keys.ParamImageContext:  "The folder the service's image builds from, relative to the repository (its imageContext).",
	keys.ParamDockerfile:    "The service's Dockerfile, relative to the folder its image builds from.",
	keys.ParamImage:         "The service's image repository, without tag.",
	keys.ParamManifests:     "The service's Kubernetes manifests folder.",
	keys.ParamDeployment:    "The service's Deployment.",
	keys.ParamContainer:     "The container of the service's Deployment to update.",
	keys.ParamStatusContext: "The service's commit status context.",
	serviceParam:            "The service (label " + ServiceLabel + ").",
}

var kinds = []pipeline.Kind{pipeline.PullRequest, pipeline.Release}

// shape is one set of shared pipelines and the services that run them.
type shape struct {
	name      string
	pipelines map[pipeline.Kind]*v1.Pipeline
	p         *project // the first service's, for the TriggerTemplates
	services  []string
}

// given lists the service params a shape's pipeline of kind declares.
func (s *shape) given(kind pipeline.Kind) []string {
	var out []string
	for _, ps := range s.pipelines[kind].Spec.Params {
		if slices.Contains(serviceParams, ps.Name) {
			out = append(out, ps.Name)
		}
	}
	return out
}

// monorepo generates a config's services: list: the shared Tasks,
// pipelines per shape, service accounts and triggers at the top, and per
// service its Triggers (triggers/services/<name>.yaml) and manual run
// templates (runs/<name>-<kind>.yaml); a kustomization and a README over
// them all.
func monorepo(cfg *config.Loaded, images catalog.ImageSet) (render.Tree, error) {
	mono := cfg.Config
	tree := render.Tree{}
	var resources []string
	add := func(file string, obj any, inKustomization bool) error {
		y, err := tekton.Marshal(obj)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		if inKustomization {
			resources = append(resources, file)
		}
		return tree.Add(file, y)
	}

	// Each service's config, checks and shape key are its own: made in
	// parallel, then shaped and named in file order.
	type service struct {
		cfg   *config.Loaded
		pr    *prepared
		key   string
		shape *shape
		err   error
	}
	services := make([]service, len(cfg.Services))
	parallel(len(services), func(i int) {
		s := &services[i]
		s.cfg = cfg.Service(i)
		// One push credential for the repository's images, not one per
		// service.
		s.cfg.Image.PushSecret = mono.Image.PushSecret
		if s.pr, s.err = prepare(s.cfg, images, true); s.err == nil {
			s.pr.p.owner = mono.App.Name
			s.key, s.err = shapeKey(s.pr.p)
		}
	})
	var shapes []*shape
	byKey := map[string]*shape{}
	tasks := map[string]*v1.Task{}
	var taskNames []string
	taskKeys := map[string]bool{}
	for i := range services {
		s := &services[i]
		if s.err != nil {
			return nil, fmt.Errorf("services[%d] (%s): %w", i, s.cfg.App.Name, s.err)
		}
		p := s.pr.p
		sh := byKey[s.key]
		if sh == nil {
			var err error
			if sh, err = newShape(p, mono.App.Name, shapes); err != nil {
				return nil, fmt.Errorf("services[%d] (%s): %w", i, s.cfg.App.Name, err)
			}
			byKey[s.key] = sh
			shapes = append(shapes, sh)
		}
		s.shape = sh
		sh.services = append(sh.services, s.cfg.App.Name)
		p.pipelines = sh.name
		// The Tasks are shared too (written with tasks.from: embedded,
		// known to the wiring check either way). A Task is its catalog
		// name and image set; each distinct one is made once.
		for _, name := range p.usedTasks() {
			k, err := json.Marshal([]any{name, p.taskName(name), s.pr.set})
			if err != nil {
				return nil, err
			}
			if taskKeys[string(k)] {
				continue
			}
			taskKeys[string(k)] = true
			t, err := p.task(name, s.pr.set)
			if err != nil {
				return nil, err
			}
			if prev, ok := tasks[t.Name]; !ok {
				tasks[t.Name] = t
				taskNames = append(taskNames, t.Name)
			} else if !reflect.DeepEqual(prev.Spec, t.Spec) {
				return nil, fmt.Errorf("services[%d] (%s): Task %s differs from another service's Task of that name (a pipewright bug)", i, s.cfg.App.Name, t.Name)
			}
		}
	}
	slices.Sort(taskNames)
	var known []*v1.Task
	for _, n := range taskNames {
		known = append(known, tasks[n])
		if mono.Tasks.From == "embedded" {
			if err := add("tasks/"+n+".yaml", tasks[n], true); err != nil {
				return nil, err
			}
		}
	}

	// The shared objects: service accounts, deploy rights, bindings, the
	// EventListener and its RBAC, the ChatOps interceptor.
	top, err := newProject(mono, shapes[0].p.pack)
	if err != nil {
		return nil, err
	}
	for _, o := range top.support() {
		if err := add(o.file, o.obj, true); err != nil {
			return nil, err
		}
	}
	shared, err := trigger.Build(mono, map[pipeline.Kind]*v1.PipelineRun{
		pipeline.PullRequest: shapes[0].p.run(pipeline.PullRequest, trigger.RunParams(pipeline.PullRequest)),
		pipeline.Release:     shapes[0].p.run(pipeline.Release, trigger.RunParams(pipeline.Release)),
	})
	if err != nil {
		return nil, err
	}
	for _, o := range shared {
		switch obj := o.Obj.(type) {
		case *triggersv1.TriggerTemplate:
			continue // the shapes have theirs
		case *triggersv1.EventListener:
			obj.Spec.Triggers = nil
			obj.Spec.LabelSelector = &metav1.LabelSelector{MatchLabels: map[string]string{ListenerLabel: mono.App.Name}}
		}
		if err := add(o.File, o.Obj, true); err != nil {
			return nil, err
		}
	}

	for _, sh := range shapes {
		for _, kind := range kinds {
			if err := add("pipelines/"+sh.pipelines[kind].Name+".yaml", sh.pipelines[kind], true); err != nil {
				return nil, err
			}
		}
		tts, err := shapeTemplates(sh, mono)
		if err != nil {
			return nil, err
		}
		for _, tt := range tts {
			if err := add("triggers/template-"+tt.Name+".yaml", tt, true); err != nil {
				return nil, err
			}
		}
	}

	// Each service's files, rendered in parallel.
	type files struct {
		runs     [2][]byte
		triggers []byte
		err      error
	}
	out := make([]files, len(services))
	parallel(len(services), func(i int) {
		s, f := &services[i], &out[i]
		name := s.cfg.App.Name
		values := serviceValues(s.pr.p)
		for j, kind := range kinds {
			params := map[string]string{keys.ParamRevision: mono.GitHub.DefaultBranch}
			for _, k := range s.shape.given(kind) {
				params[k] = values[k]
			}
			run := s.pr.p.run(kind, params)
			run.GenerateName = name + "-" + string(kind) + "-"
			run.Labels[ServiceLabel] = name
			if f.runs[j], f.err = tekton.Marshal(run); f.err != nil {
				f.err = fmt.Errorf("runs/%s-%s.yaml: %w", name, kind, f.err)
				return
			}
		}
		trs, err := serviceTriggers(s.cfg.Config, mono, s.shape, values)
		if err != nil {
			f.err = fmt.Errorf("service %s: %w", name, err)
			return
		}
		if f.triggers, f.err = tekton.MarshalAll(trs...); f.err != nil {
			f.err = fmt.Errorf("triggers/services/%s.yaml: %w", name, f.err)
		}
	})
	var rows strings.Builder
	for i, s := range services {
		if out[i].err != nil {
			return nil, out[i].err
		}
		name := s.cfg.App.Name
		for j, kind := range kinds {
			if err := tree.Add("runs/"+name+"-"+string(kind)+".yaml", out[i].runs[j]); err != nil {
				return nil, err
			}
		}
		file := "triggers/services/" + name + ".yaml"
		resources = append(resources, file)
		if err := tree.Add(file, out[i].triggers); err != nil {
			return nil, err
		}
		c := s.cfg.Config
		version := cmp.Or(c.Build.Version, "default")
		fmt.Fprintf(&rows, "| `%s` | `%s` | %s %s | `%s` | `%s` | `%s` | `%s` | `%s` |\n", name, c.Build.Context, c.Build.Pack, version,
			c.Image.Repository, c.DockerfilePath(), path.Join(c.Build.Context, c.Deploy.Manifests),
			strings.Join(c.Paths, "`, `"), s.shape.name)
	}
	if err := kustomize(tree, mono, resources); err != nil {
		return nil, err
	}
	if err := tree.Add("README.md", monorepoReadme(cfg, top, shapes, rows.String())); err != nil {
		return nil, err
	}
	if _, err := tekton.All(tree, known...); err != nil {
		return nil, fmt.Errorf("generated output fails validation (a pipewright bug): %w", err)
	}
	return tree, nil
}

// serviceValues are a service's values of the serviceParams.
func serviceValues(p *project) map[string]string {
	d := p.spec(pipeline.Release).Defaults
	out := map[string]string{}
	for _, k := range serviceParams {
		out[k] = d[k]
	}
	return out
}

// shapeKey is what a service's pipelines are built from: their specs
// without the service's values, the Task names and where Tasks come from.
// Services with one key have one shape (building the pipelines per
// service would cost more than the rest of it).
func shapeKey(p *project) (string, error) {
	type keySpec struct {
		pipeline.Spec
		TaskRef struct{} // hides the func (json cannot encode one); p.rename and Tasks say it
	}
	var specs []keySpec
	for _, kind := range kinds {
		spec := p.spec(kind)
		spec.Name, spec.Defaults = "", maps.Clone(spec.Defaults)
		for _, k := range serviceParams {
			// The value is the service's own; whether it is given at
			// all (image-context) changes the pipeline, so it stays.
			if _, ok := spec.Defaults[k]; ok {
				spec.Defaults[k] = ""
			}
		}
		specs = append(specs, keySpec{Spec: spec})
	}
	k, err := json.Marshal([]any{specs, p.usedTasks(), p.rename, p.c.Tasks})
	return string(k), err
}

// newShape makes the shape of a service's project: its pipelines with the
// service's values as params without defaults, named
// <monorepo>-<pack>[-<version>], then -2, -3… when one of shapes has that
// name.
func newShape(p *project, mono string, shapes []*shape) (*shape, error) {
	pls := map[pipeline.Kind]*v1.Pipeline{}
	for _, kind := range kinds {
		spec := p.spec(kind)
		spec.Name = string(kind)
		if spec.CheckRuns {
			// Services share the pipeline: each service's check run is
			// its own (status context and kind), not the pipeline's.
			spec.CheckRunName = "$(params." + keys.ParamStatusContext + ")/" + string(kind)
		}
		pl, err := pipeline.Build(kind, spec)
		if err != nil {
			return nil, err
		}
		for i := range pl.Spec.Params {
			if slices.Contains(serviceParams, pl.Spec.Params[i].Name) {
				pl.Spec.Params[i].Default = nil // each run says
			}
		}
		pls[kind] = pl
	}
	base := mono + "-" + p.c.Build.Pack
	if v := p.c.Build.Version; v != "" {
		base += "-" + strings.NewReplacer(".", "-", "_", "-").Replace(strings.ToLower(v))
	}
	name := base
	for n := 2; slices.ContainsFunc(shapes, func(sh *shape) bool { return sh.name == name }); n++ {
		name = fmt.Sprintf("%s-%d", base, n)
	}
	for _, kind := range kinds {
		pls[kind].Name = name + "-" + string(kind)
	}
	return &shape{name: name, pipelines: pls, p: p}, nil
}

// parallel runs f(0) … f(n-1) on as many goroutines as Go runs at once.
func parallel(n int, f func(i int)) {
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				f(i)
			}
		})
	}
	wg.Wait()
}

// shapeTemplates are a shape's TriggerTemplates: its runs, with the
// service's values (and name, as a label) from params each service's
// Trigger binds.
func shapeTemplates(sh *shape, mono *config.Config) ([]*triggersv1.TriggerTemplate, error) {
	runs := map[pipeline.Kind]*v1.PipelineRun{}
	for _, kind := range kinds {
		params := trigger.RunParams(kind)
		for _, k := range sh.given(kind) {
			params[k] = "$(tt.params." + k + ")"
		}
		run := sh.p.run(kind, params)
		run.GenerateName = sh.name + "-" + string(kind) + "-"
		run.Labels[ServiceLabel] = "$(tt.params." + serviceParam + ")"
		runs[kind] = run
	}
	c := *mono
	c.App.Name = sh.name
	objs, err := trigger.Build(&c, runs)
	if err != nil {
		return nil, fmt.Errorf("shape %s: %w", sh.name, err)
	}
	var out []*triggersv1.TriggerTemplate
	for _, o := range objs {
		tt, ok := o.Obj.(*triggersv1.TriggerTemplate)
		if !ok {
			continue
		}
		kind := pipeline.Kind(strings.TrimPrefix(tt.Name, sh.name+"-"))
		tt.Labels["app.kubernetes.io/part-of"] = mono.App.Name
		for _, k := range append(sh.given(kind), serviceParam) {
			tt.Spec.Params = append(tt.Spec.Params, triggersv1.ParamSpec{Name: k, Description: serviceParamDocs[k]})
		}
		out = append(out, tt)
	}
	return out, nil
}

// serviceTriggers are a service's Triggers, which the monorepo's
// EventListener selects: the triggers its own project would have (its path
// filters), binding the shared bindings and its values, to its shape's
// templates.
func serviceTriggers(c, mono *config.Config, sh *shape, values map[string]string) ([]any, error) {
	// Only the listener is kept (the templates are the shape's), so the
	// runs are the least Build takes: a pull-request run mounts no token.
	noToken := &v1.PipelineRun{Spec: v1.PipelineRunSpec{TaskRunTemplate: v1.PipelineTaskRunTemplate{
		PodTemplate: &pod.Template{AutomountServiceAccountToken: ptr.To(false)}}}}
	objs, err := trigger.Build(c, map[pipeline.Kind]*v1.PipelineRun{pipeline.PullRequest: noToken, pipeline.Release: {}})
	if err != nil {
		return nil, err
	}
	var el *triggersv1.EventListener
	for _, o := range objs {
		if l, ok := o.Obj.(*triggersv1.EventListener); ok {
			el = l
		}
	}
	if el == nil {
		return nil, fmt.Errorf("no EventListener (a pipewright bug)")
	}
	own, shared := trigger.InterceptorName(c), trigger.InterceptorName(mono)
	var out []any
	for _, tr := range el.Spec.Triggers {
		if tr.Template == nil || tr.Template.Ref == nil {
			return nil, fmt.Errorf("trigger %s has no template reference (a pipewright bug)", tr.Name)
		}
		kind := pipeline.Kind(strings.TrimPrefix(*tr.Template.Ref, c.App.Name+"-"))
		if !slices.Contains(kinds, kind) {
			return nil, fmt.Errorf("trigger %s: template %s is no pipeline kind's (a pipewright bug)", tr.Name, *tr.Template.Ref)
		}
		var bindings []*triggersv1.TriggerSpecBinding
		for _, b := range tr.Bindings {
			b := *b
			b.Ref = mono.App.Name + strings.TrimPrefix(b.Ref, c.App.Name)
			bindings = append(bindings, &b)
		}
		for _, k := range append(sh.given(kind), serviceParam) {
			v := values[k]
			if k == serviceParam {
				v = c.App.Name
			}
			bindings = append(bindings, &triggersv1.TriggerSpecBinding{Name: k, Value: &v})
		}
		for _, ic := range tr.Interceptors {
			if ic.Ref.Name == own {
				ic.Ref.Name = shared // the monorepo's one interceptor
				// It looks for replays and runs to cancel among this
				// service's runs only: one delivery starts one per service.
				raw, err := json.Marshal(c.App.Name)
				if err != nil {
					return nil, err
				}
				ic.Params = append(ic.Params, triggersv1.InterceptorParams{Name: "service", Value: apiextensionsv1.JSON{Raw: raw}})
			}
		}
		tmpl := sh.name + "-" + string(kind)
		out = append(out, &triggersv1.Trigger{
			TypeMeta: metav1.TypeMeta{APIVersion: "triggers.tekton.dev/v1beta1", Kind: "Trigger"},
			ObjectMeta: metav1.ObjectMeta{Name: c.App.Name + "-" + tr.Name, Labels: map[string]string{
				"app.kubernetes.io/managed-by": "pipewright", "app.kubernetes.io/part-of": mono.App.Name,
				ListenerLabel: mono.App.Name, ServiceLabel: c.App.Name,
			}},
			Spec: triggersv1.TriggerSpec{
				Interceptors: tr.Interceptors,
				Bindings:     bindings,
				Template:     triggersv1.TriggerSpecTemplate{Ref: &tmpl},
			},
		})
	}
	return out, nil
}

// monorepoReadme describes the services, their shapes' pipelines and how to
// install them.
func monorepoReadme(cfg *config.Loaded, top *project, shapes []*shape, rows string) []byte {
	c := cfg.Config
	var b strings.Builder
	fmt.Fprintf(&b, "# CI/CD for the %s monorepo\n\n<!-- Generated by pipewright; do not edit. Change pipewright.yaml and run `pipewright generate`. -->\n\n", c.App.Name)
	fmt.Fprintf(&b, "%d services in %d shapes. Services of one shape (pack, toolchain, tasks) run the same pull-request and release pipelines, with their own values (context, Dockerfile, image, manifests, Deployment, status context) as params: each service's Triggers (`triggers/services/<service>.yaml`) bind them, and its pull requests and merges run only when a file matching its paths changes. Deploy applies only the service's manifests. One EventListener, `%s-listener`, selects every service's Triggers (label `%s: %s`): one GitHub webhook for the repository. `kubectl apply -k .` installs them all; `kubectl create -f runs/<service>-release.yaml` runs one by hand.\n\n",
		len(c.Services), len(shapes), c.App.Name, ListenerLabel, c.App.Name)
	b.WriteString("| Service | Context | Toolchain | Image | Dockerfile | Manifests | Paths | Shape |\n|---|---|---|---|---|---|---|---|\n")
	b.WriteString(rows)
	ns := c.App.Namespace
	fmt.Fprintf(&b, "\n## Secrets\n\nIn namespace `%s`, before the first run:\n\n", ns)
	fmt.Fprintf(&b, "- `%s` (key `secret`): the webhook secret the EventListener checks `X-Hub-Signature-256` with;\n", c.GitHub.WebhookSecret)
	fmt.Fprintf(&b, "- `%s` (key `token`): the GitHub token for commit statuses and the changed-files lookups of the path filters;\n", c.GitHub.TokenSecret)
	fmt.Fprintf(&b, "- `%s`: registry push credentials for every service's image, mounted into release runs' image build only.\n\n", c.Image.PushSecret)
	fmt.Fprintf(&b, "## Install\n\n```sh\nkubectl apply -k .\npipewright github webhook --repo %s --url https://<public URL of Service el-%s-listener, port 8080>/ --secret-file webhook-secret\n```\n\n", c.GitHub.Repository, c.App.Name)
	fmt.Fprintf(&b, "Pull-request runs use service account `%s` (no rights, no token); release runs `%s`, bound to Role `%s-deployer` in namespace `%s`.\n\n",
		top.serviceAccount(pipeline.PullRequest), top.serviceAccount(pipeline.Release), c.App.Name, c.Deploy.Namespace)
	b.WriteString("## Shapes\n\n")
	for _, sh := range shapes {
		fmt.Fprintf(&b, "### %s\n\n%s pack; services: %s.\n\n", sh.name, sh.p.pack.Name, strings.Join(sh.services, ", "))
		for _, kind := range kinds {
			b.WriteString(pipelineGraph(sh.pipelines[kind]))
		}
	}
	return []byte(b.String())
}
