// Package keys is the one place for names that the generator writes and
// other parts read: annotation keys, the pipelines' task and param names,
// and the GitHub API default (in the manner of Pipelines-as-Code's keys
// package). It imports nothing; a name changes here or nowhere.
package keys

// Prefix is the domain of pipewright's annotation keys.
const Prefix = "pipewright.dev/"

// Annotation keys.
const (
	// RootSteps on a catalog Task lists the steps that run as root on
	// purpose, one "step: reason" per line; lint reads it to waive
	// run-as-root for exactly those steps.
	RootSteps = Prefix + "root-steps"
	// Event, HeadRef and BaseRef on a triggered PipelineRun carry the
	// payload's event and its untrusted branch names: they reach the run
	// only as annotations, never as params a step could read.
	Event   = Prefix + "event"
	HeadRef = Prefix + "head-ref"
	BaseRef = Prefix + "base-ref"
	// ApprovedBy on a ChatOps run (/retest, /ok-to-test) is who started
	// it and why they were trusted.
	ApprovedBy = Prefix + "approved-by"
	// Service on a monorepo service's Triggers and runs names the service:
	// one delivery starts a run per service it touches, and the
	// interceptor's replay and cancel lookups stay within one service.
	Service = Prefix + "service"
	// InterceptorCA on the EventListener's Pod template is a digest of the
	// CA its interceptor serves under: the interceptor sets it once the
	// CA is in the caBundle, so the EventListener's Pods start again and
	// trust the CA at once (Triggers otherwise reads caBundles only once a
	// minute, and deliveries in that minute fail TLS).
	InterceptorCA = Prefix + "interceptor-ca"
)

// GitHubAPIURL is github.com's REST API root, the default wherever an API
// root can be set (GitHub Enterprise: https://HOST/api/v3).
const GitHubAPIURL = "https://api.github.com"

// Pipeline task names: what generated pipelines call their tasks, what
// overrides: in the config and the runs' taskRunSpecs name.
const (
	TaskSetPending          = "set-pending"
	TaskClone               = "clone"
	TaskLint                = "lint"
	TaskTest                = "test"
	TaskBuildImage          = "build-image"
	TaskDeploy              = "deploy"
	TaskReportSuccess       = "report-success"
	TaskReportFailure       = "report-failure"
	TaskReportCloneFailure  = "report-clone-failure"
	TaskReportCanarySuccess = "report-canary-success"
	TaskReportCanaryFailure = "report-canary-failure"
	TaskRestoreCanary       = "restore-canary"
)

// PipelineTasks lists every pipeline task name a generated pipeline may
// have, in pipeline order.
var PipelineTasks = []string{
	TaskSetPending, TaskClone, TaskLint, TaskTest, TaskBuildImage, TaskDeploy,
	TaskReportSuccess, TaskReportFailure, TaskReportCloneFailure,
	TaskReportCanarySuccess, TaskReportCanaryFailure, TaskRestoreCanary,
}

// Pipeline param names: what the generated pipelines declare and what
// triggers and runs bind.
const (
	ParamRepoURL           = "repo-url"
	ParamRevision          = "revision"
	ParamRepoFullName      = "repo-full-name"
	ParamPRNumber          = "pr-number"
	ParamImage             = "image"
	ParamContext           = "context"
	ParamDockerfile        = "dockerfile"
	ParamImageContext      = "image-context"
	ParamStatusContext     = "status-context"
	ParamRunURL            = "run-url"
	ParamGitHubAPIURL      = "github-api-url"
	ParamGitHubTokenSecret = "github-token-secret"
	ParamManifests         = "manifests"
	ParamDeployment        = "deployment"
	ParamContainer         = "container"
	ParamNamespace         = "namespace"
	ParamPipewrightImage   = "pipewright-image"
	// The GitHub App the check runs are written as (github.app).
	ParamGitHubAppID           = "github-app-id"
	ParamGitHubAppInstallation = "github-app-installation-id"
	ParamGitHubAppKeySecret    = "github-app-key-secret"
)

// TaskLogDir is where catalog steps that keep their output (test and lint)
// write it, relative to the checkout: NAME.log, the last TaskLogBytes of
// it, and NAME.status, "START END EXIT". Inside .git, so it is no change
// git or a build sees as part of the tree; a finally task reads it for the
// check run.
const TaskLogDir = ".git/pipewright/logs"

// TaskLogBytes is how much of a task's output is kept.
const TaskLogBytes = 64 << 10
