package trigger

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/pipewright/pipewright/generator/config"
	"github.com/pipewright/pipewright/generator/pipeline"
	"github.com/pipewright/pipewright/pkg/tekton"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	triggersv1 "github.com/tektoncd/triggers/pkg/apis/triggers/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// The catalog's triggers/ folder: what a team installing the catalog with
// kubectl apply needs to start its pipelines from GitHub, without
// `pipewright generate`: GitHub TriggerBindings for the three events the
// generated listeners use, and one TriggerTemplate per catalog pipeline.
// An EventListener of the team's own puts them together (triggers/README.md
// shows one, with the repository and signature checks every generated
// listener has).

// CatalogPrefix names the catalog's triggers objects.
const CatalogPrefix = "pipewright-"

// Params a catalog template takes besides its pipeline's required ones.
const (
	ServiceAccountParam = "service-account"
	PushSecretParam     = "push-secret"
)

// catalogBindings are the generic bindings, by file name: the same fields
// a generated project binds, and the delivery id.
var catalogBindings = []struct {
	name   string
	params [][2]string
}{
	{"github-pull-request", prBindings},
	{"github-push", pushBindings},
	// issue_comment payloads carry no sha: these come from the pipewright
	// interceptor (pipewright interceptor serve) in the trigger's chain.
	{"github-issue-comment", append(append([][2]string{}, chatopsBindings...), [2]string{"approved-by", "$(extensions.approved_by) ($(extensions.trusted_by))"})},
}

// Catalog returns the catalog's triggers objects for its pipelines.
func Catalog(pipelines []*v1.Pipeline) ([]Object, error) {
	meta := func(name string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: CatalogPrefix + name, Labels: map[string]string{
			"app.kubernetes.io/part-of": "pipewright", "app.kubernetes.io/version": "0.1"}}
	}
	var out []Object
	for _, b := range catalogBindings {
		tb := &triggersv1.TriggerBinding{TypeMeta: typeMeta("TriggerBinding"), ObjectMeta: meta(b.name)}
		for _, p := range append(append([][2]string{}, b.params...), [2]string{"delivery", "$(header.X-GitHub-Delivery)"}) {
			tb.Spec.Params = append(tb.Spec.Params, triggersv1.Param{Name: p[0], Value: p[1]})
		}
		out = append(out, Object{File: "triggers/bindings/" + b.name + ".yaml", Obj: tb})
	}
	for _, p := range pipelines {
		tt, err := catalogTemplate(p, meta(p.Name))
		if err != nil {
			return nil, err
		}
		out = append(out, Object{File: "triggers/templates/" + p.Name + ".yaml", Obj: tt})
	}
	return out, nil
}

// catalogTimeout is an hour, plus the canary's own time for a canary
// release, as for a project's runs.
func catalogTimeout(name string) time.Duration {
	if strings.Contains(name, "-canary") {
		return time.Hour + pipeline.CanaryTimeout
	}
	return time.Hour
}

// catalogKind reads a catalog pipeline's kind from its name.
func catalogKind(name string) pipeline.Kind {
	if strings.HasSuffix(name, "-pull-request") {
		return pipeline.PullRequest
	}
	return pipeline.Release
}

