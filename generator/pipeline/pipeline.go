// Package pipeline builds the pull-request and release Pipelines, and the
// PipelineRuns that start them, from the catalog's Task definitions. The same
// code makes a project's pipelines (params defaulted from its config) and the
// generic catalog pipelines (the same params, without project defaults).
package pipeline

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"time"

	"github.com/pipewright/pipewright/generator/buildpack"
	"github.com/pipewright/pipewright/generator/catalog"
	"github.com/pipewright/pipewright/pkg/keys"
	"github.com/pipewright/pipewright/pkg/tekton"
	"github.com/tektoncd/pipeline/pkg/apis/pipeline/pod"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/utils/ptr"
)

// Kind is which pipeline: the pull-request one or the release one.
type Kind string

const (
	PullRequest Kind = "pull-request"
	Release     Kind = "release"
)

// Spec is everything a pipeline depends on.
type Spec struct {
	Name string // the Pipeline's name
	Pack buildpack.Pack
	// LintParams and TestParams go to the pack's lint and test Tasks.
	LintParams, TestParams map[string]string
	NoLint, NoTest         bool
	PRTag                  bool // PR builds push REPO:pr-<n> instead of not pushing
	Deploy                 bool // release pipeline deploys
	// SharedCache puts the build caches on a workspace of their own
	// (CacheWorkspace), which runs bind to a claim kept between runs,
	// instead of the run's own volume. Lint and test TaskRuns then bind
	// two claims, which Tekton's default coschedule: workspaces refuses.
	SharedCache bool
	// GoImage builds the image with go-image (pipewright image build)
	// instead of image-build (BuildKit and a Dockerfile); GoImageParams are
	// its package, platforms, base.
	GoImage       bool
	GoImageParams map[string]string
	// Canary, when not nil, deploys with canary-release instead of
	// kubectl-apply; it holds that Task's analysis params.
	Canary map[string]string
	// CheckRuns reports to GitHub as a GitHub App: a check run named after
	// the pipeline (github-check-run) instead of commit statuses. The App is
	// the github-app-* params'.
	CheckRuns bool
	// CheckRunName names the check run when it is not the pipeline's
	// name: a monorepo's services share pipelines, and each reports its
	// own check run (a $(params.x) in it is declared).
	CheckRunName string
	// Defaults are project values for the pipeline's params; params with no
	// default must be given by the PipelineRun.
	Defaults map[string]string
	// TaskRef says where a catalog Task comes from (embedded, cluster, bundle).
	TaskRef func(task string) *v1.TaskRef
	// Timeouts override pipeline task timeouts by pipeline task name.
	Timeouts map[string]time.Duration
	Labels   map[string]string
}

// The pipeline's params. Their names are what triggers and runs bind.
var params = []struct{ name, desc string }{
	{keys.ParamRepoURL, "Repository URL to clone."},
	{keys.ParamRevision, "Commit sha to build (the PR head, or the merge commit)."},
	{keys.ParamRepoFullName, "owner/name on GitHub, for commit statuses."},
	{keys.ParamPRNumber, "Pull request number (pull-request pipeline)."},
	{keys.ParamImage, "Image repository, without tag."},
	{keys.ParamContext, "Folder of the project inside the repository."},
	{keys.ParamDockerfile, "Dockerfile, relative to the context folder."},
	{keys.ParamImageContext, "Folder the image builds from, relative to the repository, when it is not the project's folder (context); the dockerfile param is relative to it."},
	{keys.ParamStatusContext, "Commit status context."},
	{keys.ParamRunURL, "Link on the commit statuses, e.g. the run's dashboard page; $(context.pipelineRun.namespace) and $(context.pipelineRun.name) in it are the run's. Empty: no link."},
	{keys.ParamGitHubAPIURL, "GitHub REST API root."},
	{keys.ParamGitHubTokenSecret, "Secret with the GitHub token (key token)."},
	{keys.ParamManifests, "Folder of Kubernetes manifests to apply."},
	{keys.ParamDeployment, "Deployment to update."},
	{keys.ParamContainer, "Container of that Deployment to update."},
	{keys.ParamNamespace, "Namespace to deploy into."},
	{keys.ParamPipewrightImage, "The pipewright tool image, pinned by digest, for steps that run pipewright."},
	{keys.ParamGitHubAppID, "The GitHub App the check runs are written as."},
	{keys.ParamGitHubAppInstallation, "The App's installation on the repository; 0 looks it up."},
	{keys.ParamGitHubAppKeySecret, "Secret with the App's private key (key " + catalog.AppKeyFile + ")."},
}

