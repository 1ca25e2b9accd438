package generator

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/pipewright/pipewright/generator/buildpack"
	"github.com/pipewright/pipewright/generator/catalog"
	"github.com/pipewright/pipewright/generator/config"
	"github.com/pipewright/pipewright/generator/pipeline"
	"github.com/pipewright/pipewright/generator/render"
	"github.com/pipewright/pipewright/generator/trigger"
	"github.com/pipewright/pipewright/pkg/canary"
	"github.com/pipewright/pipewright/pkg/images"
	"github.com/pipewright/pipewright/pkg/keys"
	"github.com/pipewright/pipewright/pkg/tekton"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	kusttypes "sigs.k8s.io/kustomize/api/types"
)

// Project generates a project's CI/CD set from its loaded config: the PR and
// release pipelines, the Tasks they use (per tasks.from), the pipeline
// service account (and with build.cache: shared the cache claims),
// PipelineRun templates, the triggers, a kustomization and a README. The
// tree has passed Tekton validation and the wiring check.
// Catalog images are replaced per the config's images:.
func Project(cfg *config.Loaded) (render.Tree, error) {
	return ProjectWithImages(cfg, nil)
}

// ProjectWithImages is Project with catalog images replaced by the config's
// images: and by set (from `generate --images FILE`), which wins for an
// image both name; see ImageOverrides.
func ProjectWithImages(cfg *config.Loaded, set catalog.ImageSet) (render.Tree, error) {
	// A lock that does not cover the table would write unpinned images.
	if _, err := images.Pinned(); err != nil {
		return nil, err
	}
	if len(cfg.Services) > 0 {
		return monorepo(cfg, set)
	}
	return projectTree(cfg, set, false)
}

// prepared is a project whose config passed the checks generation makes,
// with what it derives from it: the pack, the image set its Tasks run, and
// the project (its toolchain and Task names).
type prepared struct {
	pack buildpack.Pack
	set  catalog.ImageSet
	p    *project
}

// prepare checks cfg and derives what generating it needs. With variants
// (a monorepo's services, which share a namespace), a Task that runs a
// toolchain version other than the catalog's is named after it
// (node-test-22-22-2), so that services on different versions do not
// overwrite each other's Task.
func prepare(cfg *config.Loaded, flagSet catalog.ImageSet, variants bool) (*prepared, error) {
	c := cfg.Config
	if err := checkPlaceholders(cfg); err != nil {
		return nil, err
	}
	pack, err := buildpack.Get(c.Build.Pack)
	if err != nil {
		return nil, cfg.Errorf("build.pack", "supported: "+strings.Join(config.Packs, ", "), "%v", err)
	}
	pack = pack.WithCommands(c.Build.Commands)
	if err := checkTweaks(cfg, pack); err != nil {
		return nil, err
	}
	tc, toolchain, err := Toolchain(cfg, flagSet)
	if err != nil {
		return nil, err
	}
	// build.version's images win over a mirror's (--images) copy of the
	// default version; Toolchain left out those the config's images: names.
	set := ImageOverrides(cfg, flagSet).Merge(tc)
	if err := set.Check(); err != nil {
		return nil, err
	}
	p, err := newProject(c, pack)
	if err != nil {
		return nil, err
	}
	p.toolchain = toolchain
	if variants {
		if p.rename, err = taskVariants(p.usedTasks(), toolchain); err != nil {
			return nil, err
		}
	}
	return &prepared{pack: pack, set: set, p: p}, nil
}

// projectTree generates one project (variants: see prepare).
func projectTree(cfg *config.Loaded, flagSet catalog.ImageSet, variants bool) (render.Tree, error) {
	pr, err := prepare(cfg, flagSet, variants)
	if err != nil {
		return nil, err
	}
	c, p, pack, set := cfg.Config, pr.p, pr.pack, pr.set
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

	var built []*v1.Pipeline
	for _, kind := range []pipeline.Kind{pipeline.PullRequest, pipeline.Release} {
		pl, err := pipeline.Build(kind, p.spec(kind))
		if err != nil {
			return nil, err
		}
		built = append(built, pl)
		if err := add("pipelines/"+pl.Name+".yaml", pl, true); err != nil {
			return nil, err
		}
		if err := add("runs/"+string(kind)+".yaml", p.run(kind, nil), false); err != nil {
			return nil, err
		}
	}
	used := p.usedTasks()
	if c.Tasks.From == "embedded" {
		for _, name := range used {
			t, err := p.task(name, set)
			if err != nil {
				return nil, err
			}
			if err := add("tasks/"+t.Name+".yaml", t, true); err != nil {
				return nil, err
			}
		}
	}
	for _, o := range p.support() {
		if err := add(o.file, o.obj, true); err != nil {
			return nil, err
		}
	}
	triggers, err := trigger.Build(c, map[pipeline.Kind]*v1.PipelineRun{
		pipeline.PullRequest: p.run(pipeline.PullRequest, trigger.RunParams(pipeline.PullRequest)),
		pipeline.Release:     p.run(pipeline.Release, trigger.RunParams(pipeline.Release)),
	})
	if err != nil {
		return nil, err
	}
	for _, o := range triggers {
		if err := add(o.File, o.Obj, true); err != nil {
			return nil, err
		}
	}
	sort.Strings(resources)
	if err := kustomize(tree, c, resources); err != nil {
		return nil, err
	}
	if err := tree.Add("README.md", projectReadme(p, pack, used, resources, built)); err != nil {
		return nil, err
	}
	var known []*v1.Task
	for _, name := range used {
		t, err := p.task(name, set)
		if err != nil {
			return nil, err
		}
		known = append(known, t)
	}
	if _, err := tekton.All(tree, known...); err != nil {
		return nil, fmt.Errorf("generated output fails validation (a pipewright bug): %w", err)
	}
	return tree, nil
}