func catalogTemplate(p *v1.Pipeline, meta metav1.ObjectMeta) (*triggersv1.TriggerTemplate, error) {
	kind := catalogKind(p.Name)
	empty := ""
	tt := &triggersv1.TriggerTemplate{TypeMeta: typeMeta("TriggerTemplate"), ObjectMeta: meta}
	run := map[string]string{}
	for _, ps := range p.Spec.Params {
		if ps.Default != nil {
			continue // the pipeline's default stands; an EventListener may bind it to override
		}
		run[ps.Name] = "$(tt.params." + ps.Name + ")"
		doc := paramDocs[ps.Name]
		if doc == "" {
			doc = strings.TrimSuffix(ps.Description, ".") + "; bind it in the EventListener trigger: {name: " + ps.Name + ", value: ...}."
		}
		tt.Spec.Params = append(tt.Spec.Params, triggersv1.ParamSpec{Name: ps.Name, Description: doc})
	}
	spec := pipeline.RunSpec{
		Pipeline:       p.Name,
		GenerateName:   p.Name + "-",
		Params:         run,
		ServiceAccount: "$(tt.params." + ServiceAccountParam + ")",
		Timeout:        catalogTimeout(p.Name),
		FinallyTimeout: 10 * time.Minute,
		Labels:         map[string]string{"app.kubernetes.io/part-of": "pipewright"},
	}
	saDoc := "Service account of the run: one with the deploy rights for releases."
	var saDefault *string
	if kind == pipeline.PullRequest {
		// Pull-request code gets no API token and no push credentials.
		spec.NoServiceAccountToken = true
		def := "default"
		saDefault = &def
		saDoc = "Service account of the run (its token is never mounted: the pull request's code runs here)."
	} else {
		spec.DockerConfigSecret = "$(tt.params." + PushSecretParam + ")"
		tt.Spec.Params = append(tt.Spec.Params, triggersv1.ParamSpec{Name: PushSecretParam,
			Description: "kubernetes.io/dockerconfigjson Secret the image push uses (the dockerconfig workspace)."})
	}
	tt.Spec.Params = append(tt.Spec.Params, triggersv1.ParamSpec{Name: ServiceAccountParam, Description: saDoc, Default: saDefault})
	pr := pipeline.Run(spec)
	labels := map[string]string{KindLabel: string(kind), SHALabel: "$(tt.params.revision)", DeliveryLabel: "$(tt.params.delivery)"}
	for k, v := range pr.Labels {
		labels[k] = v
	}
	pr.Labels = labels
	// Annotation-only params of the bindings: untrusted text never reaches
	// a step. Defaults let one template serve both the pull_request and
	// the ChatOps bindings.
	extra := []string{"delivery"}
	ann := map[string]string{}
	if kind == pipeline.PullRequest {
		extra = append(extra, "pr-number", "head-ref", "base-ref", "approved-by")
		pr.Labels[PullRequestLabel] = "$(tt.params.pr-number)"
	} else {
		extra = append(extra, "ref")
	}
	for _, e := range extra[1:] {
		if e != "pr-number" {
			ann["pipewright.dev/"+e] = "$(tt.params." + e + ")"
		}
	}
	pr.Annotations = ann
	sort.Strings(extra[1:])
	for _, e := range extra {
		ps := triggersv1.ParamSpec{Name: e, Description: paramDocs[e]}
		if e == "approved-by" {
			ps.Default = &empty
		}
		tt.Spec.Params = append(tt.Spec.Params, ps)
	}
	raw, err := json.Marshal(pr)
	if err != nil {
		return nil, fmt.Errorf("trigger template %s: %w", p.Name, err)
	}
	tt.Spec.ResourceTemplates = []triggersv1.TriggerResourceTemplate{{RawExtension: runtime.RawExtension{Raw: raw}}}
	return tt, nil
}

