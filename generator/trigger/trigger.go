// Package trigger builds a project's Tekton Triggers objects: the
// EventListener with its pull-request, ChatOps and release triggers, their
// bindings and templates, the RBAC the listener needs, and (for ChatOps) the
// project's pipewright ClusterInterceptor with what runs it. The same
// objects are what `pipewright simulate` evaluates.
package trigger

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/pipewright/pipewright/generator/config"
	"github.com/pipewright/pipewright/generator/pipeline"
	"github.com/pipewright/pipewright/pkg/glob"
	"github.com/pipewright/pipewright/pkg/interceptor"
	"github.com/pipewright/pipewright/pkg/keys"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	triggersv1 "github.com/tektoncd/triggers/pkg/apis/triggers/v1beta1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Trigger names in the EventListener.
const (
	PullRequest = "pull-request"
	ChatOps     = "chatops"
	Release     = "release"
)

// Annotations carry the payload's untrusted text: branch names reach the
// PipelineRun only here, never as a param a step could read.
const (
	HeadRefAnnotation = keys.HeadRef
	BaseRefAnnotation = keys.BaseRef
	EventAnnotation   = keys.Event
	// ApprovedByAnnotation is who started a ChatOps run (/retest,
	// /ok-to-test) and why they were trusted.
	ApprovedByAnnotation = keys.ApprovedBy
)

// Labels on every run, so that a project's runs, a pull request's runs and
// a delivery's run can be found (replay checks, cancelling, pruning).
// The interceptor reads them, so they are defined there.
const (
	RepositoryLabel  = interceptor.RepositoryLabel
	KindLabel        = interceptor.KindLabel
	SHALabel         = interceptor.SHALabel
	PullRequestLabel = interceptor.PullRequestLabel
	DeliveryLabel    = interceptor.DeliveryLabel
	PayloadLabel     = interceptor.PayloadLabel
)

// zeroSHA is the "after" of a push that deletes a ref.
const zeroSHA = "0000000000000000000000000000000000000000"

// templateParams are the TriggerTemplate params of each pipeline kind: the
// pipeline params bound from the event, then the annotation-only ones.
var templateParams = map[pipeline.Kind]struct{ run, annotations []string }{
	pipeline.PullRequest: {run: []string{keys.ParamRepoURL, keys.ParamRevision, keys.ParamRepoFullName, keys.ParamPRNumber}, annotations: []string{"head-ref", "base-ref"}},
	pipeline.Release:     {run: []string{keys.ParamRepoURL, keys.ParamRevision, keys.ParamRepoFullName}, annotations: []string{"ref"}},
}

// runLabels are the labels a template puts on its run from its params:
// label -> param. The delivery's payload hash comes from the pipewright
// interceptor, so only projects with it (HasChatOps) get that label.
func runLabels(c *config.Config, kind pipeline.Kind) map[string]string {
	l := map[string]string{SHALabel: keys.ParamRevision, DeliveryLabel: "delivery"}
	if kind == pipeline.PullRequest {
		l[PullRequestLabel] = keys.ParamPRNumber
	}
	if HasChatOps(c) {
		l[PayloadLabel] = "payload"
	}
	return l
}

// RepositoryLabelValue is the configured repository as a label value.
func RepositoryLabelValue(c *config.Config) string {
	return interceptor.RepositoryLabelValue(c.GitHub.Repository)
}

// RunParams is what a TriggerTemplate passes to its PipelineRun: each bound
// pipeline param as $(tt.params.NAME).
func RunParams(kind pipeline.Kind) map[string]string {
	out := map[string]string{}
	for _, p := range templateParams[kind].run {
		out[p] = "$(tt.params." + p + ")"
	}
	return out
}

// Object is one generated object and the file it goes to.
type Object struct {
	File string
	Obj  any
}

