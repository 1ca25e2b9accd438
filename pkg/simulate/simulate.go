// Package simulate runs a webhook delivery through a project's generated
// Triggers objects offline, with Tekton Triggers' own code: its sink's
// interceptor chain, its core github and cel interceptors, its binding and
// template resolution. pipewright's interceptor runs in-process against a
// GitHub API URL. Nothing is created: the result is the PipelineRuns the
// EventListener would create, or why each trigger did not fire.
package simulate

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pipewright/pipewright/pkg/github"
	"github.com/pipewright/pipewright/pkg/interceptor"
	"github.com/pipewright/pipewright/pkg/tekton"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	triggersv1alpha1 "github.com/tektoncd/triggers/pkg/apis/triggers/v1alpha1"
	triggersv1 "github.com/tektoncd/triggers/pkg/apis/triggers/v1beta1"
	listersv1alpha1 "github.com/tektoncd/triggers/pkg/client/listers/triggers/v1alpha1"
	"github.com/tektoncd/triggers/pkg/interceptors/server"
	"github.com/tektoncd/triggers/pkg/sink"
	"github.com/tektoncd/triggers/pkg/template"
	"go.uber.org/zap"
	"golang.org/x/oauth2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"knative.dev/pkg/apis"
	duckv1 "knative.dev/pkg/apis/duck/v1"
	"sigs.k8s.io/yaml"
)

// Delivery is one webhook delivery.
type Delivery struct {
	Event   string // X-GitHub-Event
	Payload []byte
	// Secret is the webhook secret the EventListener checks signatures
	// with (the generated webhook Secret's value).
	Secret string
	// Signature is the X-Hub-Signature-256 header; computed from Secret
	// when empty, unless Unsigned.
	Signature string
	Unsigned  bool
	// ID is the X-GitHub-Delivery header; a fixed id when empty.
	ID string
}

// Options say where pipewright's interceptor and the github interceptor's
// changed-files lookup reach GitHub.
type Options struct {
	GitHubAPI   string // REST API root; github.DefaultAPIURL when empty
	GitHubToken string // token for those calls; the pipewright interceptor fails without one
	// Cluster holds the PipelineRuns earlier deliveries created; the
	// pipewright interceptor's replay checks look there, and the runs this
	// delivery fires are added. Nil: no cluster, no replay checks.
	Cluster *Cluster
	// KeepRuns is the interceptor's --keep-runs: finished runs kept per kind.
	KeepRuns int
}

// Cluster is the PipelineRuns of a simulated namespace, shared between
// deliveries so a replayed one can be told from a new one.
type Cluster struct {
	mu      sync.Mutex
	Runs    []*v1.PipelineRun
	created int
}

// Exists is interceptor.Runs over the cluster's runs.
func (c *Cluster) Exists(_ context.Context, namespace string, match map[string]string) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.Runs {
		if matches(r, namespace, match) {
			return true, nil
		}
	}
	return false, nil
}

// add creates a run as the API server would: a name from its
// generateName, a creation time after the others'.
func (c *Cluster) add(r *v1.PipelineRun) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.created++
	if r.Name == "" {
		r.Name = fmt.Sprintf("%s%05d", r.GenerateName, c.created)
	}
	r.CreationTimestamp = metav1.NewTime(time.Date(2026, 1, 1, 0, 0, c.created, 0, time.UTC))
	c.Runs = append(c.Runs, r)
}

func matches(r *v1.PipelineRun, namespace string, match map[string]string) bool {
	if r.Namespace != namespace {
		return false
	}
	for k, v := range match {
		if r.Labels[k] != v {
			return false
		}
	}
	return true
}

// Finish marks the named run finished (Succeeded True), as Tekton would.
func (c *Cluster) Finish(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.Runs {
		if r.Name == name {
			r.Status.SetCondition(&apis.Condition{Type: apis.ConditionSucceeded, Status: corev1.ConditionTrue})
		}
	}
}

func finished(r *v1.PipelineRun) bool {
	c := r.Status.GetCondition(apis.ConditionSucceeded)
	return c != nil && !c.IsUnknown()
}