// kustomize adds namespace.yaml and kustomization.yaml, over resources,
// to tree.
func kustomize(tree render.Tree, c *config.Config, resources []string) error {
	resources = append([]string(nil), resources...)
	sort.Strings(resources)
	// Kustomize's namespace: field would also move the deploy Role into
	// the CI namespace; its NamespaceTransformer with unsetOnly fills in
	// only the objects that name no namespace of their own.
	nsTransformer := map[string]any{
		"apiVersion": "builtin", "kind": "NamespaceTransformer",
		"metadata":  map[string]any{"name": "pipewright-namespace", "namespace": c.App.Namespace},
		"unsetOnly": true,
	}
	transformers := []any{nsTransformer}
	if trigger.HasChatOps(c) {
		// Kustomize knows ClusterRoles are cluster-scoped, but not
		// Triggers' ClusterInterceptor: it would get the namespace too.
		transformers = append(transformers, map[string]any{
			"apiVersion": "builtin", "kind": "PatchTransformer",
			"metadata": map[string]any{"name": "pipewright-cluster-scoped"},
			"target":   map[string]any{"group": "triggers.tekton.dev", "kind": "ClusterInterceptor"},
			"patch":    `[{"op": "remove", "path": "/metadata/namespace"}]`,
		})
	}
	nsYAML, err := tekton.MarshalAll(transformers...)
	if err != nil {
		return fmt.Errorf("namespace.yaml: %w", err)
	}
	if err := tree.Add("namespace.yaml", nsYAML); err != nil {
		return err
	}
	k := kusttypes.Kustomization{
		TypeMeta:     kusttypes.TypeMeta{APIVersion: kusttypes.KustomizationVersion, Kind: kusttypes.KustomizationKind},
		Transformers: []string{"namespace.yaml"},
		Resources:    resources,
		Labels:       []kusttypes.Label{{Pairs: map[string]string{"app.kubernetes.io/part-of": c.App.Name}}},
	}
	y, err := tekton.Marshal(k)
	if err != nil {
		return fmt.Errorf("kustomization.yaml: %w", err)
	}
	return tree.Add("kustomization.yaml", y)
}

// Placeholder is the owner init writes when it finds no GitHub remote.
const Placeholder = "your-org"