// Build returns the triggers objects of a project; runs are its PipelineRun
// templates made with RunParams, by pipeline kind.
func Build(c *config.Config, runs map[pipeline.Kind]*v1.PipelineRun) ([]Object, error) {
	b := builder{c: c, app: c.App.Name}
	var out []Object
	for _, kind := range []pipeline.Kind{pipeline.PullRequest, pipeline.Release} {
		tt, err := b.template(kind, runs[kind])
		if err != nil {
			return nil, err
		}
		out = append(out, Object{File: "triggers/template-" + string(kind) + ".yaml", Obj: tt})
	}
	filters, err := pathRegexps(c.Paths)
	if err != nil {
		return nil, err
	}
	out = append(out,
		Object{File: "triggers/binding-pull-request.yaml", Obj: b.binding("pull-request", prBindings)},
		Object{File: "triggers/binding-push.yaml", Obj: b.binding("push", pushBindings)},
		Object{File: "triggers/eventlistener.yaml", Obj: b.listener(filters)},
	)
	if HasChatOps(c) {
		out = append(out, Object{File: "triggers/binding-chatops.yaml", Obj: b.binding("chatops", chatopsBindings)})
		out = append(out, b.interceptor()...)
	}
	out = append(out, b.rbac()...)
	return out, nil
}

type builder struct {
	c   *config.Config
	app string
}

func (b builder) meta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Labels: map[string]string{
		"app.kubernetes.io/managed-by": "pipewright", "app.kubernetes.io/part-of": b.app}}
}

func typeMeta(kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: "triggers.tekton.dev/v1beta1", Kind: kind}
}

// template wraps a PipelineRun template in a TriggerTemplate, with the
// untrusted refs as annotations.
func (b builder) template(kind pipeline.Kind, run *v1.PipelineRun) (*triggersv1.TriggerTemplate, error) {
	if run == nil {
		return nil, fmt.Errorf("trigger template %s: no PipelineRun template", kind)
	}
	run = run.DeepCopy()
	tp := templateParams[kind]
	ann := map[string]string{EventAnnotation: "push"}
	if kind == pipeline.PullRequest {
		ann[EventAnnotation] = "pull_request"
	}
	for _, a := range tp.annotations {
		ann[keys.Prefix+a] = "$(tt.params." + a + ")"
	}
	if kind == pipeline.PullRequest && HasChatOps(b.c) {
		ann[ApprovedByAnnotation] = "$(tt.params.approved-by)"
	}
	run.Annotations = ann
	labels := map[string]string{}
	for k, v := range run.Labels {
		labels[k] = v
	}
	labels[RepositoryLabel] = RepositoryLabelValue(b.c)
	labels[KindLabel] = string(kind)
	extra := []string{}
	for l, p := range runLabels(b.c, kind) {
		labels[l] = "$(tt.params." + p + ")"
		if !slices.Contains(tp.run, p) {
			extra = append(extra, p)
		}
	}
	sort.Strings(extra)
	run.Labels = labels
	if kind == pipeline.PullRequest {
		// PR runs execute the PR's code: no step may get a Kubernetes API
		// token it could use against the cluster. The run template says
		// so itself (runs/pull-request.yaml is the same run).
		if pt := run.Spec.TaskRunTemplate.PodTemplate; pt == nil || pt.AutomountServiceAccountToken == nil || *pt.AutomountServiceAccountToken {
			return nil, fmt.Errorf("trigger template %s: the PipelineRun template mounts a service-account token (a pipewright bug)", kind)
		}
	}
	raw, err := json.Marshal(run)
	if err != nil {
		return nil, fmt.Errorf("trigger template %s: %w", kind, err)
	}
	tt := &triggersv1.TriggerTemplate{TypeMeta: typeMeta("TriggerTemplate"), ObjectMeta: b.meta(b.app + "-" + string(kind))}
	for _, p := range append(append(append([]string{}, tp.run...), tp.annotations...), extra...) {
		tt.Spec.Params = append(tt.Spec.Params, triggersv1.ParamSpec{Name: p, Description: paramDocs[p]})
	}
	if kind == pipeline.PullRequest && HasChatOps(b.c) {
		// Only the ChatOps binding has an approver; a pull_request event's
		// run was approved by nobody.
		none := ""
		tt.Spec.Params = append(tt.Spec.Params, triggersv1.ParamSpec{Name: "approved-by", Description: paramDocs["approved-by"], Default: &none})
	}
	tt.Spec.ResourceTemplates = []triggersv1.TriggerResourceTemplate{{RawExtension: runtime.RawExtension{Raw: raw}}}
	return tt, nil
}