// CatalogReadme explains triggers/ and shows an EventListener assembling
// it for one repository, with the checks of a generated listener.
func CatalogReadme(pipelines []*v1.Pipeline) string {
	var b strings.Builder
	b.WriteString(`# GitHub triggers for the catalog pipelines

Generated by ` + "`pipewright catalog`" + `; ` + "`kubectl apply -R -f triggers/`" + ` installs them next to
` + "`tasks/`" + ` and ` + "`pipelines/`" + `. ` + "`pipewright generate`" + ` writes a project's own, complete set instead
(EventListener, RBAC, service accounts, the ChatOps interceptor); use these to wire the catalog by hand.

| Binding | Event | Params |
|---|---|---|
`)
	for _, cb := range catalogBindings {
		var names []string
		for _, p := range cb.params {
			names = append(names, p[0])
		}
		fmt.Fprintf(&b, "| `%s%s` | %s | %s, delivery |\n", CatalogPrefix, cb.name, strings.ReplaceAll(strings.TrimPrefix(cb.name, "github-"), "-", "_"), strings.Join(names, ", "))
	}
	b.WriteString(`
Branch names and titles go to annotation-only params (` + "`head-ref`, `base-ref`, `ref`" + `): no step reads them.
` + "`github-issue-comment`" + ` reads what the pipewright interceptor (` + "`pipewright interceptor serve`" + `) found for a
` + "`/retest` or `/ok-to-test <sha>`" + ` comment, so that trigger needs it in its interceptor chain.

| Template | Params to bind in the EventListener besides the binding's |
|---|---|
`)
	bound := map[string]bool{"repo-url": true, "revision": true, "repo-full-name": true}
	for _, p := range pipelines {
		var own []string
		for _, ps := range p.Spec.Params {
			if ps.Default == nil && !bound[ps.Name] {
				own = append(own, ps.Name)
			}
		}
		if catalogKind(p.Name) == pipeline.Release {
			own = append(own, PushSecretParam, ServiceAccountParam)
		}
		fmt.Fprintf(&b, "| `%s%s` | %s |\n", CatalogPrefix, p.Name, strings.Join(own, ", "))
	}
	b.WriteString(`
Every run is labelled ` + "`" + KindLabel + "`, `" + SHALabel + "`, `" + DeliveryLabel + "`" + ` (and ` + "`" + PullRequestLabel + "`" + `);
pull-request runs get no service-account token and no push credentials.

An EventListener for ` + "`acme/api`" + ` (Go, default branch ` + "`main`" + `), with the checks a generated listener makes:
the signature (HMAC-SHA256 only) with the ` + "`github-webhook`" + ` Secret, the repository, the event's action,
branch and fork trust. Create its service account with Triggers' ` + "`tekton-triggers-eventlistener-roles`" + `
and ` + "`-clusterroles`" + `.

` + "```yaml\n")
	el := CatalogListenerExample("acme/api", "main")
	y, err := tekton.Marshal(el)
	if err != nil {
		panic(err) // literal objects only
	}
	b.Write(y)
	b.WriteString("```\n")
	return b.String()
}

// CatalogListenerExample is the README's EventListener, for a Go service
// api in repository repo.
func CatalogListenerExample(repo, branch string) *triggersv1.EventListener {
	c := &config.Config{}
	c.GitHub.Repository, c.GitHub.DefaultBranch = repo, branch
	bld := builder{c: c, app: "api"}
	ref := func(s string) *string { return &s }
	value := func(name, v string) *triggersv1.EventListenerBinding {
		return &triggersv1.EventListenerBinding{Name: name, Value: ref(v)}
	}
	binding := func(name string) *triggersv1.EventListenerBinding {
		return &triggersv1.EventListenerBinding{Ref: CatalogPrefix + name, Kind: triggersv1.NamespacedTriggerBindingKind}
	}
	c.GitHub.WebhookSecret = "github-webhook"
	return &triggersv1.EventListener{
		TypeMeta:   typeMeta("EventListener"),
		ObjectMeta: metav1.ObjectMeta{Name: "api"},
		Spec: triggersv1.EventListenerSpec{
			ServiceAccountName: "api-triggers",
			Triggers: []triggersv1.EventListenerTrigger{
				{
					Name:         PullRequest,
					Interceptors: []*triggersv1.TriggerInterceptor{bld.githubInterceptor("pull_request"), celInterceptor(PRFilter(c))},
					Bindings:     []*triggersv1.EventListenerBinding{binding("github-pull-request"), value("image", "ghcr.io/acme/api")},
					Template:     &triggersv1.EventListenerTemplate{Ref: ref(CatalogPrefix + "go-pull-request")},
				},
				{
					Name:         Release,
					Interceptors: []*triggersv1.TriggerInterceptor{bld.githubInterceptor("push"), celInterceptor(ReleaseFilter(c))},
					Bindings: []*triggersv1.EventListenerBinding{binding("github-push"), value("image", "ghcr.io/acme/api"),
						value("deployment", "api"), value("container", "api"), value("namespace", "api"),
						value(PushSecretParam, "registry-push"), value(ServiceAccountParam, "api-release")},
					Template: &triggersv1.EventListenerTemplate{Ref: ref(CatalogPrefix + "go-release")},
				},
			},
		},
	}
}