// checkPlaceholders refuses init's placeholder owner: pipelines for
// your-org/... would clone, report to and push where nothing is.
func checkPlaceholders(cfg *config.Loaded) error {
	var errs config.Errors
	if strings.Contains("/"+cfg.Image.Repository+"/", "/"+Placeholder+"/") {
		errs = append(errs, cfg.Errorf("image.repository", "set the registry repository the release pushes to, e.g. ghcr.io/acme/api", "%q is init's placeholder", cfg.Image.Repository))
	}
	// init writes image: before github:, so this is file order.
	if owner, _, _ := strings.Cut(cfg.GitHub.Repository, "/"); owner == Placeholder {
		errs = append(errs, cfg.Errorf("github.repository", "set the repository's owner/name (init reads it from .git/config, or pass --repo)", "%q is init's placeholder", cfg.GitHub.Repository))
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// ImageOverrides is the image set generation applies for cfg: the
// config's images:, then images (from --images FILE), whose reference wins
// for an image named in both. cfg may be nil (no config).
func ImageOverrides(cfg *config.Loaded, images catalog.ImageSet) catalog.ImageSet {
	var fromConfig catalog.ImageSet
	if cfg != nil && cfg.Config != nil {
		fromConfig = catalog.ImageSet(cfg.Images)
	}
	return fromConfig.Merge(images)
}

// checkTweaks reports lint/test params the pack's Tasks do not declare, and
// overrides for pipeline tasks that do not exist, at their place in the file.
func checkTweaks(cfg *config.Loaded, pack buildpack.Pack) error {
	var errs config.Errors
	for _, tw := range []struct {
		field, task string
		params      map[string]string
	}{{"build.lint", pack.Lint, cfg.Build.Lint.Params}, {"build.test", pack.Test, cfg.Build.Test.Params}} {
		if len(tw.params) == 0 {
			continue
		}
		if tw.task == "" {
			errs = append(errs, cfg.Errorf(tw.field+".params", "remove it", "the %s pack has no task here", pack.Name))
			continue
		}
		e, err := catalog.Get(tw.task)
		if err != nil {
			errs = append(errs, cfg.Errorf(tw.field, "a pipewright bug: the pack names a Task the catalog lacks", "%v", err))
			continue
		}
		declared := map[string]bool{}
		var names []string
		for _, ps := range e.Spec.Params {
			declared[ps.Name] = true
			names = append(names, ps.Name)
		}
		for _, k := range sortedKeys(tw.params) {
			if !declared[k] {
				errs = append(errs, cfg.Errorf(tw.field+".params."+k, config.DidYouMean(k, names), "task %s has no param %q", tw.task, k))
			}
		}
	}
	if d := cfg.Deploy; d.Strategy == "canary" && !d.Disabled && d.Canary.Controller == "pipewright" {
		// The quickest promotion must fit in the deploy task's timeout, or
		// every release ends in a timeout instead of a decision.
		interval, _ := time.ParseDuration(d.Canary.Interval)
		deadline, _ := time.ParseDuration(d.Canary.Deadline)
		need := time.Duration(len(d.Canary.Steps)*d.Canary.Samples)*interval + deadline
		limit, overridden := canaryTimeout(cfg.Config)
		field := "deploy.canary.interval"
		if overridden {
			field = "overrides.deploy.timeout"
		}
		if need > limit {
			errs = append(errs, cfg.Errorf(field, fmt.Sprintf("shorten interval, samples or steps, or set overrides.deploy.timeout above %s", need),
				"the canary needs at least %s (%d steps × %d samples × %s + deadline %s), more than the deploy task's %s timeout",
				need, len(d.Canary.Steps), d.Canary.Samples, d.Canary.Interval, d.Canary.Deadline, limit))
		}
	}
	tasks := keys.PipelineTasks
	for _, k := range sortedKeys(cfg.Overrides) {
		found := false
		for _, t := range tasks {
			found = found || t == k
		}
		if !found {
			errs = append(errs, cfg.Errorf("overrides."+k, config.DidYouMean(k, tasks), "no pipeline task %q", k))
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

type project struct {
	c    *config.Config
	pack buildpack.Pack
	// steps lists the steps of the catalog Task of each pipeline task
	// with resource overrides, which the runs' taskRunSpecs set.
	steps     map[string][]string
	toolchain []images.Image    // the images build.version chose
	rename    map[string]string // catalog Task name → the name it is written under
	// In a monorepo, a service runs its shape's shared pipelines (named
	// after pipelines) with the monorepo's service accounts, cache claims
	// and part-of label (owner); empty, both are app.name.
	pipelines, owner string
}

// taskName is the name a catalog Task is written and referenced under.
func (p *project) taskName(name string) string {
	if n := p.rename[name]; n != "" {
		return n
	}
	return name
}

// task is the catalog Task name with set's images, under its written name.
func (p *project) task(name string, set catalog.ImageSet) (*v1.Task, error) {
	e, err := catalog.GetWith(name, set)
	if err != nil {
		return nil, err
	}
	t := e.Task()
	if n := p.taskName(name); n != name {
		t = t.DeepCopy()
		t.Name = n
	}
	return t, nil
}

// variants caches taskVariants, a function of its arguments and the
// catalog: a monorepo's services mostly share both.
var variants sync.Map

// taskVariants names each used Task that runs a non-default toolchain image
// after those images' versions.
func taskVariants(used []string, toolchain []images.Image) (map[string]string, error) {
	key, err := json.Marshal([]any{used, toolchain})
	if err != nil {
		return nil, err
	}
	if v, ok := variants.Load(string(key)); ok {
		return maps.Clone(v.(map[string]string)), nil
	}
	out, err := makeTaskVariants(used, toolchain)
	if err == nil {
		variants.Store(string(key), maps.Clone(out))
	}
	return out, err
}

func makeTaskVariants(used []string, toolchain []images.Image) (map[string]string, error) {
	out := map[string]string{}
	for _, name := range used {
		base, err := catalog.Get(name)
		if err != nil {
			return nil, err
		}
		var versions []string
		for _, img := range toolchain {
			table, _, alternate := strings.Cut(img.Name, ":")
			if !alternate {
				continue // the catalog's own version
			}
			e, err := catalog.GetWith(name, catalog.ImageSet{table: img.Ref()})
			if err != nil {
				return nil, err
			}
			if !reflect.DeepEqual(e.Task(), base.Task()) {
				versions = append(versions, strings.ReplaceAll(catalog.ImageVersion(img), ".", "-"))
			}
		}
		if len(versions) > 0 {
			out[name] = name + "-" + strings.Join(versions, "-")
		}
	}
	return out, nil
}

// newProject reads what the project needs from the catalog; a Task the
// pack or an override names that the catalog lacks is an error.
func newProject(c *config.Config, pack buildpack.Pack) (*project, error) {
	p := &project{c: c, pack: pack, steps: map[string][]string{}}
	for _, k := range sortedKeys(c.Overrides) {
		o := c.Overrides[k]
		if o.CPU == "" && o.Memory == "" {
			continue
		}
		steps, err := pipeline.Steps(p.catalogTaskOf(k))
		if err != nil {
			return nil, fmt.Errorf("overrides.%s: %w", k, err)
		}
		p.steps[k] = steps
	}
	return p, nil
}

func (p *project) name(kind pipeline.Kind) string {
	return cmp.Or(p.pipelines, p.c.App.Name) + "-" + string(kind)
}

// ownerName is what the service accounts, cache claims and part-of label
// are named after.
func (p *project) ownerName() string { return cmp.Or(p.owner, p.c.App.Name) }

func (p *project) labels() map[string]string {
	return map[string]string{"app.kubernetes.io/managed-by": "pipewright", "app.kubernetes.io/part-of": p.ownerName()}
}

func (p *project) taskRef() func(string) *v1.TaskRef {
	if p.c.Tasks.From == "bundle" {
		return pipeline.BundleRef(p.c.Tasks.Bundle)
	}
	if len(p.rename) > 0 {
		return func(name string) *v1.TaskRef { return pipeline.LocalRef(p.taskName(name)) }
	}
	return pipeline.LocalRef
}

func (p *project) spec(kind pipeline.Kind) pipeline.Spec {
	c := p.c
	timeouts := map[string]time.Duration{}
	for k, o := range c.Overrides {
		if o.Timeout != "" {
			d, _ := time.ParseDuration(o.Timeout) // validated by config
			timeouts[k] = d
		}
	}
	defaults := map[string]string{
		"repo-url":            "https://github.com/" + c.GitHub.Repository + ".git",
		"repo-full-name":      c.GitHub.Repository,
		"image":               c.Image.Repository,
		"context":             c.Build.Context,
		"dockerfile":          c.Image.Dockerfile,
		"status-context":      c.GitHub.StatusContext,
		"run-url":             RunURL(c.GitHub.RunURL),
		"github-api-url":      c.GitHub.APIURL,
		"github-token-secret": c.GitHub.TokenSecret,
		"manifests":           path.Join(c.Build.Context, c.Deploy.Manifests),
		"deployment":          c.Deploy.Deployment,
		"container":           c.Deploy.Container,
		"namespace":           c.Deploy.Namespace,
		"pipewright-image":    c.Tools.Image,
	}
	if c.Image.Context != "" {
		defaults[keys.ParamImageContext] = c.Image.Context
	}
	spec := pipeline.Spec{
		Name:          p.name(kind),
		Pack:          p.pack,
		LintParams:    c.Build.Lint.Params,
		TestParams:    c.Build.Test.Params,
		NoLint:        c.Build.Lint.Disabled,
		NoTest:        c.Build.Test.Disabled,
		PRTag:         c.Image.PRTag,
		SharedCache:   c.Build.Cache == "shared",
		Deploy:        !c.Deploy.Disabled,
		GoImage:       c.Image.Builder == "go-image",
		GoImageParams: p.goImageParams(),
		Canary:        p.canaryParams(),
		Defaults:      defaults,
		CheckRuns:     c.GitHub.App != nil,
		TaskRef:       p.taskRef(),
		Timeouts:      timeouts,
		Labels:        p.labels(),
	}
	if a := c.GitHub.App; a != nil {
		spec.Defaults[keys.ParamGitHubAppID] = strconv.FormatInt(a.ID, 10)
		spec.Defaults[keys.ParamGitHubAppInstallation] = strconv.FormatInt(a.InstallationID, 10)
		spec.Defaults[keys.ParamGitHubAppKeySecret] = a.KeySecret
	}
	return spec
}

func (p *project) goImageParams() map[string]string {
	im := p.c.Image
	if im.Builder != "go-image" {
		return nil
	}
	ps := map[string]string{"package": im.Package, "platforms": strings.Join(im.Platforms, ",")}
	if im.Base != "" {
		ps["base"] = im.Base
	}
	return ps
}

// canaryParams are canary-release's params from deploy.canary, or nil for
// a rolling deploy.
func (p *project) canaryParams() map[string]string {
	d := p.c.Deploy
	if d.Strategy != "canary" || d.Disabled {
		return nil
	}
	cn := d.Canary
	steps := make([]string, len(cn.Steps))
	for i, w := range cn.Steps {
		steps[i] = strconv.Itoa(w)
	}
	lat, _ := time.ParseDuration(cn.LatencyP99) // validated by config
	router := map[string]string{"gateway-api": "httproute", "smi": "smi"}[cn.Traffic]
	ps := map[string]string{
		"strategy":      cn.Controller,
		"router":        router,
		"route":         cn.Route,
		"prometheus":    cn.Prometheus,
		"steps":         strings.Join(steps, ","),
		"interval":      cn.Interval,
		"samples":       strconv.Itoa(cn.Samples),
		"failure-limit": strconv.Itoa(cn.FailureLimit),
		"success-rate":  strconv.FormatFloat(cn.SuccessRate, 'f', -1, 64),
		"latency-p99":   strconv.FormatFloat(float64(lat)/float64(time.Millisecond), 'f', -1, 64),
		"deadline":      cn.Deadline,
	}
	// Only what is set, so the generated params stay as they were for
	// configs without them.
	if n := cn.ConsecutiveErrorLimit; n != nil {
		ps["consecutive-error-limit"] = strconv.Itoa(*n)
	}
	if len(cn.Metrics) > 0 {
		specs := make([]canary.MetricSpec, len(cn.Metrics))
		for i, m := range cn.Metrics {
			specs[i] = canary.MetricSpec{Name: m.Name, Query: m.Query, Threshold: m.Threshold, Direction: m.Direction, Interval: m.Interval, Unit: m.Unit}
		}
		ps["metrics"] = compactJSON(specs)
	}
	if len(cn.Webhooks) > 0 {
		specs := make([]canary.WebhookSpec, len(cn.Webhooks))
		for i, h := range cn.Webhooks {
			specs[i] = canary.WebhookSpec{Name: h.Name, Type: h.Type, URL: h.URL, Timeout: h.Timeout, Metadata: h.Metadata}
		}
		ps["webhooks"] = compactJSON(specs)
	}
	return ps
}

// compactJSON is v as one line of JSON, for a param; v is plain data.
func compactJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// run is the PipelineRun template of a pipeline; params are the values to
// bind (the triggers bind payload fields; nil gives a runnable manual run on
// the default branch).
func (p *project) run(kind pipeline.Kind, params map[string]string) *v1.PipelineRun {
	if params == nil {
		params = map[string]string{"revision": p.c.GitHub.DefaultBranch}
	}
	res := map[string]corev1.ResourceList{}
	steps := map[string][]string{}
	for k, o := range p.c.Overrides {
		rl := corev1.ResourceList{}
		if o.CPU != "" {
			rl[corev1.ResourceCPU] = resource.MustParse(o.CPU)
		}
		if o.Memory != "" {
			rl[corev1.ResourceMemory] = resource.MustParse(o.Memory)
		}
		if len(rl) > 0 {
			res[k] = rl
			steps[k] = p.steps[k]
		}
	}
	var cacheClaim, pushSecret string
	if p.c.Build.Cache == "shared" {
		cacheClaim = p.cacheClaim(kind)
	}
	// Pull-request runs build the pull request's code (with a Dockerfile,
	// BuildKit runs its RUN lines): they get no push credentials, not even
	// with image.prTag. Their pipeline declares the dockerconfig workspace
	// all the same, for whoever binds it knowingly.
	if kind == pipeline.Release {
		pushSecret = p.c.Image.PushSecret
	}
	return pipeline.Run(pipeline.RunSpec{
		Pipeline:       p.name(kind),
		GenerateName:   p.name(kind) + "-",
		Params:         params,
		ServiceAccount: p.serviceAccount(kind),
		// Pull-request runs (fork code too, after /ok-to-test) get no API
		// token: their service account has no rights either, but no step
		// of theirs gets to find out.
		NoServiceAccountToken: kind == pipeline.PullRequest,
		CacheClaim:            cacheClaim,
		DockerConfigSecret:    pushSecret,
		Timeout:               p.runTimeout(kind),
		FinallyTimeout:        10 * time.Minute,
		StepResources:         res,
		StepNames:             steps,
		Labels:                p.labels(),
	})
}

// runTimeout is an hour for building and testing, plus the canary's own
// time for a release that deploys one: the run's timeout must not cut the
// canary short.
func (p *project) runTimeout(kind pipeline.Kind) time.Duration {
	if kind != pipeline.Release || p.c.Deploy.Strategy != "canary" || p.c.Deploy.Disabled {
		return time.Hour
	}
	d, _ := canaryTimeout(p.c)
	return time.Hour + d
}

// canaryTimeout is the canary deploy task's timeout: overrides.deploy.timeout
// when set (overridden), else pipeline.CanaryTimeout.
func canaryTimeout(c *config.Config) (d time.Duration, overridden bool) {
	if o, ok := c.Overrides[keys.TaskDeploy]; ok && o.Timeout != "" {
		d, _ = time.ParseDuration(o.Timeout) // validated by config
		return d, true
	}
	return pipeline.CanaryTimeout, false
}

// serviceAccount is the service account runs of a kind use: pull-request
// runs and release runs each have their own, so that the code of a pull
// request never runs with the release's deploy rights. <app>-pull-request
// has no binding, no secrets and no token; <app>-release is bound to the
// deployer Role.
func (p *project) serviceAccount(kind pipeline.Kind) string {
	return p.ownerName() + "-" + string(kind)
}

// cacheClaim is the shared cache claim of a pipeline (build.cache: shared):
// one per kind, so pull-request code never writes what a release reads.
func (p *project) cacheClaim(kind pipeline.Kind) string {
	return p.ownerName() + "-cache-" + string(kind)
}

// catalogTaskOf maps a pipeline task name to its catalog Task.
func (p *project) catalogTaskOf(pt string) string {
	switch pt {
	case keys.TaskClone:
		return "git-clone"
	case keys.TaskLint:
		return p.pack.Lint
	case keys.TaskTest:
		return p.pack.Test
	case keys.TaskBuildImage:
		return p.imageTask()
	case keys.TaskDeploy:
		return p.deployTask()
	case keys.TaskSetPending, keys.TaskReportSuccess, keys.TaskReportFailure, keys.TaskReportCloneFailure,
		keys.TaskReportCanarySuccess, keys.TaskReportCanaryFailure:
		if p.c.GitHub.App != nil {
			return "github-check-run"
		}
	}
	return "github-set-status"
}

func (p *project) imageTask() string {
	if p.c.Image.Builder == "go-image" {
		return "go-image"
	}
	return "image-build"
}

func (p *project) deployTask() string {
	if p.c.Deploy.Strategy == "canary" {
		return "canary-release"
	}
	return "kubectl-apply"
}

func (p *project) usedTasks() []string {
	set := map[string]bool{"git-clone": true, p.imageTask(): true}
	if p.c.GitHub.App != nil {
		set["github-check-run"] = true
	} else {
		set["github-set-status"] = true
	}
	if p.pack.Lint != "" && !p.c.Build.Lint.Disabled {
		set[p.pack.Lint] = true
	}
	if p.pack.Test != "" && !p.c.Build.Test.Disabled {
		set[p.pack.Test] = true
	}
	if !p.c.Deploy.Disabled {
		set[p.deployTask()] = true
		if p.c.Deploy.Strategy == "canary" && p.c.Deploy.Canary.Controller == "pipewright" {
			set["canary-restore"] = true
		}
	}
	return sortedKeys(set)
}

type fileObj struct {
	file string
	obj  any
}

// support is what the pipelines need besides themselves: the service
// accounts runs use (the release one with rights to deploy), and with
// build.cache: shared the cache claims.
func (p *project) support() []fileObj {
	c := p.c
	meta := func(name string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Labels: p.labels()}
	}
	saType := metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"}
	// The pull-request account is bound to nothing, names no secrets, and
	// its token is mounted nowhere, whatever a run's podTemplate says.
	prSA := &corev1.ServiceAccount{TypeMeta: saType, ObjectMeta: meta(p.serviceAccount(pipeline.PullRequest)), AutomountServiceAccountToken: ptr.To(false)}
	releaseSA := &corev1.ServiceAccount{TypeMeta: saType, ObjectMeta: meta(p.serviceAccount(pipeline.Release))}
	out := []fileObj{{"rbac/pull-request-serviceaccount.yaml", prSA}, {"rbac/release-serviceaccount.yaml", releaseSA}}
	if c.Build.Cache == "shared" {
		for _, kind := range []pipeline.Kind{pipeline.PullRequest, pipeline.Release} {
			out = append(out, fileObj{"cache/" + string(kind) + ".yaml", &corev1.PersistentVolumeClaim{
				TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "PersistentVolumeClaim"},
				ObjectMeta: meta(p.cacheClaim(kind)),
				Spec: corev1.PersistentVolumeClaimSpec{
					// ReadWriteOnce works everywhere; concurrent runs on
					// different nodes need a ReadWriteMany class instead.
					AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(pipeline.SharedCacheSize)}},
				},
			}})
		}
	}
	if !c.Deploy.Disabled {
		verbs := []string{"get", "list", "watch", "create", "update", "patch"}
		role := &rbacv1.Role{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
			ObjectMeta: metav1.ObjectMeta{Name: c.App.Name + "-deployer", Namespace: c.Deploy.Namespace, Labels: p.labels()},
			Rules: []rbacv1.PolicyRule{
				{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: verbs},
				{APIGroups: []string{"apps"}, Resources: []string{"replicasets"}, Verbs: []string{"get", "list", "watch"}},
				{APIGroups: []string{""}, Resources: []string{"services", "configmaps"}, Verbs: verbs},
			},
		}
		for _, r := range c.Deploy.Resources {
			// The manifests' other kinds, applied like the ones above.
			resource, group, _ := strings.Cut(r, ".")
			role.Rules = append(role.Rules, rbacv1.PolicyRule{APIGroups: []string{group}, Resources: []string{resource}, Verbs: verbs})
		}
		if c.Deploy.Strategy == "canary" {
			role.Rules = append(role.Rules, canaryRules...)
		}
		rb := &rbacv1.RoleBinding{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
			ObjectMeta: metav1.ObjectMeta{Name: c.App.Name + "-deployer", Namespace: c.Deploy.Namespace, Labels: p.labels()},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: c.App.Name + "-deployer"},
			Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: p.serviceAccount(pipeline.Release), Namespace: c.App.Namespace}},
		}
		out = append(out, fileObj{"rbac/deployer-role.yaml", role}, fileObj{"rbac/deployer-rolebinding.yaml", rb})
	}
	return out
}