var paramDocs = map[string]string{
	keys.ParamRepoURL:      "Repository URL to clone.",
	keys.ParamRevision:     "Commit sha to build.",
	keys.ParamRepoFullName: "owner/name on GitHub.",
	keys.ParamPRNumber:     "Pull request number.",
	"head-ref":             "PR head branch (untrusted text: annotation only).",
	"base-ref":             "PR base branch (annotation only).",
	"ref":                  "Pushed ref (annotation only).",
	"delivery":             "X-GitHub-Delivery id (label " + DeliveryLabel + ").",
	"payload":              "SHA-256 of the signed payload, from the pipewright interceptor (label " + PayloadLabel + ").",
	"approved-by":          "Who approved a ChatOps run, and why they are trusted (annotation only).",
}

// The bindings read only fields GitHub controls the form of (shas, numbers,
// repository names and URLs) into run params; branch names go to
// annotation-only params.
var (
	prBindings = [][2]string{
		{keys.ParamRepoURL, "$(body.repository.clone_url)"},
		{keys.ParamRevision, "$(body.pull_request.head.sha)"},
		{keys.ParamRepoFullName, "$(body.repository.full_name)"},
		{keys.ParamPRNumber, "$(body.pull_request.number)"},
		{"head-ref", "$(body.pull_request.head.ref)"},
		{"base-ref", "$(body.pull_request.base.ref)"},
	}
	// The comment payload has no sha: the pipewright interceptor looked up
	// the PR and put what it found in extensions.
	chatopsBindings = [][2]string{
		{keys.ParamRepoURL, "$(extensions.clone_url)"},
		{keys.ParamRevision, "$(extensions.head_sha)"},
		{keys.ParamRepoFullName, "$(extensions.repo_full_name)"},
		{keys.ParamPRNumber, "$(extensions.pr_number)"},
		{"head-ref", "$(extensions.head_ref)"},
		{"base-ref", "$(extensions.base_ref)"},
	}
	pushBindings = [][2]string{
		{keys.ParamRepoURL, "$(body.repository.clone_url)"},
		{keys.ParamRevision, "$(body.after)"},
		{keys.ParamRepoFullName, "$(body.repository.full_name)"},
		{"ref", "$(body.ref)"},
	}
)

func (b builder) binding(name string, params [][2]string) *triggersv1.TriggerBinding {
	tb := &triggersv1.TriggerBinding{TypeMeta: typeMeta("TriggerBinding"), ObjectMeta: b.meta(b.app + "-" + name)}
	params = append(params, [2]string{"delivery", "$(header.X-GitHub-Delivery)"})
	if HasChatOps(b.c) {
		params = append(params, [2]string{"payload", "$(extensions.payload_sha)"})
	}
	if name == "chatops" {
		params = append(params, [2]string{"approved-by", "$(extensions.approved_by) ($(extensions.trusted_by))"})
	}
	for _, p := range params {
		tb.Spec.Params = append(tb.Spec.Params, triggersv1.Param{Name: p[0], Value: p[1]})
	}
	return tb
}

func param(name string, v any) triggersv1.InterceptorParams {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("interceptor param %s: %v", name, err)) // only literal Go values reach here
	}
	return triggersv1.InterceptorParams{Name: name, Value: apiextensionsv1.JSON{Raw: raw}}
}

// githubInterceptor checks the delivery's signature and event type.
func (b builder) githubInterceptor(event string) *triggersv1.TriggerInterceptor {
	return &triggersv1.TriggerInterceptor{
		Ref: triggersv1.InterceptorRef{Name: "github", Kind: triggersv1.ClusterInterceptorKind},
		Params: []triggersv1.InterceptorParams{
			param("secretRef", triggersv1.SecretRef{SecretName: b.c.GitHub.WebhookSecret, SecretKey: "secret"}),
			param("eventTypes", []string{event}),
		},
	}
}