// Generic defaults that are not project specific.
var genericDefaults = map[string]string{
	keys.ParamContext: ".", keys.ParamDockerfile: "Dockerfile", keys.ParamStatusContext: "pipewright",
	keys.ParamGitHubAPIURL: keys.GitHubAPIURL, keys.ParamGitHubTokenSecret: "github-token",
	keys.ParamManifests: "k8s", keys.ParamPRNumber: "", keys.ParamRunURL: "",
	keys.ParamGitHubAppInstallation: "0", keys.ParamGitHubAppKeySecret: "github-app",
}

var defaultTimeouts = map[string]time.Duration{
	keys.TaskClone: 10 * time.Minute, keys.TaskLint: 20 * time.Minute, keys.TaskTest: 30 * time.Minute,
	keys.TaskBuildImage: 30 * time.Minute, keys.TaskDeploy: 15 * time.Minute,
	keys.TaskSetPending: 5 * time.Minute, keys.TaskReportSuccess: 5 * time.Minute, keys.TaskReportFailure: 5 * time.Minute,
	keys.TaskReportCloneFailure:  5 * time.Minute,
	keys.TaskReportCanarySuccess: 5 * time.Minute, keys.TaskReportCanaryFailure: 5 * time.Minute,
	keys.TaskRestoreCanary: 5 * time.Minute,
}

// Every pipeline has one volume workspace, SourceWorkspace, which a run
// binds to a claim of its own (a volumeClaimTemplate): the checkout is its
// SourceSubPath folder and the build caches its CacheSubPath folder. A
// TaskRun so binds one claim however many Task workspaces it maps onto it,
// as Tekton's default coschedule: workspaces requires, and no two runs
// share a cache: a pull request's code cannot poison a release's modules or
// build cache.
const (
	SourceWorkspace = "source"
	SourceSubPath   = "src"
	CacheSubPath    = "cache"
	// CacheWorkspace is the second volume workspace of pipelines built
	// with Spec.SharedCache, where the caches live instead.
	CacheWorkspace = "cache"
	// DockerConfigWorkspace holds registry credentials (a config.json
	// from a Secret) for the image build of pipelines that push.
	DockerConfigWorkspace = "dockerconfig"
)

// CommitResult is what status tasks and image tags use as the commit: the
// sha clone checked out, whatever revision (a branch in a manual run) it
// was given.
const CommitResult = "$(tasks." + keys.TaskClone + ".results.commit)"

// ws is where a Task workspace goes: a pipeline workspace and a folder in it.
type ws struct{ workspace, subPath string }

func (b *builder) src() ws { return ws{SourceWorkspace, SourceSubPath} }

func (b *builder) cache() ws {
	if b.s.SharedCache {
		return ws{CacheWorkspace, ""}
	}
	return ws{SourceWorkspace, CacheSubPath}
}

type builder struct {
	s     Spec
	kind  Kind
	used  map[string]bool // params referenced
	tasks []v1.PipelineTask
}

func (b *builder) p(name string) v1.ParamValue {
	b.used[name] = true
	return *v1.NewStructuredValues("$(params." + name + ")")
}

func lit(v string) v1.ParamValue { return *v1.NewStructuredValues(v) }

func (b *builder) task(name, catalogTask string, runAfter []string, ps map[string]v1.ParamValue, wss map[string]ws) v1.PipelineTask {
	var plist v1.Params
	for k, v := range ps {
		plist = append(plist, v1.Param{Name: k, Value: v})
	}
	sort.Slice(plist, func(i, j int) bool { return plist[i].Name < plist[j].Name })
	var wlist []v1.WorkspacePipelineTaskBinding
	for k, v := range wss {
		wlist = append(wlist, v1.WorkspacePipelineTaskBinding{Name: k, Workspace: v.workspace, SubPath: v.subPath})
	}
	sort.Slice(wlist, func(i, j int) bool { return wlist[i].Name < wlist[j].Name })
	timeout := defaultTimeouts[name]
	if t, ok := b.s.Timeouts[name]; ok {
		timeout = t
	}
	return v1.PipelineTask{
		Name:       name,
		TaskRef:    b.s.TaskRef(catalogTask),
		RunAfter:   runAfter,
		Params:     plist,
		Workspaces: wlist,
		Timeout:    &metav1.Duration{Duration: timeout},
	}
}