// canaryRules are what canary-release needs beyond a rolling deploy: the
// canary Deployment is removed after the release, and the route objects of
// each traffic split and controller are read and updated.
var canaryRules = []rbacv1.PolicyRule{
	{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"delete"}},
	{APIGroups: []string{"gateway.networking.k8s.io"}, Resources: []string{"httproutes"}, Verbs: []string{"get", "update", "patch"}},
	{APIGroups: []string{"split.smi-spec.io"}, Resources: []string{"trafficsplits"}, Verbs: []string{"get", "create", "update", "patch"}},
	{APIGroups: []string{"flagger.app"}, Resources: []string{"canaries"}, Verbs: []string{"get", "list", "watch"}},
	{APIGroups: []string{"argoproj.io"}, Resources: []string{"rollouts"}, Verbs: []string{"get", "list", "watch", "update", "patch"}},
}

func projectReadme(p *project, pack buildpack.Pack, tasks, resources []string, pipelines []*v1.Pipeline) []byte {
	c := p.c
	var b strings.Builder
	fmt.Fprintf(&b, "# CI/CD for %s\n\n<!-- Generated by pipewright; do not edit. Change pipewright.yaml and run `pipewright generate`. -->\n\n", c.App.Name)
	fmt.Fprintf(&b, "Build pack **%s**, image `%s`, GitHub `%s` (default branch `%s`), Tasks from **%s**.\n\n",
		pack.Name, c.Image.Repository, c.GitHub.Repository, c.GitHub.DefaultBranch, c.Tasks.From)
	if len(p.toolchain) > 0 {
		refs := "`" + strings.ReplaceAll(chosenRefs(p.toolchain), ", ", "`, `") + "`"
		if c.Tasks.From == "embedded" {
			fmt.Fprintf(&b, "Toolchain: `build.version` %s runs %s (from pipewright's image lock, pinned by digest).\n\n", c.Build.Version, refs)
		} else {
			fmt.Fprintf(&b, "Toolchain: `build.version` %s wants %s, but Tasks from **%s** run the images that catalog was built with; install a catalog built with them (`pipewright catalog --images`) or use `tasks.from: embedded`.\n\n", c.Build.Version, refs, c.Tasks.From)
		}
	}

	ns := c.App.Namespace
	b.WriteString("## Secrets\n\n")
	fmt.Fprintf(&b, "Create these in namespace `%s`, where the pipelines and the EventListener run, before the first run; no file here holds a secret value.\n\n", ns)
	b.WriteString("| Secret | Key | Used by |\n|---|---|---|\n")
	fmt.Fprintf(&b, "| `%s` | `secret` | The EventListener's GitHub interceptor, to check each delivery's `X-Hub-Signature-256`; the repository's webhook gets the same value. |\n", c.GitHub.WebhookSecret)
	tokenUse, scopes := "The commit statuses (task github-set-status, read into its step's environment by the kubelet)", "commit statuses: read and write (classic token: `repo:status`)"
	var lookups []string
	if len(c.Paths) > 0 && !trigger.HasChatOps(c) {
		lookups = append(lookups, "the `paths` filter's lookup of a pull request's changed files")
	}
	if trigger.HasChatOps(c) {
		what := "pull requests"
		if len(c.Paths) > 0 {
			what = "pull requests and their changed files (`paths`)"
		}
		lookups = append(lookups, "the ChatOps interceptor's lookups of "+what+", collaborator permissions and the OWNERS file (mounted into its Pod as a file)")
		scopes += ", contents: read"
	}
	if c.GitHub.App != nil && len(lookups) > 0 {
		// The pipelines report as the App; the token only reads.
		tokenUse, scopes = strings.ToUpper(lookups[0][:1])+strings.Join(lookups, " and ")[1:], strings.TrimPrefix(scopes, "commit statuses: read and write (classic token: `repo:status`), ")+", pull requests: read"
	} else if len(lookups) > 0 {
		tokenUse += " and " + strings.Join(lookups, " and ")
		scopes += ", pull requests: read"
	}
	fmt.Fprintf(&b, "| `%s` | `token` | %s. Scopes: %s. |\n", c.GitHub.TokenSecret, tokenUse, scopes)
	if a := c.GitHub.App; a != nil {
		fmt.Fprintf(&b, "| `%s` | `%s` | The check runs (task github-check-run, mounted read-only into its step, which trades it for an installation token): the private key of GitHub App %d, which needs Checks: read and write on the repository. |\n", a.KeySecret, catalog.AppKeyFile, a.ID)
	}
	fmt.Fprintf(&b, "| `%s` | `%s` | The image push of `build-image` in release runs, mounted as its `dockerconfig` workspace (as `config.json`). It is not attached to the service account, so no other step sees it, and pull-request runs never get it. |\n\n",
		c.Image.PushSecret, corev1.DockerConfigJsonKey)
	fmt.Fprintf(&b, "```sh\n# the webhook secret: a random value, kept in a file for the webhook below\nopenssl rand -hex 32 | tr -d '\\n' > webhook-secret\n")
	fmt.Fprintf(&b, "kubectl create secret generic %s -n %s --from-file=secret=webhook-secret\n", c.GitHub.WebhookSecret, ns)
	fmt.Fprintf(&b, "kubectl create secret generic %s -n %s --from-literal=token=<GitHub token>\n", c.GitHub.TokenSecret, ns)
	if a := c.GitHub.App; a != nil {
		fmt.Fprintf(&b, "kubectl create secret generic %s -n %s --from-file=%s=<the App's private key, .pem>\n", a.KeySecret, ns, catalog.AppKeyFile)
	}
	fmt.Fprintf(&b, "kubectl create secret docker-registry %s -n %s --docker-server=%s --docker-username=<registry user> --docker-password=<registry token with push rights>\n```\n\n",
		c.Image.PushSecret, ns, registryServer(c.Image.Repository))
	if c.Image.PRTag {
		fmt.Fprintf(&b, "`image.prTag` is set, but pull-request runs get no push credentials: they build the pull request's code, and with a Dockerfile run it, where any credential is readable. Their `pr-<number>` pushes work with a registry that lets the cluster push without them; otherwise bind workspace `%s` in `triggers/template-pull-request.yaml` yourself, to a credential that can push nothing else (`pipewright lint` reports it as `secrets-in-untrusted-run`).\n\n", pipeline.DockerConfigWorkspace)
	}

	fmt.Fprintf(&b, "## Install\n\n```sh\nkubectl apply -k .\npipewright github webhook --repo %s --url https://<public URL of Service el-%s-listener, port 8080>/ --secret-file webhook-secret\n```\n\n", c.GitHub.Repository, c.App.Name)
	cluster := "the EventListener's ClusterRole and ClusterRoleBinding"
	if trigger.HasChatOps(c) {
		cluster = "the EventListener's and the ChatOps interceptor's ClusterRoles and ClusterRoleBindings, and the interceptor's ClusterInterceptor"
	}
	fmt.Fprintf(&b, "The kustomization holds cluster-scoped objects (%s): applying it needs cluster-admin, once, and again when they change.\n\n", cluster)
	if c.Tasks.From == "cluster" {
		b.WriteString("The pipelines use the pipewright catalog installed in the cluster (`kubectl apply -R -f tasks/` from pipewright).\n\n")
	}
	b.WriteString("## ChatOps\n\n")
	if trigger.HasChatOps(c) {
		fmt.Fprintf(&b, "Every trigger ends with the pipewright interceptor (replay checks, the branch head of a push, cancelling the runs a new one replaces, pruning); the ChatOps trigger (`/retest`, `/test`, `/cancel`, `/ok-to-test <sha>` on a pull request) needs it too. It is ClusterInterceptor `%s` (`triggers/interceptor/`): `pipewright interceptor serve` from the tool image, in Deployment `%s` behind Service `%s` (port %d) in namespace `%s`, with Secret `%s` mounted read-only as its token file. ",
			trigger.InterceptorName(c), trigger.InterceptorService(c), trigger.InterceptorService(c), trigger.InterceptorPort, ns, c.GitHub.TokenSecret)
		fmt.Fprintf(&b, "Triggers calls it over HTTPS: on first start it makes a CA and a serving certificate for `%s.%s.svc`, keeps them in Secret `%s` (which it creates; its service account may read and update that one Secret), and writes the CA into the ClusterInterceptor's `caBundle` (with the label `server/type: https`); it may get and patch that one ClusterInterceptor and nothing else. A restarted Pod reads the Secret and serves under the same CA, so the EventListener keeps trusting it; the serving certificate is issued again from the kept CA before it expires. ",
			trigger.InterceptorService(c), ns, trigger.InterceptorCASecret(c))
		fmt.Fprintf(&b, "NetworkPolicy `%s` lets only the EventListener's Pods (labels `eventlistener: %s`, `app.kubernetes.io/managed-by: EventListener`, as Triggers sets them) reach it, on port %d: not the pull-request runs in the same namespace. It takes effect only with a CNI that enforces NetworkPolicy (Calico, Cilium, ...); the plain bridge CNI ignores it. ",
			trigger.InterceptorService(c), trigger.ListenerName(c), trigger.InterceptorPort)
		fmt.Fprintf(&b, "An EventListener reads `caBundle`s when its Pods start, then only once a minute; so once the CA is published, the interceptor marks EventListener `%s` with the CA's digest (annotation `%s` on its Pod template; it may get and patch that one EventListener) and Triggers starts its Pods again, trusting the CA from their start. Deliveries in the few seconds before the new Pod is ready (after a fresh install, or after deleting that Secret) may still fail TLS; redeliver them from GitHub's UI (the webhook's Recent Deliveries, Redeliver).\n\n",
			trigger.ListenerName(c), keys.InterceptorCA)
	} else {
		b.WriteString("Off: the pipewright interceptor (ChatOps `/retest`, `/test`, `/cancel`, `/ok-to-test <sha>`; replay protection; cancelling superseded runs) runs from the pipewright tool image, and `tools.image` is not set. The EventListener has no ChatOps trigger: comments start no runs, and a pull request from a fork whose author is not trusted does not run at all; a replayed delivery is not refused (runs still carry its id in `pipewright.dev/delivery`). Set `tools.image` (see pipewright's README) and generate again to turn it on.\n\n")
		if len(c.Paths) > 0 {
			b.WriteString("Without it, `paths` on pull requests read Triggers' changed-files list, one comma-joined string: a file whose name has a comma is split in two there, and may make the pull-request trigger fire or not wrongly (pushes read each commit's own file lists and are not affected).\n\n")
		}
	}

	b.WriteString("## Pipelines\n\n")
	flow := func(kind pipeline.Kind) string {
		if ch := pipeline.Checks(kind, p.spec(kind)); ch != "" {
			return "clone → " + ch + " → "
		}
		return "clone → "
	}
	build := "image build (not published)"
	if c.Image.PRTag {
		build = "image build and push as `pr-<number>`"
	}
	fmt.Fprintf(&b, "- `%s-pull-request`: %s%s → commit status in `finally`.\n", c.App.Name, flow(pipeline.PullRequest), build)
	deploy := " → kubectl apply of the new digest"
	if cn := c.Deploy.Canary; c.Deploy.Strategy == "canary" {
		how := fmt.Sprintf("steps %v, rolled back on Prometheus metrics", cn.Steps)
		if cn.Controller != "pipewright" {
			how = cn.Controller + " runs the steps and analysis"
		}
		deploy = fmt.Sprintf(" → canary release of the new digest (%s; the decision is reported as the `%s/canary` status)", how, c.GitHub.StatusContext)
	}
	if c.Deploy.Disabled {
		deploy = ""
	}
	fmt.Fprintf(&b, "- `%s-release`: %simage build and push by digest, tagged with the commit%s → commit status in `finally`.\n\n", c.App.Name, flow(pipeline.Release), deploy)
	for _, pl := range pipelines {
		b.WriteString(pipelineGraph(pl))
	}
	b.WriteString("Statuses go on the commit clone checked out: the pending one once clone has resolved it. When the clone itself fails there is no such commit, and the failure is posted on `revision` as the run gave it (a sha from the triggers).\n\n")
	fmt.Fprintf(&b, "Run one by hand: `kubectl create -f runs/release.yaml` (builds `%s`; give `revision` a commit sha instead for a failed clone to be reported too).\n\n", c.GitHub.DefaultBranch)

	b.WriteString("## Service accounts\n\n")
	fmt.Fprintf(&b, "- `%s`: pull-request runs. It has no RoleBinding and no secrets, and no token (`automountServiceAccountToken: false` on the account and in the runs' podTemplate): a pull request's code, a fork's too after `/ok-to-test`, gets no Kubernetes API token and no registry credentials.\n", p.serviceAccount(pipeline.PullRequest))
	if c.Deploy.Disabled {
		fmt.Fprintf(&b, "- `%s`: release runs. It has no rights (`deploy.disabled`).\n\n", p.serviceAccount(pipeline.Release))
	} else {
		fmt.Fprintf(&b, "- `%s`: release runs. It is bound to Role `%s-deployer` in namespace `%s`, and its token is what the deploy step uses.\n\n", p.serviceAccount(pipeline.Release), c.App.Name, c.Deploy.Namespace)
	}

	b.WriteString("## Volumes\n\n")
	if c.Build.Cache == "shared" {
		fmt.Fprintf(&b, "Each run clones into a volume of its own (workspace `%s`, a %s `volumeClaimTemplate`, folder `%s`). The build caches are on claims kept between runs (`build.cache: shared`): `%s` for pull requests and `%s` for releases, so pull-request code never writes what a release reads. ",
			pipeline.SourceWorkspace, pipeline.SourceVolumeSize, pipeline.SourceSubPath, p.cacheClaim(pipeline.PullRequest), p.cacheClaim(pipeline.Release))
		b.WriteString("Lint and test TaskRuns bind two claims, which Tekton refuses at its default `coschedule: workspaces`: set `coschedule` to `pipelineruns` (or `disabled`) in configmap `feature-flags` of namespace `tekton-pipelines`. With `ReadWriteOnce` claims, runs at the same time must share a node; across nodes the claims need a `ReadWriteMany` storage class.\n\n")
	} else {
		fmt.Fprintf(&b, "Each run gets one volume (workspace `%s`, a %s `volumeClaimTemplate`): the checkout in its `%s` folder, the build caches in its `%s` folder, shared by the run's tasks. Every TaskRun so binds one claim, as Tekton's default `coschedule: workspaces` requires, and no cache outlives its run: a pull request's code cannot poison a release's modules or build cache. ",
			pipeline.SourceWorkspace, pipeline.RunVolumeSize, pipeline.SourceSubPath, pipeline.CacheSubPath)
		b.WriteString("`build.cache: shared` keeps the caches between runs instead, on claims that need Tekton's `coschedule` feature flag at `pipelineruns` or `disabled`.\n\n")
	}
	fmt.Fprintf(&b, "The runs' Pods have `fsGroup: %d`, the group the steps run as, so that they can write the freshly provisioned volume.\n\n", pipeline.FSGroup)

	b.WriteString("## Files\n\n")
	for _, r := range resources {
		fmt.Fprintf(&b, "- `%s`\n", r)
	}
	var names []string
	for _, t := range tasks {
		names = append(names, p.taskName(t))
	}
	fmt.Fprintf(&b, "\nTasks used: %s.\n", strings.Join(names, ", "))
	return []byte(b.String())
}