// Cancel is interceptor.Runs: it sets spec.status as the interceptor's
// patch would.
func (c *Cluster) Cancel(_ context.Context, namespace string, match map[string]string) ([]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, r := range c.Runs {
		if matches(r, namespace, match) && !finished(r) && r.Spec.Status == "" {
			r.Spec.Status = interceptor.CancelStatus
			out = append(out, r.Name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// Prune is interceptor.Runs: it deletes the finished runs but the newest keep.
func (c *Cluster) Prune(_ context.Context, namespace string, match map[string]string, keep int) ([]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var done []*v1.PipelineRun
	for _, r := range c.Runs {
		if matches(r, namespace, match) && finished(r) {
			done = append(done, r)
		}
	}
	sort.SliceStable(done, func(i, j int) bool { return done[j].CreationTimestamp.Before(&done[i].CreationTimestamp) })
	var out []string
	for _, r := range done[min(keep, len(done)):] {
		out = append(out, r.Name)
		c.Runs = slices.DeleteFunc(c.Runs, func(x *v1.PipelineRun) bool { return x == r })
	}
	return out, nil
}

// Fired is a PipelineRun a trigger would create.
type Fired struct {
	Trigger     string
	PipelineRun *v1.PipelineRun
}

// Skipped is a trigger that did not fire, and why.
type Skipped struct {
	Trigger string
	Reason  string
}

// Result is what the EventListener would do with a delivery.
type Result struct {
	Fired   []Fired
	Skipped []Skipped
}

// Sign is GitHub's X-Hub-Signature-256 of body with secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Hosts the simulated interceptors answer on; requests never leave the
// process.
const (
	coreHost       = "core-interceptors.simulate"
	pipewrightHost = "pipewright-interceptor.simulate"
)

// Run evaluates d against the triggers in tree (a generated project:
// path -> file, as generator.Project returns it).
func Run(ctx context.Context, tree map[string][]byte, d Delivery, opts Options) (*Result, error) {
	if err := github.CheckSecret(d.Secret); err != nil {
		return nil, err
	}
	objs, err := decode(tree)
	if err != nil {
		return nil, err
	}
	if objs.listener == nil {
		return nil, errors.New("no EventListener in the generated triggers/")
	}
	ns := objs.namespace
	secrets := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	for _, sr := range objs.secretRefs {
		key, val := sr.SecretKey, d.Secret
		if sr.SecretKey == "token" {
			val = opts.GitHubToken
		}
		// Several refs may name one Secret (webhook secret and token).
		obj, exists, _ := secrets.GetByKey(ns + "/" + sr.SecretName)
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: sr.SecretName}, Data: map[string][]byte{}}
		if exists {
			s = obj.(*corev1.Secret)
		}
		s.Data[key] = []byte(val)
		if err := secrets.Add(s); err != nil {
			return nil, err
		}
	}
	logger := zap.NewNop().Sugar()
	core, err := server.NewWithCoreInterceptors(secretGetter{corelisters.NewSecretLister(secrets)}, logger)
	if err != nil {
		return nil, fmt.Errorf("core interceptors: %w", err)
	}
	// Without a token the interceptor decides what needs no GitHub call
	// (pull_request replay checks) and refuses the rest.
	ic := &interceptor.Interceptor{Repositories: objs.repositories, Namespace: ns, KeepRuns: opts.KeepRuns}
	if opts.GitHubToken != "" {
		gh, err := github.New(github.Options{APIURL: opts.GitHubAPI, Token: opts.GitHubToken})
		if err != nil {
			return nil, err
		}
		ic.GitHub = gh
	}
	if opts.Cluster != nil {
		ic.Runs = opts.Cluster
	}
	var pw http.Handler = ic
	api, err := apiRewriter(opts.GitHubAPI)
	if err != nil {
		return nil, err
	}
	transport := inProcess{hosts: map[string]http.Handler{coreHost: core, pipewrightHost: pw}, githubAPI: api}

	cis := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{})
	addresses := map[string]*apis.URL{
		"github": {Scheme: "http", Host: coreHost, Path: "/github"},
		"cel":    {Scheme: "http", Host: coreHost, Path: "/cel"},
	}
	// The project's own ClusterInterceptors are pipewright's.
	for _, name := range objs.interceptors {
		addresses[name] = &apis.URL{Scheme: "http", Host: pipewrightHost, Path: "/"}
	}
	for name, u := range addresses {
		ci := &triggersv1alpha1.ClusterInterceptor{ObjectMeta: metav1.ObjectMeta{Name: name}}
		ci.Status.Address = &duckv1.Addressable{URL: u}
		if err := cis.Add(ci); err != nil {
			return nil, err
		}
	}
	s := sink.Sink{
		HTTPClient:               &http.Client{Transport: transport},
		EventListenerName:        objs.listener.Name,
		EventListenerNamespace:   ns,
		Logger:                   logger,
		ClusterInterceptorLister: listersv1alpha1.NewClusterInterceptorLister(cis),
	}

	header := http.Header{}
	header.Set("Content-Type", "application/json")
	header.Set("X-GitHub-Event", d.Event)
	id := d.ID
	if id == "" {
		id = "00000000-0000-0000-0000-000000000000"
	}
	header.Set("X-GitHub-Delivery", id)
	switch {
	case d.Unsigned:
	case d.Signature != "":
		header.Set("X-Hub-Signature-256", d.Signature)
	default:
		header.Set("X-Hub-Signature-256", Sign(d.Secret, d.Payload))
	}
	req := httptest.NewRequest(http.MethodPost, "http://"+objs.listener.Name+"."+ns+".svc.cluster.local:8080/", bytes.NewReader(d.Payload))
	req.Header = header

	res := &Result{}
	const eventID = "simulated"
	for _, t := range objs.listener.Spec.Triggers {
		skip := func(format string, args ...any) {
			res.Skipped = append(res.Skipped, Skipped{Trigger: t.Name, Reason: fmt.Sprintf(format, args...)})
		}
		body, hdr, resp, err := s.ExecuteInterceptors(t.Interceptors, req, d.Payload, logger, eventID,
			fmt.Sprintf("namespaces/%s/triggers/%s", ns, t.Name), ns, nil)
		if err != nil {
			return nil, fmt.Errorf("trigger %s: %w", t.Name, err)
		}
		if resp != nil && !resp.Continue {
			skip("%s", resp.Status.Message)
			continue
		}
		var ext map[string]any
		if resp != nil {
			ext = resp.Extensions
		}
		rt, err := template.ResolveTrigger(triggersv1.Trigger{Spec: triggersv1.TriggerSpec{Bindings: t.Bindings, Template: *t.Template}},
			objs.getBinding, func(n string) (*triggersv1.ClusterTriggerBinding, error) {
				return nil, fmt.Errorf("ClusterTriggerBinding %s: the generated triggers have none", n)
			}, objs.getTemplate)
		if err != nil {
			return nil, fmt.Errorf("trigger %s: %w", t.Name, err)
		}
		params, err := template.ResolveParams(rt, body, hdr, ext, template.NewTriggerContext(eventID))
		if err != nil {
			// The EventListener logs this and creates nothing.
			skip("binding: %v", err)
			continue
		}
		for i, raw := range template.ResolveResources(rt.TriggerTemplate, params) {
			pr, err := pipelineRun(raw)
			if err != nil {
				return nil, fmt.Errorf("trigger %s: resource %d: %w", t.Name, i, err)
			}
			res.Fired = append(res.Fired, Fired{Trigger: t.Name, PipelineRun: pr})
			if opts.Cluster != nil {
				created := pr.DeepCopy()
				created.Namespace = ns
				opts.Cluster.add(created)
			}
		}
	}
	return res, nil
}

// pipelineRun decodes a resolved resource template strictly and validates
// it as the API server would on create.
func pipelineRun(raw json.RawMessage) (*v1.PipelineRun, error) {
	objs, err := tekton.Decode("resolved template", raw)
	if err != nil {
		return nil, err
	}
	if len(objs) != 1 {
		return nil, fmt.Errorf("want one object, got %d", len(objs))
	}
	if _, ok := objs[0].Obj.(*v1.PipelineRun); !ok {
		return nil, fmt.Errorf("want a tekton.dev/v1 PipelineRun, got %s", objs[0].Kind)
	}
	if err := tekton.Validate(objs[0]); err != nil {
		return nil, err
	}
	// Validate defaulted it; decode again for the run as the template made it.
	objs, _ = tekton.Decode("resolved template", raw)
	return objs[0].Obj.(*v1.PipelineRun), nil
}

type objects struct {
	namespace    string
	interceptors []string // the generated ClusterInterceptors
	repositories []string // what the triggers ask the pipewright interceptor about
	listener     *triggersv1.EventListener
	bindings     map[string]*triggersv1.TriggerBinding
	templates    map[string]*triggersv1.TriggerTemplate
	secretRefs   []triggersv1.SecretRef
}

func (o *objects) getBinding(n string) (*triggersv1.TriggerBinding, error) {
	if b := o.bindings[n]; b != nil {
		return b, nil
	}
	return nil, fmt.Errorf("TriggerBinding %s is not in the generated triggers", n)
}

func (o *objects) getTemplate(n string) (*triggersv1.TriggerTemplate, error) {
	if t := o.templates[n]; t != nil {
		return t, nil
	}
	return nil, fmt.Errorf("TriggerTemplate %s is not in the generated triggers", n)
}

// decode reads the triggers/ objects of a tree, and the namespace from its
// kustomization.
func decode(tree map[string][]byte) (*objects, error) {
	o := &objects{namespace: "default", bindings: map[string]*triggersv1.TriggerBinding{}, templates: map[string]*triggersv1.TriggerTemplate{}}
	var k struct {
		Namespace string `json:"namespace"`
	}
	if data, ok := tree["kustomization.yaml"]; ok {
		if err := yaml.Unmarshal(data, &k); err == nil && k.Namespace != "" {
			o.namespace = k.Namespace
		}
	}
	var files []string
	for p := range tree {
		if strings.HasPrefix(p, "triggers/") && strings.HasSuffix(p, ".yaml") {
			files = append(files, p)
		}
	}
	sort.Strings(files)
	var crds []*triggersv1.Trigger
	for _, f := range files {
		objs, err := tekton.Decode(f, tree[f])
		if err != nil {
			return nil, err
		}
		for _, obj := range objs {
			switch t := obj.Obj.(type) {
			case *triggersv1.EventListener:
				o.listener = t
			case *triggersv1.Trigger:
				crds = append(crds, t)
			case *triggersv1alpha1.ClusterInterceptor:
				o.interceptors = append(o.interceptors, t.Name)
			case *triggersv1.TriggerBinding:
				o.bindings[t.Name] = t
			case *triggersv1.TriggerTemplate:
				o.templates[t.Name] = t
			}
		}
	}
	if o.listener == nil {
		return o, nil
	}
	// Trigger objects the listener's labelSelector selects (a monorepo's,
	// one per service and kind) run as its own triggers do.
	if ls := o.listener.Spec.LabelSelector; ls != nil {
		sel, err := metav1.LabelSelectorAsSelector(ls)
		if err != nil {
			return nil, fmt.Errorf("EventListener %s: labelSelector: %w", o.listener.Name, err)
		}
		for _, t := range crds {
			if sel.Matches(labels.Set(t.Labels)) {
				tmpl := t.Spec.Template
				o.listener.Spec.Triggers = append(o.listener.Spec.Triggers, triggersv1.EventListenerTrigger{
					Name: t.Name, Interceptors: t.Spec.Interceptors, Bindings: t.Spec.Bindings, Template: &tmpl})
			}
		}
	}
	seen := map[triggersv1.SecretRef]bool{}
	for _, tr := range o.listener.Spec.Triggers {
		for _, ic := range tr.Interceptors {
			for _, p := range ic.Params {
				var repo string
				if p.Name == "repository" && json.Unmarshal(p.Value.Raw, &repo) == nil && !slices.Contains(o.repositories, repo) {
					o.repositories = append(o.repositories, repo)
				}
				if p.Name != "secretRef" && p.Name != "addChangedFiles" {
					continue
				}
				var v struct {
					triggersv1.SecretRef
					PersonalAccessToken *triggersv1.SecretRef `json:"personalAccessToken"`
				}
				if err := json.Unmarshal(p.Value.Raw, &v); err != nil {
					return nil, fmt.Errorf("trigger %s: %s: %w", tr.Name, p.Name, err)
				}
				for _, sr := range []*triggersv1.SecretRef{&v.SecretRef, v.PersonalAccessToken} {
					if sr != nil && sr.SecretName != "" && !seen[*sr] {
						seen[*sr] = true
						o.secretRefs = append(o.secretRefs, *sr)
					}
				}
			}
		}
	}
	return o, nil
}

// secretGetter is Triggers' SecretGetter over a lister: the simulation's
// Secrets live in an indexer, not a cluster.
type secretGetter struct{ l corelisters.SecretLister }

func (g secretGetter) Get(_ context.Context, ns string, sr *triggersv1.SecretRef) ([]byte, error) {
	s, err := g.l.Secrets(ns).Get(sr.SecretName)
	if err != nil {
		return nil, err
	}
	v, ok := s.Data[sr.SecretKey]
	if !ok {
		return nil, fmt.Errorf("cannot find %s key in secret %s/%s", sr.SecretKey, ns, sr.SecretName)
	}
	return v, nil
}

// inProcess is an http.RoundTripper that serves the interceptor hosts with
// their handlers. The github interceptor builds its own GitHub client from
// the request context; githubAPI, put there as oauth2's HTTP client, sends
// its calls to the configured API instead of api.github.com.
type inProcess struct {
	hosts     map[string]http.Handler
	githubAPI *http.Client
}

func (t inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	h, ok := t.hosts[req.URL.Host]
	if !ok {
		return nil, fmt.Errorf("simulate: no interceptor at %s", req.URL.Host)
	}
	ctx := context.WithValue(req.Context(), oauth2.HTTPClient, t.githubAPI)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req.WithContext(ctx))
	return rec.Result(), nil
}

// apiRewriter is an HTTP client that sends api.github.com requests to api.
func apiRewriter(api string) (*http.Client, error) {
	if api == "" {
		return http.DefaultClient, nil
	}
	u, err := url.Parse(api)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("github api %q: want an absolute http(s) URL", api)
	}
	return &http.Client{Transport: rewrite{to: u}}, nil
}

type rewrite struct{ to *url.URL }

func (r rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	if req.URL.Host == "api.github.com" {
		req.URL.Scheme, req.URL.Host = r.to.Scheme, r.to.Host
		req.URL.Path = strings.TrimSuffix(r.to.Path, "/") + req.URL.Path
		req.Host = r.to.Host
	}
	return http.DefaultTransport.RoundTrip(req)
}