// status sets a commit status on the commit clone checked out, or with
// CheckRuns, the pipeline's check run; a completed one tables the tasks
// before it.
func (b *builder) status(name, state, description string) v1.PipelineTask {
	if b.s.CheckRuns {
		return b.checkRun(name, state)
	}
	return b.task(name, "github-set-status", nil, map[string]v1.ParamValue{
		"repo-full-name":    b.p(keys.ParamRepoFullName),
		"sha":               lit(CommitResult),
		"state":             lit(state),
		"context":           b.p(keys.ParamStatusContext),
		"description":       lit(description),
		"target-url":        b.p(keys.ParamRunURL),
		"github-api-url":    b.p(keys.ParamGitHubAPIURL),
		"token-secret-name": b.p(keys.ParamGitHubTokenSecret),
	}, nil)
}

// checkRun is a github-check-run task: the check run named after the
// pipeline on the commit clone checked out, reading the logs the tasks kept
// in the checkout.
func (b *builder) checkRun(name, state string) v1.PipelineTask {
	ps := map[string]v1.ParamValue{
		catalog.ToolImageParam: b.p(catalog.ToolImageParam),
		"repo-full-name":       b.p(keys.ParamRepoFullName),
		"sha":                  lit(CommitResult),
		"state":                lit(state),
		"name":                 lit(b.checkRunName()),
		"target-url":           b.p(keys.ParamRunURL),
		"github-api-url":       b.p(keys.ParamGitHubAPIURL),
		"app-id":               b.p(keys.ParamGitHubAppID),
		"app-installation-id":  b.p(keys.ParamGitHubAppInstallation),
		"app-key-secret":       b.p(keys.ParamGitHubAppKeySecret),
	}
	if state == "pending" {
		// The in-progress report runs once clone has the commit.
		ps["tasks"] = v1.ParamValue{Type: v1.ParamTypeArray, ArrayVal: []string{keys.TaskClone + "=Succeeded"}}
	} else {
		var outcomes []string
		for _, t := range b.tasks {
			if t.Name != keys.TaskSetPending {
				outcomes = append(outcomes, t.Name+"=$(tasks."+t.Name+".status)")
			}
		}
		ps["tasks"] = *v1.NewStructuredValues(outcomes[0], outcomes[1:]...)
	}
	return b.task(name, "github-check-run", nil, ps, map[string]ws{"source": b.src()})
}

// checkRunName is the check run's name: the pipeline's, or Spec.CheckRunName.
func (b *builder) checkRunName() string {
	if b.s.CheckRunName == "" {
		return "$(context.pipeline.name)"
	}
	for _, m := range paramRef.FindAllStringSubmatch(b.s.CheckRunName, -1) {
		b.used[m[1]] = true
	}
	return b.s.CheckRunName
}

var paramRef = regexp.MustCompile(`\$\(params\.([a-z0-9-]+)\)`)

// logName passes a pipeline task's name to a Task that keeps its output
// for the check run.
func (b *builder) logName(task string, ps map[string]v1.ParamValue) map[string]v1.ParamValue {
	if b.s.CheckRuns {
		ps[catalog.LogNameParam] = lit(task)
	}
	return ps
}

func withTweaks(base map[string]v1.ParamValue, tweaks map[string]string) map[string]v1.ParamValue {
	for k, v := range tweaks {
		base[k] = lit(v)
	}
	return base
}

