package config

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/pipewright/pipewright/generator/buildpack"
	"github.com/pipewright/pipewright/generator/catalog"
	"github.com/pipewright/pipewright/pkg/canary"
	"github.com/pipewright/pipewright/pkg/canary/defaults"
	"github.com/pipewright/pipewright/pkg/glob"
	"github.com/pipewright/pipewright/pkg/images"
	"github.com/pipewright/pipewright/pkg/keys"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
)

// MaxAppName keeps derived names (<app>-pull-request-listener, ...) within
// Kubernetes' 63-character label limit.
const MaxAppName = 40

var (
	repoName   = regexp.MustCompile(`^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$`)
	branchName = regexp.MustCompile(`^[A-Za-z0-9._/-]+$`)
	invalidK8s = regexp.MustCompile(`[^a-z0-9-]+`)
	// resourceRE is a plural resource, then its API group unless core.
	resourceRE = regexp.MustCompile(`^[a-z][a-z0-9]*(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$`)
)

// Packs are the supported build packs, as buildpack lists them.
var Packs = buildpack.Names()

func (l *Loaded) validate() Errors {
	c := l.Config
	var errs Errors
	add := func(e *Error) { errs = append(errs, e) }
	required := func(path, val, hint string) bool {
		if val == "" {
			add(l.Errorf(path, hint, "is required"))
			return false
		}
		return true
	}
	k8sName := func(path, val string, maxLen int) {
		if msgs := validation.IsDNS1123Label(val); len(msgs) > 0 || len(val) > maxLen {
			suggestion := strings.Trim(invalidK8s.ReplaceAllString(strings.ToLower(val), "-"), "-")
			if len(suggestion) > maxLen {
				suggestion = suggestion[:maxLen]
			}
			add(l.Errorf(path, fmt.Sprintf("try %q", suggestion),
				"%q is not a valid Kubernetes name: lowercase letters, digits and '-', starting and ending with a letter or digit, at most %d characters", val, maxLen))
		}
	}
	oneOf := func(path, val string, allowed []string) {
		if val == "" {
			return
		}
		for _, a := range allowed {
			if val == a {
				return
			}
		}
		add(l.Errorf(path, DidYouMean(val, allowed)+" (supported: "+strings.Join(allowed, ", ")+")", "%q is not supported", val))
	}
	duration := func(p, val string) {
		if val == "" {
			return
		}
		if d, err := time.ParseDuration(val); err != nil || d <= 0 {
			add(l.Errorf(p, "write a Go duration such as 30s, 5m or 1h30m", "%q is not a positive duration", val))
		}
	}

	if c.APIVersion != APIVersion {
		if c.APIVersion == "" {
			add(l.Errorf("apiVersion", "add `apiVersion: "+APIVersion+"` at the top", "is required"))
		} else {
			add(l.Errorf("apiVersion", "this pipewright reads "+APIVersion, "unknown config version %q", c.APIVersion))
		}
	}
	if required("app.name", c.App.Name, "name the application, e.g. `name: api`") {
		k8sName("app.name", c.App.Name, MaxAppName)
	}
	if c.App.Namespace != "" {
		k8sName("app.namespace", c.App.Namespace, 63)
	}
	if required("build.pack", c.Build.Pack, "one of "+strings.Join(Packs, ", ")+"; `pipewright init` detects it") {
		oneOf("build.pack", c.Build.Pack, Packs)
	}
	// Every path field is checked one way: relative, and inside the
	// repository once joined to what it is relative to.
	// baseField names what val is relative to, for the message.
	inRepoFrom := func(field, baseField, base, val, hint string) {
		if val == "" {
			return
		}
		switch joined := path.Join(base, val); {
		case path.IsAbs(val) || strings.Contains(val, `\`) || (len(val) > 1 && val[1] == ':'):
			add(l.Errorf(field, hint, "%q is not a relative slash path", val))
		case joined == ".." || strings.HasPrefix(joined, "../"):
			where := "the repository"
			if base != "." {
				where = fmt.Sprintf("the repository (it is relative to %s %q)", baseField, base)
			}
			add(l.Errorf(field, hint, "%q leaves %s", val, where))
		}
	}
	inRepo := func(field, base, val, hint string) { inRepoFrom(field, "build.context", base, val, hint) }
	// pathGlob checks a monorepo path glob: pkg/glob's syntax (what the
	// triggers' CEL matches), no comma, inside the repository.
	pathGlob := func(field, g, hint string) {
		var ge *glob.Error
		if _, err := glob.Compile(g); errors.As(err, &ge) {
			add(l.Errorf(field, ge.Hint, "glob %q: %s", g, ge.Msg))
		} else if strings.Contains(g, ",") {
			// Triggers hands the changed files over as one comma-joined
			// string: a comma in a pattern could never match.
			add(l.Errorf(field, "match the name with ? or * in place of the comma", "glob %q has a comma, which the trigger's changed-files list uses as its separator", g))
		} else {
			inRepo(field, ".", g, hint)
		}
	}
	ctx := c.Build.Context
	if ctx == "" {
		ctx = "."
	}
	if v := c.Build.Version; v != "" && !regexp.MustCompile(`^[0-9]+(\.[0-9]+){0,2}$`).MatchString(v) {
		add(l.Errorf("build.version", "a version such as 1.25.3, 22 or 3.13, without a prefix or range", "%q is not a version", v))
	} else if v != "" && c.Build.Pack == "docker" {
		add(l.Errorf("build.version", "remove it: the Dockerfile names its own base images", "the docker pack runs no toolchain"))
	}
	inRepo("build.context", ".", c.Build.Context, "give a folder inside the repository, e.g. services/api")
	inRepo("image.context", ".", c.Image.Context, "a folder inside the repository, relative to its root, e.g. . for the root itself")
	if c.Image.Context != "" {
		inRepoFrom("image.dockerfile", "image.context", c.Image.Context, c.Image.Dockerfile, "a Dockerfile inside the repository, relative to image.context, e.g. services/api/Dockerfile")
	} else {
		inRepo("image.dockerfile", ctx, c.Image.Dockerfile, "a Dockerfile inside the repository, relative to build.context, e.g. Dockerfile")
	}
	inRepo("deploy.manifests", ctx, c.Deploy.Manifests, "a folder inside the repository, relative to build.context, e.g. k8s")
	if required("image.repository", c.Image.Repository, "e.g. ghcr.io/acme/api") {
		if strings.ContainsAny(c.Image.Repository, "@") || strings.Count(path.Base(c.Image.Repository), ":") > 0 {
			add(l.Errorf("image.repository", "drop the tag or digest: the pipelines choose them", "%q has a tag or digest", c.Image.Repository))
		} else if _, err := name.NewRepository(c.Image.Repository); err != nil {
			add(l.Errorf("image.repository", "e.g. ghcr.io/acme/api", "%q is not an image repository: %v", c.Image.Repository, err))
		}
	}
	if required("github.repository", c.GitHub.Repository, "owner/name, e.g. acme/api") && !repoName.MatchString(c.GitHub.Repository) {
		add(l.Errorf("github.repository", "owner/name, e.g. acme/api", "%q is not owner/name", c.GitHub.Repository))
	}
	if b := c.GitHub.DefaultBranch; b != "" && (!branchName.MatchString(b) || strings.HasPrefix(b, "refs/")) {
		add(l.Errorf("github.defaultBranch", "a branch name such as main, without refs/heads/", "%q is not a branch name", b))
	}
	oneOf("build.cache", c.Build.Cache, []string{"run", "shared"})
	oneOf("build.commands", c.Build.Commands, []string{"toolchain", "make"})
	if c.Build.Commands == "make" && c.Build.Pack != "" && c.Build.Pack != "go" {
		add(l.Errorf("build.commands", "remove it, or run your make targets in a Dockerfile stage", "make runs in the go pack's golang image, the one toolchain image with make; this is the %s pack", c.Build.Pack))
	}
	for _, s := range []struct{ path, val string }{{"github.tokenSecret", c.GitHub.TokenSecret}, {"github.webhookSecret", c.GitHub.WebhookSecret}, {"image.pushSecret", c.Image.PushSecret}} {
		if s.val != "" {
			k8sName(s.path, s.val, 63)
		}
	}
	if a := c.GitHub.App; a != nil {
		if a.ID <= 0 {
			add(l.Errorf("github.app.id", "the App's id from its settings page, e.g. 123456", "is missing or not positive"))
		}
		if a.InstallationID < 0 {
			add(l.Errorf("github.app.installationID", "the installation's id, or leave it out to look it up", "is negative"))
		}
		if a.KeySecret != "" {
			k8sName("github.app.keySecret", a.KeySecret, 63)
		}
	}
	for i, o := range c.GitHub.Owners {
		if !regexp.MustCompile(`^[A-Za-z0-9-]+$`).MatchString(o) {
			add(l.Errorf(fmt.Sprintf("github.owners[%d]", i), "a GitHub login, without @", "%q is not a GitHub login", o))
		}
	}
	oneOf("tasks.from", c.Tasks.From, []string{"embedded", "cluster", "bundle"})
	if c.Tasks.From == "bundle" {
		if !regexp.MustCompile(`@sha256:[0-9a-f]{64}$`).MatchString(c.Tasks.Bundle) {
			add(l.Errorf("tasks.bundle", "push one with `pipewright bundle push` and use the REPO@sha256:... it prints", "tasks from a bundle need the bundle pinned by digest, got %q", c.Tasks.Bundle))
		}
	} else if c.Tasks.Bundle != "" {
		add(l.Errorf("tasks.bundle", "set tasks.from: bundle, or remove tasks.bundle", "is only used with tasks.from: bundle"))
	}
	if u := c.GitHub.RunURL; u != "" {
		rest := strings.NewReplacer("{namespace}", "ns", "{name}", "run").Replace(u)
		if pu, err := url.Parse(rest); err != nil || (pu.Scheme != "https" && pu.Scheme != "http") || pu.Host == "" || strings.ContainsAny(rest, "{}$") {
			add(l.Errorf("github.runURL", "an http(s) URL with {namespace} and {name}, e.g. https://dashboard.example.com/#/namespaces/{namespace}/pipelineruns/{name}", "%q is not a run URL", u))
		}
	}
	for i, p := range c.Paths {
		pathGlob(fmt.Sprintf("paths[%d]", i), p, "a glob of repository paths, such as services/api/**")
	}

	seenSvc := map[string]int{}
	for i, sv := range c.Services {
		p := fmt.Sprintf("services[%d]", i)
		if required(p+".name", sv.Name, "name the service, e.g. `name: api`") {
			k8sName(p+".name", sv.Name, MaxAppName)
			if j, dup := seenSvc[sv.Name]; dup {
				add(l.Errorf(p+".name", fmt.Sprintf("services[%d] has it already", j), "service %q appears twice", sv.Name))
			}
			seenSvc[sv.Name] = i
		}
		if required(p+".context", sv.Context, "the service's folder, e.g. services/api") {
			inRepo(p+".context", ".", sv.Context, "give a folder inside the repository, e.g. services/api")
		}
		oneOf(p+".pack", sv.Pack, Packs)
		inRepo(p+".imageContext", ".", sv.ImageContext, "a folder inside the repository, relative to its root, e.g. . for the root itself")
		switch {
		case sv.ImageContext != "":
			inRepoFrom(p+".dockerfile", "its imageContext", sv.ImageContext, sv.Dockerfile, "a Dockerfile inside the repository, relative to the service's imageContext")
		case c.Image.Context != "":
			inRepoFrom(p+".dockerfile", "image.context", c.Image.Context, sv.Dockerfile, "a Dockerfile inside the repository, relative to image.context")
		default:
			inRepoFrom(p+".dockerfile", "its context", sv.Context, sv.Dockerfile, "a Dockerfile inside the repository, relative to the service's context")
		}
		inRepo(p+".manifests", sv.Context, sv.Manifests, "a folder inside the repository, relative to the service's context")
		for j, g := range sv.Paths {
			pathGlob(fmt.Sprintf("%s.paths[%d]", p, j), g, "a glob of repository paths, such as libs/shared/**")
		}
	}

	d := c.Deploy
	oneOf("deploy.strategy", d.Strategy, []string{"rolling", "canary"})
	for _, s := range []struct{ path, val string }{{"deploy.deployment", d.Deployment}, {"deploy.container", d.Container}, {"deploy.namespace", d.Namespace}, {"deploy.canary.route", d.Canary.Route}} {
		if s.val != "" {
			k8sName(s.path, s.val, 63)
		}
	}
	for i, r := range d.Resources {
		if !resourceRE.MatchString(r) {
			add(l.Errorf(fmt.Sprintf("deploy.resources[%d]", i), "RESOURCE.GROUP in lowercase, e.g. httproutes.gateway.networking.k8s.io, or a core resource such as serviceaccounts", "%.40q is not an API resource name (no wildcards)", r))
		}
	}
	cn := d.Canary
	for i, w := range cn.Steps {
		p := fmt.Sprintf("deploy.canary.steps[%d]", i)
		if w <= 0 || w > 100 {
			add(l.Errorf(p, "percentages from 1 to 100", "%d is not a traffic percentage", w))
		} else if i > 0 && w <= cn.Steps[i-1] {
			add(l.Errorf(p, "list growing weights, e.g. [10, 25, 50, 100]", "%d does not grow from the step before (%d)", w, cn.Steps[i-1]))
		}
	}
	if n := len(cn.Steps); n > 0 && cn.Steps[n-1] != 100 {
		add(l.Errorf(fmt.Sprintf("deploy.canary.steps[%d]", n-1), "end the list with 100", "the last step must send all traffic (100), not %d", cn.Steps[n-1]))
	}
	duration("deploy.canary.interval", cn.Interval)
	duration("deploy.canary.latencyP99", cn.LatencyP99)
	if cn.Samples < 0 {
		add(l.Errorf("deploy.canary.samples", "at least 1", "%d samples", cn.Samples))
	}
	if _, set := l.pos["deploy.canary.failureLimit"]; set && cn.FailureLimit < 1 {
		// The limit counts the failures that roll back, so 1 is the
		// strictest; an explicit 0 must not turn into the default 2.
		add(l.Errorf("deploy.canary.failureLimit", "1 rolls back at the first failing sample", "%d: the failure limit counts the failing samples that roll back, at least 1", cn.FailureLimit))
	}
	if cn.SuccessRate < 0 || cn.SuccessRate > 100 {
		add(l.Errorf("deploy.canary.successRate", "a percentage such as 99 or 99.9", "%v is not a percentage", cn.SuccessRate))
	}
	if cn.Prometheus != "" {
		if err := canary.CheckPrometheusURL(cn.Prometheus); err != nil {
			add(l.Errorf("deploy.canary.prometheus", "a base URL such as "+defaults.Prometheus, "%v", err))
		}
	}
	if n := cn.ConsecutiveErrorLimit; n != nil && *n < 1 {
		add(l.Errorf("deploy.canary.consecutiveErrorLimit", "1 tolerates one query error in a row", "%d: at least 1", *n))
	}
	for i, m := range cn.Metrics {
		spec := canary.MetricSpec{Name: m.Name, Query: m.Query, Threshold: m.Threshold, Direction: m.Direction, Interval: m.Interval, Unit: m.Unit}
		if _, err := spec.Metric(); err != nil {
			add(l.Errorf(fmt.Sprintf("deploy.canary.metrics[%d]", i), "see pipewright canary --help for the query's variables", "%v", err))
		}
	}
	for i, h := range cn.Webhooks {
		spec := canary.WebhookSpec{Name: h.Name, Type: h.Type, URL: h.URL, Timeout: h.Timeout, Metadata: h.Metadata}
		if _, err := spec.Webhook(); err != nil {
			add(l.Errorf(fmt.Sprintf("deploy.canary.webhooks[%d]", i), "type pre-rollout, rollout or confirm-promotion and an http(s) url", "%v", err))
		}
	}
	oneOf("deploy.canary.traffic", cn.Traffic, []string{"gateway-api", "smi"})
	oneOf("deploy.canary.controller", cn.Controller, []string{"pipewright", "flagger", "argo-rollouts"})
	duration("deploy.canary.deadline", cn.Deadline)

	oneOf("image.builder", c.Image.Builder, []string{"dockerfile", "go-image"})
	if c.Image.Builder == "go-image" && c.Build.Pack != "" && c.Build.Pack != "go" {
		add(l.Errorf("image.builder", "use builder: dockerfile for the "+c.Build.Pack+" pack", "go-image builds Go main packages; this is the %s pack", c.Build.Pack))
	}
	if c.Image.Context != "" && c.Image.Builder == "go-image" {
		add(l.Errorf("image.context", "remove it: go-image builds image.package from build.context, without a Dockerfile", "is for the dockerfile builder"))
	}
	if p := c.Image.Package; p != "" && (path.IsAbs(p) || p == ".." || strings.HasPrefix(p, "../") || strings.Contains(p, "/../")) {
		add(l.Errorf("image.package", "a package path inside build.context, e.g. ./cmd/api", "%q leaves build.context", p))
	} else if p != "" && p != "." && !strings.HasPrefix(p, "./") {
		// go build reads cmd/api as a standard-library path, and -x as a flag.
		add(l.Errorf("image.package", "write it relative to build.context: ./"+strings.TrimLeft(p, "-/"), "%q is not a relative package path", p))
	}
	for i, p := range c.Image.Platforms {
		if !regexp.MustCompile(`^[a-z0-9]+/[a-z0-9]+(/v[0-9]+)?$`).MatchString(p) {
			add(l.Errorf(fmt.Sprintf("image.platforms[%d]", i), "os/arch such as linux/amd64 or linux/arm64", "%q is not a platform", p))
		}
	}
	pinned := func(p, val, hint string) {
		if val == "" {
			add(l.Errorf(p, hint, "is empty: want an image pinned by digest (REPO@sha256:<64 hex>)"))
		} else if _, err := name.NewDigest(val); err != nil {
			add(l.Errorf(p, hint, "%q is not an image pinned by digest (REPO@sha256:<64 hex>): %v", val, err))
		}
	}
	pinnedRef := func(p, val, hint string) {
		if val != "" {
			pinned(p, val, hint)
		}
	}
	pinnedRef("image.base", c.Image.Base, "pin the base by digest, e.g. gcr.io/distroless/static@sha256:...")
	toolHint := "build and push the pipewright tool image with `pipewright image build --image REPO --platform linux/amd64,linux/arm64 ./cmd/pipewright` and set tools.image to the REPO@sha256:... it prints"
	pinnedRef("tools.image", c.Tools.Image, toolHint)
	if c.Tools.Image == "" {
		if c.Image.Builder == "go-image" {
			add(l.Errorf("image.builder", "set tools.image: "+toolHint, "go-image runs pipewright in the build step and needs tools.image"))
		}
		if d.Strategy == "canary" && !d.Disabled {
			add(l.Errorf("deploy.strategy", "set tools.image: "+toolHint, "the canary deploy runs pipewright in its step and needs tools.image"))
		}
		if c.GitHub.App != nil {
			add(l.Errorf("github.app", "set tools.image: "+toolHint, "the check runs are written by pipewright in a step and need tools.image"))
		}
	}

	names := make([]string, 0, len(c.Images))
	for n := range c.Images {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if _, ok := images.Lookup(n); !ok {
			add(l.Errorf("images."+n, catalog.KnownImagesHint(n), "no catalog image %q", n))
			continue
		}
		pinned("images."+n, c.Images[n], catalog.PinnedHint(n))
	}

	for task, o := range c.Overrides {
		p := "overrides." + task
		duration(p+".timeout", o.Timeout)
		for _, q := range []struct{ path, val string }{{p + ".cpu", o.CPU}, {p + ".memory", o.Memory}} {
			if q.val == "" {
				continue
			}
			if _, err := resource.ParseQuantity(q.val); err != nil {
				add(l.Errorf(q.path, "a Kubernetes quantity such as 500m, 2, 512Mi or 2Gi", "%q is not a quantity", q.val))
			}
		}
	}
	return errs
}

// applyDefaults fills what the user left out.
func (c *Config) applyDefaults() {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.App.Namespace, "default")
	def(&c.Build.Context, ".")
	if c.Image.Context != "" {
		// The Dockerfile stays the project's own; only the context moves.
		def(&c.Image.Dockerfile, relSlash(c.Image.Context, path.Join(c.Build.Context, "Dockerfile")))
	}
	def(&c.Image.Dockerfile, "Dockerfile")
	def(&c.Deploy.Manifests, "k8s")
	def(&c.Deploy.Deployment, c.App.Name)
	def(&c.Deploy.Container, c.App.Name)
	def(&c.Deploy.Namespace, c.App.Namespace)
	def(&c.Deploy.Strategy, "rolling")
	cn := &c.Deploy.Canary
	if len(cn.Steps) == 0 {
		cn.Steps = defaults.Steps()
	}
	def(&cn.Interval, defaults.FormatDuration(defaults.Interval))
	if cn.Samples == 0 {
		cn.Samples = defaults.Samples
	}
	if cn.FailureLimit == 0 {
		cn.FailureLimit = defaults.FailureLimit
	}
	if cn.SuccessRate == 0 {
		cn.SuccessRate = defaults.SuccessRate
	}
	def(&cn.LatencyP99, defaults.FormatDuration(defaults.LatencyP99))
	def(&cn.Prometheus, defaults.Prometheus)
	def(&cn.Traffic, "gateway-api")
	def(&cn.Route, c.App.Name)
	def(&cn.Controller, defaults.StrategyPipewright)
	if cn.Controller == defaults.StrategyPipewright {
		def(&cn.Deadline, defaults.FormatDuration(defaults.Deadline))
	}
	// Flagger's and Argo's own analysis usually takes longer than a
	// Deployment takes to become available.
	def(&cn.Deadline, defaults.FormatDuration(defaults.VerdictDeadline))
	def(&c.Image.Builder, "dockerfile")
	def(&c.Image.PushSecret, c.App.Name+"-registry")
	def(&c.Build.Cache, "run")
	def(&c.Build.Commands, "toolchain")
	def(&c.Image.Package, ".")
	if len(c.Image.Platforms) == 0 {
		c.Image.Platforms = []string{"linux/amd64"}
	}
	def(&c.GitHub.DefaultBranch, "main")
	def(&c.GitHub.APIURL, keys.GitHubAPIURL)
	def(&c.GitHub.StatusContext, "pipewright/"+c.App.Name)
	def(&c.GitHub.TokenSecret, "github-token")
	def(&c.GitHub.WebhookSecret, "github-webhook")
	if c.GitHub.App != nil {
		def(&c.GitHub.App.KeySecret, "github-app")
	}
	def(&c.Tasks.From, "embedded")
}