// changedFiles is the github interceptor again, after the filters, listing
// a pull request's changed files (GitHub's PR files API) in
// extensions.changed_files, joined with commas. It comes after the filters
// so that GitHub is asked (with the token) only about the configured
// repository. Only projects without the pipewright interceptor use it:
// with it, the interceptor lists the files itself, each name whole.
func (b builder) changedFiles() *triggersv1.TriggerInterceptor {
	// The token makes it work for private repositories and lifts the
	// anonymous rate limit.
	return &triggersv1.TriggerInterceptor{
		Ref: triggersv1.InterceptorRef{Name: "github", Kind: triggersv1.ClusterInterceptorKind},
		Params: []triggersv1.InterceptorParams{param("addChangedFiles", map[string]any{
			"enabled":             true,
			"personalAccessToken": triggersv1.SecretRef{SecretName: b.c.GitHub.TokenSecret, SecretKey: "token"},
		})},
	}
}

func celInterceptor(filter string) *triggersv1.TriggerInterceptor {
	return &triggersv1.TriggerInterceptor{
		Ref:    triggersv1.InterceptorRef{Name: "cel", Kind: triggersv1.ClusterInterceptorKind},
		Params: []triggersv1.InterceptorParams{param("filter", filter)},
	}
}

// celList renders strings as a CEL list literal.
func celList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = celString(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// celString quotes s as a CEL string literal (JSON escapes are valid CEL).
func celString(s string) string {
	j, _ := json.Marshal(s)
	return string(j)
}

// TrustedAssociations are the author_association values GitHub gives
// people with rights on the repository.
var TrustedAssociations = []string{"OWNER", "MEMBER", "COLLABORATOR"}

// Guard is the part of every trigger's CEL filter that the github
// interceptor before it does not check: the delivery is about the
// configured repository (a secret shared with another repository, or an
// organisation webhook, must not build, push or deploy another
// repository's code), and it is signed with HMAC-SHA256 (Triggers'
// interceptor takes the algorithm from the header's prefix and accepts
// sha1= and sha512= too). Repository names compare case-insensitively, as
// GitHub's do.
func Guard(c *config.Config) string {
	return "body.repository.full_name.lowerAscii() == " + celString(strings.ToLower(c.GitHub.Repository)) +
		" && header['X-Hub-Signature-256'][0].startsWith('sha256=')"
}

// PRFilter is the pull-request trigger's CEL filter.
func PRFilter(c *config.Config) string {
	conds := []string{
		Guard(c),
		"body.action in " + celList([]string{"opened", "synchronize", "reopened", "ready_for_review"}),
		"body.pull_request.base.ref == " + celString(c.GitHub.DefaultBranch),
	}
	if !c.GitHub.Drafts {
		conds = append(conds, "!body.pull_request.draft")
	}
	// Fork safety: a PR from another repository runs with the pipeline's
	// secrets only when its author is trusted; others wait for /ok-to-test.
	trusted := []string{
		"body.pull_request.head.repo.full_name == body.pull_request.base.repo.full_name",
		"body.pull_request.author_association in " + celList(TrustedAssociations),
	}
	if len(c.GitHub.Owners) > 0 {
		trusted = append(trusted, "body.pull_request.user.login in "+celList(c.GitHub.Owners))
	}
	conds = append(conds, "("+strings.Join(trusted, " || ")+")")
	return strings.Join(conds, " && ")
}

// ChatOpsFilter lets only PR comments that are commands reach the pipewright
// interceptor (which makes GitHub API calls).
func ChatOpsFilter(c *config.Config) string {
	return Guard(c) + ` && body.action == 'created' && has(body.issue.pull_request) && body.comment.body.matches('(?m)^\\s*/(retest|ok-to-test|test|cancel)\\b')`
}

// ReleaseFilter is the release trigger's CEL filter: a branch update (not a
// deletion, not a tag) of the default branch.
func ReleaseFilter(c *config.Config) string {
	return Guard(c) + fmt.Sprintf(" && body.ref == %s && !body.deleted && body.after != '%s'", celString("refs/heads/"+c.GitHub.DefaultBranch), zeroSHA)
}

// PathFilter is the CEL condition on the changed files the github
// interceptor's addChangedFiles put in extensions.changed_files, a
// comma-joined string: a file whose name has a comma is split in two, so
// projects with the pipewright interceptor decide pull requests' paths
// there instead (Params.Paths).
func PathFilter(res []string) string {
	return "extensions.changed_files.split(',').exists(f, " + orMatches("f", res) + ")"
}

// PushPathFilter is the CEL condition on the files a push's commits add,
// modify or remove, read from the payload's lists, where each name is
// whole (commas included).
func PushPathFilter(res []string) string {
	m := orMatches("f", res)
	return "body.commits.exists(c, c.added.exists(f, " + m + ") || c.modified.exists(f, " + m + ") || c.removed.exists(f, " + m + "))"
}

func orMatches(v string, res []string) string {
	var parts []string
	for _, re := range res {
		parts = append(parts, v+".matches("+celString(re)+")")
	}
	return strings.Join(parts, " || ")
}

// pathRegexps turns the config's path globs into the anchored regular
// expressions CEL matches the changed files with (pkg/glob, the one glob).
func pathRegexps(globs []string) ([]string, error) {
	var out []string
	for i, g := range globs {
		p, err := glob.Compile(g)
		if err != nil {
			return nil, fmt.Errorf("paths[%d]: %w", i, err)
		}
		out = append(out, p.Regexp())
	}
	return out, nil
}

func (b builder) listener(paths []string) *triggersv1.EventListener {
	ref := func(s string) *string { return &s }
	binding := func(name string) []*triggersv1.EventListenerBinding {
		return []*triggersv1.EventListenerBinding{{Ref: b.app + "-" + name, Kind: triggersv1.NamespacedTriggerBindingKind}}
	}
	chatParams := []triggersv1.InterceptorParams{
		param("repository", b.c.GitHub.Repository),
		param("defaultBranch", b.c.GitHub.DefaultBranch),
	}
	if len(b.c.GitHub.Owners) > 0 {
		chatParams = append(chatParams, param("owners", b.c.GitHub.Owners))
	}
	// What /test <pipeline> may name: the one pull-request pipeline.
	chatParams = append(chatParams, param("pipelines", []string{b.app + "-" + string(pipeline.PullRequest)}))
	// With the pipewright interceptor installed, every chain ends with it:
	// replay checks against earlier runs and, for releases, the branch
	// head (GitHub), after the cheap filters.
	pipewright := func(ics []*triggersv1.TriggerInterceptor, extra ...triggersv1.InterceptorParams) []*triggersv1.TriggerInterceptor {
		if !HasChatOps(b.c) {
			return ics
		}
		params := append(slices.Clone(chatParams), extra...)
		return append(ics, &triggersv1.TriggerInterceptor{Ref: triggersv1.InterceptorRef{Name: InterceptorName(b.c), Kind: triggersv1.ClusterInterceptorKind}, Params: params})
	}
	prICs := []*triggersv1.TriggerInterceptor{b.githubInterceptor("pull_request"), celInterceptor(PRFilter(b.c))}
	switch {
	case len(paths) > 0 && HasChatOps(b.c):
		// The pipewright interceptor lists the PR's files and matches
		// the globs itself: each name whole.
		prICs = pipewright(prICs, param("paths", b.c.Paths))
	case len(paths) > 0:
		prICs = append(prICs, b.changedFiles(), celInterceptor(PathFilter(paths)))
	default:
		prICs = pipewright(prICs)
	}
	triggers := []triggersv1.EventListenerTrigger{{
		Name:         PullRequest,
		Interceptors: prICs,
		Bindings:     binding("pull-request"),
		Template:     &triggersv1.EventListenerTemplate{Ref: ref(b.app + "-pull-request")},
	}}
	if HasChatOps(b.c) {
		// /retest and /ok-to-test honour paths as the push did.
		var chatPaths []triggersv1.InterceptorParams
		if len(paths) > 0 {
			chatPaths = append(chatPaths, param("paths", b.c.Paths))
		}
		triggers = append(triggers, triggersv1.EventListenerTrigger{
			Name: ChatOps,
			Interceptors: pipewright([]*triggersv1.TriggerInterceptor{
				b.githubInterceptor("issue_comment"),
				celInterceptor(ChatOpsFilter(b.c)),
			}, chatPaths...),
			Bindings: binding("chatops"),
			Template: &triggersv1.EventListenerTemplate{Ref: ref(b.app + "-pull-request")},
		})
	}
	// Releases honour paths too: a push that touches only another
	// service's folder does not release this one.
	releaseICs := []*triggersv1.TriggerInterceptor{b.githubInterceptor("push"), celInterceptor(ReleaseFilter(b.c))}
	if len(paths) > 0 {
		releaseICs = append(releaseICs, celInterceptor(PushPathFilter(paths)))
	}
	releaseICs = pipewright(releaseICs)
	triggers = append(triggers, triggersv1.EventListenerTrigger{
		Name:         Release,
		Interceptors: releaseICs,
		Bindings:     binding("push"),
		Template:     &triggersv1.EventListenerTemplate{Ref: ref(b.app + "-release")},
	})
	return &triggersv1.EventListener{
		TypeMeta:   typeMeta("EventListener"),
		ObjectMeta: b.meta(ListenerName(b.c)),
		Spec:       triggersv1.EventListenerSpec{ServiceAccountName: b.serviceAccount(), Triggers: triggers},
	}
}

func (b builder) serviceAccount() string { return b.app + "-triggers" }

// rbac is what the EventListener's service account needs, a subset of
// Triggers' own tekton-triggers-eventlistener-roles and -clusterroles: read
// its triggers objects and configmaps, create PipelineRuns and events, read
// cluster bindings and interceptors. It reads no Secrets (the interceptors
// do, with their own account) and impersonates no one (no trigger sets a
// serviceAccountName).
func (b builder) rbac() []Object {
	read := []string{"get", "list", "watch"}
	group := "rbac.authorization.k8s.io"
	subject := []rbacv1.Subject{{Kind: "ServiceAccount", Name: b.serviceAccount(), Namespace: b.c.App.Namespace}}
	role := &rbacv1.Role{
		TypeMeta:   metav1.TypeMeta{APIVersion: group + "/v1", Kind: "Role"},
		ObjectMeta: b.meta(b.serviceAccount()),
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"triggers.tekton.dev"}, Resources: []string{"eventlisteners", "triggers", "triggerbindings", "triggertemplates", "interceptors"}, Verbs: read},
			{APIGroups: []string{"tekton.dev"}, Resources: []string{"pipelineruns"}, Verbs: []string{"create"}},
			{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: read},
			{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}},
		},
	}
	rb := &rbacv1.RoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: group + "/v1", Kind: "RoleBinding"},
		ObjectMeta: b.meta(b.serviceAccount()),
		RoleRef:    rbacv1.RoleRef{APIGroup: group, Kind: "Role", Name: b.serviceAccount()},
		Subjects:   subject,
	}
	// Cluster-scoped names carry the namespace: two projects may share a
	// name in different namespaces.
	clusterName := b.c.App.Namespace + "-" + b.serviceAccount()
	cr := &rbacv1.ClusterRole{
		TypeMeta:   metav1.TypeMeta{APIVersion: group + "/v1", Kind: "ClusterRole"},
		ObjectMeta: b.meta(clusterName),
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"triggers.tekton.dev"}, Resources: []string{"clustertriggerbindings", "clusterinterceptors"}, Verbs: read},
		},
	}
	crb := &rbacv1.ClusterRoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: group + "/v1", Kind: "ClusterRoleBinding"},
		ObjectMeta: b.meta(clusterName),
		RoleRef:    rbacv1.RoleRef{APIGroup: group, Kind: "ClusterRole", Name: clusterName},
		Subjects:   subject,
	}
	account := &corev1.ServiceAccount{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"}, ObjectMeta: b.meta(b.serviceAccount())}
	out := []Object{
		{File: "triggers/rbac/serviceaccount.yaml", Obj: account},
		{File: "triggers/rbac/role.yaml", Obj: role},
		{File: "triggers/rbac/rolebinding.yaml", Obj: rb},
		{File: "triggers/rbac/clusterrole.yaml", Obj: cr},
		{File: "triggers/rbac/clusterrolebinding.yaml", Obj: crb},
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].File < out[j].File })
	return out
}