// Build returns the pipeline of the given kind. It refuses (a pipewright
// bug) a pipeline in which two tasks that may run at the same time write
// the same folder.
func Build(kind Kind, s Spec) (*v1.Pipeline, error) {
	b := &builder{s: s, kind: kind, used: map[string]bool{}}
	srcCache := map[string]ws{"source": b.src(), "cache": b.cache()}

	b.tasks = append(b.tasks, b.task(keys.TaskClone, "git-clone", nil, map[string]v1.ParamValue{
		"url": b.p(keys.ParamRepoURL), "revision": b.p(keys.ParamRevision),
	}, map[string]ws{"output": b.src()}))
	// The pending status waits for the commit clone resolved: a manual run
	// gives a branch name as revision, which is no commit to set it on.
	pending := b.status(keys.TaskSetPending, "pending", string(kind)+" pipeline running")
	pending.RunAfter = []string{keys.TaskClone}
	b.tasks = append(b.tasks, pending)
	lint, test := s.lints(kind), s.tests()
	var checks []string
	if test {
		ps := b.logName(keys.TaskTest, withTweaks(map[string]v1.ParamValue{"context": b.p(keys.ParamContext)}, catalog.RoleParams(s.Pack.Test, "test")))
		b.tasks = append(b.tasks, b.task(keys.TaskTest, s.Pack.Test, []string{keys.TaskClone}, withTweaks(ps, s.TestParams), srcCache))
		checks = append(checks, keys.TaskTest)
	}
	if lint {
		// A Task that lints and tests (node-test) is told which it does.
		ps := b.logName(keys.TaskLint, withTweaks(map[string]v1.ParamValue{"context": b.p(keys.ParamContext)}, catalog.RoleParams(s.Pack.Lint, "lint")))
		after := []string{keys.TaskClone}
		if s.lintAfterTest(kind) {
			// Both install the dependencies into the one checkout (npm ci
			// empties node_modules first): one at a time.
			after, checks = []string{keys.TaskTest}, nil
		}
		b.tasks = append(b.tasks, b.task(keys.TaskLint, s.Pack.Lint, after, withTweaks(ps, s.LintParams), srcCache))
		checks = append([]string{keys.TaskLint}, checks...)
	}
	if len(checks) == 0 {
		checks = []string{keys.TaskClone}
	}
	b.tasks = append(b.tasks, b.buildImage(checks))
	if kind == Release && s.Deploy {
		b.tasks = append(b.tasks, b.deploy())
	}

	// The outcome goes to GitHub from finally, so it is reported even when a
	// task fails; $(tasks.status) is the aggregate of the tasks above.
	ok := b.status(keys.TaskReportSuccess, "success", string(kind)+" pipeline succeeded")
	ok.When = v1.WhenExpressions{{Input: "$(tasks.status)", Operator: selection.In, Values: []string{"Succeeded", "Completed"}}}
	bad := b.status(keys.TaskReportFailure, "failure", string(kind)+" pipeline failed")
	bad.When = v1.WhenExpressions{
		{Input: "$(tasks.status)", Operator: selection.In, Values: []string{"Failed", "None"}},
		{Input: "$(tasks." + keys.TaskClone + ".status)", Operator: selection.In, Values: []string{"Succeeded"}},
	}
	// Without a clone there is no commit result, and Tekton skips a finally
	// task that reads a missing result: the failure goes to the revision
	// the run was given (a sha from the triggers; a manual run's branch
	// name GitHub refuses, and the run fails anyway).
	early := b.status(keys.TaskReportCloneFailure, "failure", string(kind)+" pipeline failed: the clone failed")
	early.Params = setParam(early.Params, "sha", b.p(keys.ParamRevision))
	early.When = v1.WhenExpressions{{Input: "$(tasks." + keys.TaskClone + ".status)", Operator: selection.NotIn, Values: []string{"Succeeded"}}}

	finally := []v1.PipelineTask{ok, bad, early}
	if kind == Release && s.Deploy && s.Canary != nil {
		finally = append(finally, b.canaryStatus("success"), b.canaryStatus("failure"))
		if ctl := s.Canary["strategy"]; ctl == "" || ctl == "pipewright" {
			finally = append(finally, b.restoreCanary())
		}
	}
	workspaces := []v1.PipelineWorkspaceDeclaration{{
		Name: SourceWorkspace,
		Description: "A fresh volume per run: the checkout in its " + SourceSubPath + " folder, the build caches in its " +
			CacheSubPath + " folder.",
	}}
	if s.SharedCache {
		workspaces[0].Description = "A fresh volume per run for the checkout, in its " + SourceSubPath + " folder."
		workspaces = append(workspaces, v1.PipelineWorkspaceDeclaration{Name: CacheWorkspace,
			Description: "Build caches kept between runs of this pipeline (a claim of its own; needs Tekton's coschedule feature flag at pipelineruns or disabled)."})
	}
	if b.pushes() {
		workspaces = append(workspaces, v1.PipelineWorkspaceDeclaration{Name: DockerConfigWorkspace, Optional: true,
			Description: "Registry credentials for the image push: a config.json, e.g. from a kubernetes.io/dockerconfigjson Secret. Bound only to build-image."})
	}
	p := &v1.Pipeline{
		TypeMeta:   metav1.TypeMeta{APIVersion: "tekton.dev/v1", Kind: "Pipeline"},
		ObjectMeta: metav1.ObjectMeta{Name: s.Name, Labels: s.Labels},
		Spec: v1.PipelineSpec{
			Description: description(kind, s),
			Tasks:       b.tasks,
			Finally:     finally,
			Workspaces:  workspaces,
		},
	}
	for _, prm := range params {
		if !b.used[prm.name] {
			continue
		}
		ps := v1.ParamSpec{Name: prm.name, Type: v1.ParamTypeString, Description: prm.desc}
		if v, ok := s.Defaults[prm.name]; ok {
			ps.Default = v1.NewStructuredValues(v)
		} else if v, ok := genericDefaults[prm.name]; ok {
			ps.Default = v1.NewStructuredValues(v)
		}
		p.Spec.Params = append(p.Spec.Params, ps)
	}
	if errs := tekton.ParallelWriters(p.Name, &p.Spec, catalog.Writes); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

// lints and tests report whether the pipeline has a lint and a test task.
func (s Spec) lints(kind Kind) bool { return s.Pack.Lint != "" && !s.NoLint && kind == PullRequest }
func (s Spec) tests() bool          { return s.Pack.Test != "" && !s.NoTest }

// lintAfterTest reports whether lint must wait for test: both write the
// checkout (node-test, which lints and tests, installs node_modules there).
func (s Spec) lintAfterTest(kind Kind) bool {
	return s.lints(kind) && s.tests() && writes(s.Pack.Lint, "source") && writes(s.Pack.Test, "source")
}

func writes(task, workspace string) bool {
	for _, w := range catalog.Writes(task) {
		if w == workspace {
			return true
		}
	}
	return false
}

// Checks describes the lint and test stage of a pipeline for people, e.g.
// "lint ∥ test", "test → lint", "test"; empty when it has neither.
func Checks(kind Kind, s Spec) string {
	switch lint, test := s.lints(kind), s.tests(); {
	case lint && test && s.lintAfterTest(kind):
		return "test → lint"
	case lint && test:
		return "lint ∥ test"
	case lint:
		return "lint"
	case test:
		return "test"
	}
	return ""
}

// setParam replaces the value of the param called name.
func setParam(ps v1.Params, name string, v v1.ParamValue) v1.Params {
	for i := range ps {
		if ps[i].Name == name {
			ps[i].Value = v
		}
	}
	return ps
}

// Pushes reports whether the pipeline of kind pushes its image, and so
// declares the DockerConfigWorkspace: a release always, a pull request
// with PRTag.
func Pushes(kind Kind, s Spec) bool { return kind == Release || s.PRTag }

func (b *builder) pushes() bool { return Pushes(b.kind, b.s) }

// buildImage is the build-image task: go-image or image-build. Release
// builds are pushed and tagged with the commit clone checked out;
// pull-request builds are built without pushing, or pushed as pr-<number>
// with PRTag. Only a pushing build gets the registry credentials.
func (b *builder) buildImage(checks []string) v1.PipelineTask {
	s := b.s
	tag, push := CommitResult, b.pushes()
	b.used["image"] = true
	if b.kind == PullRequest && s.PRTag {
		tag = "pr-$(params.pr-number)"
		b.used["pr-number"] = true
	}
	wss := map[string]ws{"source": b.src()}
	if push {
		wss["dockerconfig"] = ws{DockerConfigWorkspace, ""}
	}
	if s.GoImage {
		ps := map[string]v1.ParamValue{
			catalog.ToolImageParam: b.p(catalog.ToolImageParam),
			"image":                b.p(keys.ParamImage),
			"context":              b.p(keys.ParamContext),
			"source-url":           b.p(keys.ParamRepoURL),
			"tag":                  lit(tag),
		}
		if !push {
			ps["no-push"] = lit("true")
			ps["tag"] = lit("")
		}
		wss["cache"] = b.cache()
		return b.task(keys.TaskBuildImage, "go-image", checks, withTweaks(ps, s.GoImageParams), wss)
	}
	imageContext := keys.ParamContext
	if _, ok := s.Defaults[keys.ParamImageContext]; ok {
		// The image builds from another folder than lint and tests run
		// in (a monorepo service whose Dockerfile needs the root).
		imageContext = keys.ParamImageContext
	}
	ps := map[string]v1.ParamValue{
		"context":    b.p(imageContext),
		"dockerfile": b.p(keys.ParamDockerfile),
		"image":      lit("$(params.image):" + tag),
	}
	if !push {
		ps["no-push"] = lit("true")
	}
	return b.task(keys.TaskBuildImage, "image-build", checks, ps, wss)
}

// deploy rolls the new digest out: kubectl-apply, or canary-release when
// the config asks for a canary.
func (b *builder) deploy() v1.PipelineTask {
	newImage := lit("$(tasks." + keys.TaskBuildImage + ".results.IMAGE_URL)@$(tasks." + keys.TaskBuildImage + ".results.IMAGE_DIGEST)")
	if b.s.Canary != nil {
		ps := map[string]v1.ParamValue{
			catalog.ToolImageParam: b.p(catalog.ToolImageParam),
			"image":                newImage,
			"app":                  b.p(keys.ParamDeployment),
			"container":            b.p(keys.ParamContainer),
			"namespace":            b.p(keys.ParamNamespace),
		}
		t := b.task(keys.TaskDeploy, "canary-release", []string{keys.TaskBuildImage}, withTweaks(ps, b.s.Canary),
			map[string]ws{"output": b.src()})
		if _, ok := b.s.Timeouts[keys.TaskDeploy]; !ok {
			// A canary lasts steps × samples × interval at least; a
			// kubectl apply's 15 minutes would cut it short.
			t.Timeout = &metav1.Duration{Duration: CanaryTimeout}
		}
		return t
	}
	return b.task(keys.TaskDeploy, "kubectl-apply", []string{keys.TaskBuildImage}, map[string]v1.ParamValue{
		"path":       b.p(keys.ParamManifests),
		"namespace":  b.p(keys.ParamNamespace),
		"deployment": b.p(keys.ParamDeployment),
		"container":  b.p(keys.ParamContainer),
		"image":      newImage,
	}, map[string]ws{"source": b.src()})
}

// restoreCanary undoes a canary release whose deploy task failed before
// the release recorded a decision (its Pod killed, the task's or the run's
// timeout), which would leave the traffic split: canary-restore reads the
// progress kept on the route and does nothing when the release ended.
func (b *builder) restoreCanary() v1.PipelineTask {
	ps := map[string]v1.ParamValue{
		catalog.ToolImageParam: b.p(catalog.ToolImageParam),
		"image":                lit("$(tasks.build-image.results.IMAGE_URL)@$(tasks.build-image.results.IMAGE_DIGEST)"),
		"app":                  b.p("deployment"),
		"container":            b.p("container"),
		"namespace":            b.p("namespace"),
	}
	for _, k := range []string{"strategy", "router", "route"} {
		if v, ok := b.s.Canary[k]; ok {
			ps[k] = lit(v)
		}
	}
	t := b.task(keys.TaskRestoreCanary, "canary-restore", nil, ps, nil)
	t.When = v1.WhenExpressions{{Input: "$(tasks.deploy.status)", Operator: selection.In, Values: []string{"Failed"}}}
	return t
}

// canaryStatus reports the canary's decision as its own commit status
// (<context>/canary) with the analysis summary, beside the pipeline's:
// success when it was promoted, failure for any other outcome (rolled back,
// timed out). The release step writes its results before the Task fails, so
// they reach finally; when it wrote none, neither status is sent and the
// pipeline's own failure status stands.
func (b *builder) canaryStatus(state string) v1.PipelineTask {
	name := keys.TaskReportCanaryFailure
	if state == "success" {
		name = keys.TaskReportCanarySuccess
	}
	var t v1.PipelineTask
	if b.s.CheckRuns {
		// A check run of its own, <pipeline>/canary, titled with the
		// analysis summary.
		t = b.checkRun(name, state)
		t.Params = setParam(t.Params, "name", lit(b.checkRunName()+"/canary"))
		t.Params = setParam(t.Params, "tasks", v1.ParamValue{Type: v1.ParamTypeArray, ArrayVal: []string{keys.TaskDeploy + "=$(tasks." + keys.TaskDeploy + ".status)"}})
		t.Params = append(t.Params, v1.Param{Name: "title", Value: lit("$(tasks." + keys.TaskDeploy + ".results.summary)")})
		sort.Slice(t.Params, func(i, j int) bool { return t.Params[i].Name < t.Params[j].Name })
	} else {
		t = b.task(name, "github-set-status", nil, map[string]v1.ParamValue{
			"repo-full-name":    b.p(keys.ParamRepoFullName),
			"sha":               lit(CommitResult),
			"state":             lit(state),
			"context":           lit("$(params.status-context)/canary"),
			"description":       lit("$(tasks." + keys.TaskDeploy + ".results.summary)"),
			"target-url":        b.p(keys.ParamRunURL),
			"github-api-url":    b.p(keys.ParamGitHubAPIURL),
			"token-secret-name": b.p(keys.ParamGitHubTokenSecret),
		}, nil)
		b.used["status-context"] = true
	}
	op := selection.In
	if state != "success" {
		op = selection.NotIn
	}
	t.When = v1.WhenExpressions{{Input: "$(tasks." + keys.TaskDeploy + ".results.outcome)", Operator: op, Values: []string{catalog.OutcomePromoted}}}
	return t
}

func description(kind Kind, s Spec) string {
	checks := "its tests"
	if s.Pack.Test == "" || s.NoTest {
		checks = "no tests (" + s.Pack.Name + " pack)"
	}
	if kind == PullRequest {
		steps := map[string]string{
			"lint ∥ test": "lint and test in parallel, ",
			"test → lint": "test, then lint (both install dependencies into the checkout), ",
			"lint":        "lint, ",
			"test":        "test, ",
		}[Checks(kind, s)]
		build := "build the image without publishing it"
		if s.PRTag {
			build = "build the image and push it as pr-<number>"
		}
		report := "a commit status"
		if s.CheckRuns {
			report = "a check run named after this pipeline"
		}
		return fmt.Sprintf("Pull-request CI (%s pack): clone, %s%s, and report the outcome to GitHub as %s on the PR head.", s.Pack.Name, steps, build, report)
	}
	deploy := "and deploy it with kubectl apply"
	if s.Canary != nil {
		deploy = "and release it as a canary, promoted or rolled back on its Prometheus metrics"
		if ctl := s.Canary["strategy"]; ctl != "" && ctl != "pipewright" {
			deploy = "and hand it to " + ctl + " as a canary, reporting that controller's verdict"
		}
	}
	if !s.Deploy {
		deploy = "without deploying"
	}
	return fmt.Sprintf("Release (%s pack) for merges to the default branch: clone, run %s, build and push the image by digest %s, and report the outcome to GitHub.", s.Pack.Name, checks, deploy)
}

// RunSpec is a PipelineRun template's knobs.
type RunSpec struct {
	Pipeline       string
	GenerateName   string
	Params         map[string]string // values (may be Triggers $(tt.params.x))
	ServiceAccount string
	// NoServiceAccountToken keeps the service account's API token out of
	// every step (podTemplate.automountServiceAccountToken: false), for
	// runs of code that is not trusted yet: pull requests.
	NoServiceAccountToken bool
	// CacheClaim is the claim the cache workspace of a pipeline built with
	// Spec.SharedCache binds; empty for the others.
	CacheClaim string
	// DockerConfigSecret is the kubernetes.io/dockerconfigjson Secret bound
	// as the dockerconfig workspace of a pipeline that pushes; empty for
	// one that does not.
	DockerConfigSecret string
	Timeout            time.Duration
	// FinallyTimeout is kept back from Timeout for the finally tasks, so
	// the outcome still reaches GitHub when the tasks use up their time.
	FinallyTimeout time.Duration
	StepResources  map[string]corev1.ResourceList // pipeline task -> requests for all its steps
	StepNames      map[string][]string            // pipeline task -> its steps' names
	Labels         map[string]string
}

// Sizes of the run's own volume (the checkout and, unless shared, the
// build caches) and of a shared cache claim.
const (
	RunVolumeSize    = "5Gi"
	SourceVolumeSize = "1Gi" // the checkout alone, with a shared cache
	SharedCacheSize  = "5Gi"
)

// FSGroup is the group every TaskRun Pod's volumes are made writable for:
// the group the catalog's non-root steps run as. A freshly provisioned
// volume's root belongs to root (0755); without it no step could write the
// checkout.
const FSGroup int64 = catalog.NonRootUID

// Run is a PipelineRun of a pipeline: its source workspace on a fresh
// volumeClaimTemplate (one claim per run, for the checkout and the caches),
// the shared cache claim when there is one, the registry credentials
// Secret when the pipeline pushes, the Pods' fsGroup, and whether they get
// the service account's token.
func Run(r RunSpec) *v1.PipelineRun {
	var ps v1.Params
	for k, v := range r.Params {
		ps = append(ps, v1.Param{Name: k, Value: lit(v)})
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].Name < ps[j].Name })
	size := RunVolumeSize
	if r.CacheClaim != "" {
		size = SourceVolumeSize
	}
	wss := []v1.WorkspaceBinding{{
		Name: SourceWorkspace,
		VolumeClaimTemplate: &corev1.PersistentVolumeClaim{Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)}},
		}},
	}}
	if r.CacheClaim != "" {
		wss = append(wss, v1.WorkspaceBinding{Name: CacheWorkspace, PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: r.CacheClaim}})
	}
	if r.DockerConfigSecret != "" {
		// kubectl create secret docker-registry stores the config under
		// .dockerconfigjson; the image builders read DOCKER_CONFIG/config.json.
		// Optional: without the Secret the push fails with the registry's
		// answer instead of the Pod waiting for a volume until its timeout.
		wss = append(wss, v1.WorkspaceBinding{Name: DockerConfigWorkspace, Secret: &corev1.SecretVolumeSource{
			SecretName: r.DockerConfigSecret,
			Items:      []corev1.KeyToPath{{Key: corev1.DockerConfigJsonKey, Path: "config.json"}},
			Optional:   ptr.To(true),
		}})
	}
	pr := &v1.PipelineRun{
		TypeMeta:   metav1.TypeMeta{APIVersion: "tekton.dev/v1", Kind: "PipelineRun"},
		ObjectMeta: metav1.ObjectMeta{GenerateName: r.GenerateName, Labels: r.Labels},
		Spec: v1.PipelineRunSpec{
			PipelineRef: &v1.PipelineRef{Name: r.Pipeline},
			Params:      ps,
			Workspaces:  wss,
			TaskRunTemplate: v1.PipelineTaskRunTemplate{
				ServiceAccountName: r.ServiceAccount,
				PodTemplate: &pod.PodTemplate{SecurityContext: &corev1.PodSecurityContext{
					FSGroup: ptr.To(FSGroup),
					// A fresh claim's root is all there is to change; a
					// claim already right is not walked again.
					FSGroupChangePolicy: ptr.To(corev1.FSGroupChangeOnRootMismatch),
				}},
			},
			Timeouts: timeouts(r.Timeout, r.FinallyTimeout),
		},
	}
	if r.NoServiceAccountToken {
		pr.Spec.TaskRunTemplate.PodTemplate.AutomountServiceAccountToken = ptr.To(false)
	}
	var names []string
	for n := range r.StepResources {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		spec := v1.PipelineTaskRunSpec{PipelineTaskName: n}
		for _, step := range r.StepNames[n] {
			spec.StepSpecs = append(spec.StepSpecs, v1.TaskRunStepSpec{Name: step, ComputeResources: corev1.ResourceRequirements{Requests: r.StepResources[n]}})
		}
		pr.Spec.TaskRunSpecs = append(pr.Spec.TaskRunSpecs, spec)
	}
	return pr
}