// pipelineGraph draws a pipeline as a Mermaid flowchart (GitHub renders it)
// from its runAfter edges and result references, with the finally tasks
// after all of them, and lists its tasks in a table.
func pipelineGraph(pl *v1.Pipeline) string {
	var b strings.Builder
	id := func(name string) string { return strings.ReplaceAll(name, "-", "_") }
	fmt.Fprintf(&b, "### %s\n\n```mermaid\nflowchart LR\n", pl.Name)
	for _, pt := range pl.Spec.Tasks {
		fmt.Fprintf(&b, "  %s[\"%s<br/><small>%s</small>\"]\n", id(pt.Name), pt.Name, catalogTask(pt))
	}
	after := func(pt v1.PipelineTask) []string {
		deps := map[string]bool{}
		for _, r := range pt.RunAfter {
			deps[r] = true
		}
		for _, ref := range v1.PipelineTaskResultRefs(&pt) {
			deps[ref.PipelineTask] = true
		}
		return sortedKeys(deps)
	}
	var ends []string
	dependedOn := map[string]bool{}
	for _, pt := range pl.Spec.Tasks {
		for _, d := range after(pt) {
			dependedOn[d] = true
			fmt.Fprintf(&b, "  %s --> %s\n", id(d), id(pt.Name))
		}
	}
	for _, pt := range pl.Spec.Tasks {
		if !dependedOn[pt.Name] {
			ends = append(ends, id(pt.Name))
		}
	}
	if len(pl.Spec.Finally) > 0 {
		b.WriteString("  subgraph finally\n")
		for _, pt := range pl.Spec.Finally {
			fmt.Fprintf(&b, "    %s([\"%s\"])\n", id(pt.Name), pt.Name)
		}
		b.WriteString("  end\n")
		for _, e := range ends {
			fmt.Fprintf(&b, "  %s -.-> finally\n", e)
		}
	}
	b.WriteString("```\n\n| Task | Catalog Task | Runs after | When |\n|---|---|---|---|\n")
	for i, pt := range append(append([]v1.PipelineTask{}, pl.Spec.Tasks...), pl.Spec.Finally...) {
		deps := strings.Join(after(pt), ", ")
		if i >= len(pl.Spec.Tasks) {
			deps = "everything (finally)"
		}
		var when []string
		for _, w := range pt.When {
			when = append(when, fmt.Sprintf("`%s %s %s`", w.Input, w.Operator, strings.Join(w.Values, ",")))
		}
		if pt.Name == "" {
			continue
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s |\n", pt.Name, catalogTask(pt), deps, strings.Join(when, " and "))
	}
	b.WriteString("\n")
	return b.String()
}

// catalogTask is the Task a pipeline task runs (tekton.TaskName: the
// taskRef's name or a resolver reference's name param), "inline" for a
// taskSpec, else the resolver.
func catalogTask(pt v1.PipelineTask) string {
	if n := tekton.TaskName(pt); n != "" {
		return n
	}
	if pt.TaskRef == nil {
		return "inline"
	}
	return string(pt.TaskRef.Resolver)
}

// registryServer is the --docker-server of kubectl create secret
// docker-registry for an image repository: its registry host, or Docker
// Hub's v1 address.
func registryServer(repo string) string {
	r, err := name.NewRepository(repo)
	if err != nil || r.RegistryStr() == name.DefaultRegistry {
		return "https://index.docker.io/v1/"
	}
	return r.RegistryStr()
}

// Summary is the short report `generate` prints.
func Summary(cfg *config.Loaded, tree render.Tree, out string) string {
	counts := map[string]int{}
	for _, p := range tree.Paths() {
		// A monorepo's files are one folder down, per service.
		parts := strings.Split(p, "/")
		if len(parts) > 1 {
			counts[parts[len(parts)-2]]++
		}
	}
	return fmt.Sprintf("generated CI/CD for %s (%s pack, tasks %s) from %s into %s/: %d pipelines, %d tasks, %d run templates, %d files in all\napply with: kubectl apply -k %s\n",
		cfg.App.Name, cfg.Build.Pack, cfg.Tasks.From, cfg.File, out, counts["pipelines"], counts["tasks"], counts["runs"], len(tree), out)
}

// RunURL is github.runURL with its {namespace} and {name} as the Tekton
// context variables a pipeline task's params get the run's values from.
func RunURL(template string) string {
	return strings.NewReplacer("{namespace}", "$(context.pipelineRun.namespace)", "{name}", "$(context.pipelineRun.name)").Replace(template)
}