// CanaryTimeout is the canary deploy task's timeout unless overridden.
const CanaryTimeout = 2 * time.Hour

func timeouts(pipeline, finally time.Duration) *v1.TimeoutFields {
	t := &v1.TimeoutFields{Pipeline: &metav1.Duration{Duration: pipeline}}
	if finally > 0 {
		// Tekton cancels finally with the rest when timeouts.pipeline runs
		// out; tasks get the difference.
		t.Tasks = &metav1.Duration{Duration: pipeline - finally}
		t.Finally = &metav1.Duration{Duration: finally}
	}
	return t
}

// LocalRef refers to a Task by name in the same namespace (embedded copies
// or the installed catalog).
func LocalRef(task string) *v1.TaskRef { return &v1.TaskRef{Name: task, Kind: v1.NamespacedTaskKind} }

// BundleRef refers to a catalog Task through Tekton's bundles resolver.
func BundleRef(bundle string) func(string) *v1.TaskRef {
	return func(task string) *v1.TaskRef {
		return &v1.TaskRef{ResolverRef: v1.ResolverRef{Resolver: "bundles", Params: v1.Params{
			{Name: "bundle", Value: lit(bundle)},
			{Name: "name", Value: lit(task)},
			{Name: "kind", Value: lit("task")},
		}}}
	}
}

// Steps lists a catalog Task's step names (for per-step overrides).
func Steps(task string) ([]string, error) {
	e, err := catalog.Get(task)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range e.Spec.Steps {
		out = append(out, s.Name)
	}
	return out, nil
}
