// Package config is pipewright.yaml: the project config typed in Go, its
// loader (errors carry file:line:col, the field path and a hint), semantic
// validation, and the JSON Schema generated from these types.
//
// Each field's `doc` tag is its documentation: the schema's description and
// the comment `pipewright init` writes above it.
package config

import (
	"path"
	"path/filepath"
)

// APIVersion is the only config version this release reads.
const APIVersion = "pipewright.dev/v1alpha1"

// Config is a project's pipewright.yaml.
type Config struct {
	APIVersion string    `json:"apiVersion" doc:"Config format version; must be pipewright.dev/v1alpha1." required:"true"`
	App        App       `json:"app" doc:"The application the pipelines build and deploy." required:"true"`
	Build      Build     `json:"build" doc:"How the project is built and tested." required:"true"`
	Image      Image     `json:"image" doc:"The container image the pipelines build." required:"true"`
	Deploy     Deploy    `json:"deploy,omitempty" doc:"Where and how the release pipeline deploys."`
	GitHub     GitHub    `json:"github" doc:"The GitHub repository that triggers the pipelines." required:"true"`
	Tasks      Tasks     `json:"tasks,omitempty" doc:"Where the pipelines' Tasks come from."`
	Paths      []string  `json:"paths,omitempty" doc:"Monorepo path filters: run only when a changed file matches one of these globs (e.g. services/api/**). Empty runs on every change."`
	Overrides  Overrides `json:"overrides,omitempty" doc:"Resource and timeout overrides per pipeline task."`
	Tools      Tools     `json:"tools,omitempty" doc:"Images of pipewright's own tools, for steps that run pipewright itself."`
	Services   []Service `json:"services,omitempty" doc:"Monorepo: one entry per service folder. Each service gets its own pipelines, triggers and kustomization in a folder of the output named after it, built from the rest of this file with the entry's fields in place: app.name, build.context, build.pack, build.version, image.repository, image.context, image.dockerfile, deploy.manifests. Its pull requests and releases run only when a file under its context (or one of this file's paths) changes."`
	Images     Images    `json:"images,omitempty" doc:"Replace catalog images, e.g. with copies in a mirrored or air-gapped registry: catalog image name (golang, git-init, kubectl, ...; pipewright images lists them) to a reference pinned by digest, REPO[:TAG]@sha256:<64 hex>. Applies to every step image and image param default of the Tasks generate writes; pipewright generate --images FILE overrides it per image."`
}

// Service is one service of a monorepo.
type Service struct {
	Name         string     `json:"name" doc:"The service's app name; prefixes its objects. A Kubernetes name." required:"true"`
	Context      string     `json:"context" doc:"The service's folder in the repository: where its lint and tests run and, unless imageContext says otherwise, its image builds from." required:"true"`
	Pack         string     `json:"pack,omitempty" doc:"Its build pack; defaults to build.pack." enum:"go,bun,node,python,java,docker"`
	Version      string     `json:"version,omitempty" doc:"Its toolchain version (see build.version); defaults to build.version when the pack is the same."`
	Image        string     `json:"image,omitempty" doc:"Its image repository; defaults to image.repository/<name>."`
	ImageContext string     `json:"imageContext,omitempty" doc:"Its image's build context, relative to the repository (. for the root, when its Dockerfile copies files from outside its folder); defaults to image.context, else its context. Its lint and tests still run in its context."`
	Dockerfile   string     `json:"dockerfile,omitempty" doc:"Its Dockerfile, relative to its image context (imageContext when set, else its context); defaults to the Dockerfile in its context." default:"Dockerfile"`
	Manifests    string     `json:"manifests,omitempty" doc:"Its Kubernetes manifests folder, relative to its context; deploy applies only these." default:"k8s"`
	Paths        []string   `json:"paths,omitempty" doc:"More globs whose changes run its pipelines, besides <context>/**."`
	Lint         *TaskTweak `json:"lint,omitempty" doc:"Its lint task (see build.lint); defaults to build.lint when the pack is the same."`
	Test         *TaskTweak `json:"test,omitempty" doc:"Its unit-test task (see build.test); defaults to build.test when the pack is the same."`
}

// ImageContext is the folder the image builds from, relative to the
// repository: image.context, else build.context.
func (c *Config) ImageContext() string {
	if c.Image.Context != "" {
		return c.Image.Context
	}
	return c.Build.Context
}

// DockerfilePath is the Dockerfile relative to the repository.
func (c *Config) DockerfilePath() string {
	return path.Join(c.ImageContext(), c.Image.Dockerfile)
}

// relSlash is target relative to base, both slash paths relative to the
// repository (services/api/Dockerfile from . is services/api/Dockerfile,
// from docker it is ../services/api/Dockerfile).
func relSlash(base, target string) string {
	r, err := filepath.Rel(filepath.FromSlash(path.Clean(base)), filepath.FromSlash(path.Clean(target)))
	if err != nil {
		return target
	}
	return filepath.ToSlash(r)
}

// Images maps catalog image names to the references that replace them.
type Images map[string]string

// Tools are the images steps run pipewright from.
type Tools struct {
	Image string `json:"image,omitempty" doc:"The pipewright tool image, pinned by digest (REPO@sha256:...). Needed by image.builder go-image and deploy.strategy canary, and by the ChatOps trigger (/retest, /ok-to-test), whose interceptor runs from it: without it the project has no ChatOps trigger. Build and push it from pipewright's source with: pipewright image build --image REPO ./cmd/pipewright (the last line it prints is the value)."`
}

// App names the application.
type App struct {
	Name      string `json:"name" doc:"Application name; prefixes every generated object. A Kubernetes name (lowercase, digits, -)." required:"true"`
	Namespace string `json:"namespace,omitempty" doc:"Namespace the pipelines and triggers run in." default:"default"`
}

// Build selects the build pack and tunes its Tasks.
type Build struct {
	Pack     string    `json:"pack" doc:"Build pack: go, bun, node, python, java or docker (Dockerfile only)." enum:"go,bun,node,python,java,docker" required:"true"`
	Context  string    `json:"context,omitempty" doc:"Folder of the project inside the repository." default:"."`
	Version  string    `json:"version,omitempty" doc:"Toolchain version the pack's Tasks run, as the repository states it: Go from go.mod (its toolchain line, else its go line, e.g. 1.25.3), Node's major (.nvmrc, .node-version, engines.node, e.g. 22), Python's minor (.python-version, requires-python, e.g. 3.13), Java's release (pom.xml or Gradle, e.g. 17), Bun's minor (.bun-version, packageManager, e.g. 1.3). pipewright init writes it; empty runs the catalog's default image. The version must be pinned in pipewright's image lock (pipewright images lists them) unless images: replaces that image. Quote it: 1.25 unquoted is a number."`
	Commands string    `json:"commands,omitempty" doc:"What the lint and test tasks run. toolchain: the pack's own Tasks (golangci-lint, go test, ...). make: the repository Makefile's targets, make lint and make test, as Jenkins X build packs run them (go pack only: its golang image has make); build.lint.params.targets and build.test.params.targets change the targets, e.g. build test." enum:"toolchain,make" default:"toolchain"`
	Lint     TaskTweak `json:"lint,omitempty" doc:"The lint task: enabled and params passed to its catalog Task (e.g. flags for go-lint)."`
	Test     TaskTweak `json:"test,omitempty" doc:"The unit-test task: params passed to its catalog Task (e.g. race for go-test, script for node-test)."`
	Cache    string    `json:"cache,omitempty" doc:"Where the build caches (Go modules and build cache, npm, pip, Maven) live. run: in the run's own volume, beside the checkout, shared by its tasks and deleted with it; every TaskRun binds one claim, as Tekton's default coschedule: workspaces requires. shared: on a claim per pipeline kept between runs (<app>-cache-pull-request, <app>-cache-release, so pull requests never write the release's cache); lint and test TaskRuns then bind two claims, which needs Tekton's coschedule feature flag (configmap feature-flags in tekton-pipelines) set to pipelineruns or disabled, and runs on several nodes at once need a ReadWriteMany storage class." enum:"run,shared" default:"run"`
}

// TaskTweak turns a pipeline task on or off and overrides its params.
type TaskTweak struct {
	Disabled bool              `json:"disabled,omitempty" doc:"Leave this task out."`
	Params   map[string]string `json:"params,omitempty" doc:"Params for the catalog Task, by name; unknown names are an error."`
}

// Image is the image the pipelines build.
type Image struct {
	Repository string   `json:"repository" doc:"Image repository to push to, without tag (e.g. ghcr.io/acme/api)." required:"true"`
	Context    string   `json:"context,omitempty" doc:"Folder the image builds from (its build context), relative to the repository; defaults to build.context. Set it to . when the Dockerfile copies files from outside the project's folder, e.g. a monorepo service whose Dockerfile COPYs the root go.mod: lint and tests still run in build.context. With it set, image.dockerfile is relative to this folder and defaults to the Dockerfile in build.context (services/api/Dockerfile)."`
	Dockerfile string   `json:"dockerfile,omitempty" doc:"Dockerfile, relative to the image's context: image.context when set, else build.context." default:"Dockerfile"`
	PRTag      bool     `json:"prTag,omitempty" doc:"Push pull-request builds as REPOSITORY:pr-<number> instead of building without pushing."`
	Builder    string   `json:"builder,omitempty" doc:"How the image is built: dockerfile (rootless BuildKit, from image.dockerfile) or go-image (the Go pack's daemonless, rootless, reproducible build of image.package with an SBOM; needs tools.image)." enum:"dockerfile,go-image" default:"dockerfile"`
	Package    string   `json:"package,omitempty" doc:"With builder go-image: the Go main package to build, relative to build.context." default:"."`
	Platforms  []string `json:"platforms,omitempty" doc:"With builder go-image: os/arch platforms; more than one pushes an image index." default:"[linux/amd64]"`
	Base       string   `json:"base,omitempty" doc:"With builder go-image: the base image, pinned by digest; defaults to the catalog's distroless static image."`
	PushSecret string   `json:"pushSecret,omitempty" doc:"Secret with the registry credentials to push image.repository (type kubernetes.io/dockerconfigjson, as kubectl create secret docker-registry makes it). Mounted only into the image build of release runs (and of pull-request runs with prTag), never into the service account. Defaults to <app>-registry."`
}

// Deploy is the release pipeline's deploy stage.
type Deploy struct {
	Manifests  string   `json:"manifests,omitempty" doc:"Folder of Kubernetes manifests (or a kustomization) in the repository." default:"k8s"`
	Deployment string   `json:"deployment,omitempty" doc:"The Deployment that runs the image; defaults to app.name."`
	Container  string   `json:"container,omitempty" doc:"The container of that Deployment to update; defaults to app.name."`
	Namespace  string   `json:"namespace,omitempty" doc:"Namespace to deploy into; defaults to app.namespace."`
	Strategy   string   `json:"strategy,omitempty" doc:"rolling (kubectl apply and wait) or canary (progressive, gated by Prometheus)." enum:"rolling,canary" default:"rolling"`
	Canary     Canary   `json:"canary,omitempty" doc:"Canary settings, used when strategy is canary."`
	Disabled   bool     `json:"disabled,omitempty" doc:"No deploy stage: the release pipeline stops after pushing the image."`
	Resources  []string `json:"resources,omitempty" doc:"More namespaced API resources the release may apply from deploy.manifests, as RESOURCE.GROUP (httproutes.gateway.networking.k8s.io, ingresses.networking.k8s.io, horizontalpodautoscalers.autoscaling; a core resource is its name alone, e.g. serviceaccounts). Deployments, Services and ConfigMaps are always allowed; anything else a manifest holds is refused to the release service account."`
}

// Canary configures progressive delivery.
type Canary struct {
	Steps        []int   `json:"steps,omitempty" doc:"Traffic percentages for the canary, increasing, ending at 100." default:"[10,25,50,100]"`
	Interval     string  `json:"interval,omitempty" doc:"Time between analysis samples (Go duration)." default:"1m"`
	Samples      int     `json:"samples,omitempty" doc:"Analysis samples per step." default:"3"`
	FailureLimit int     `json:"failureLimit,omitempty" doc:"Failing or no-data samples that roll the release back (1: the first one does)." default:"2"`
	SuccessRate  float64 `json:"successRate,omitempty" doc:"Minimum request success rate, in percent." default:"99"`
	LatencyP99   string  `json:"latencyP99,omitempty" doc:"Maximum p99 latency (Go duration)." default:"500ms"`
	Prometheus   string  `json:"prometheus,omitempty" doc:"Prometheus base URL." default:"http://prometheus.monitoring:9090"`
	Traffic      string  `json:"traffic,omitempty" doc:"How traffic is split: gateway-api (HTTPRoute weights) or smi (TrafficSplit)." enum:"gateway-api,smi" default:"gateway-api"`
	Route        string  `json:"route,omitempty" doc:"The HTTPRoute or TrafficSplit to shift; defaults to app.name."`
	Controller   string  `json:"controller,omitempty" doc:"Who runs the canary: pipewright (this config's steps and analysis), flagger (set the image, wait for Flagger's Canary verdict) or argo-rollouts (set the Rollout's image, wait for its verdict)." enum:"pipewright,flagger,argo-rollouts" default:"pipewright"`
	Deadline     string  `json:"deadline,omitempty" doc:"How long a Deployment may take to become available (pipewright), or the whole release may take (flagger, argo-rollouts); Go duration. Defaults to 10m, or 30m with flagger and argo-rollouts." default:"10m"`
	// Pointer: an explicit 0 is refused rather than taken for the default.
	ConsecutiveErrorLimit *int            `json:"consecutiveErrorLimit,omitempty" doc:"Samples in a row whose queries fail (Prometheus unreachable, a 503 or 422 answer) that are tolerated; one more rolls back. They are not failures." default:"4"`
	Metrics               []CanaryMetric  `json:"metrics,omitempty" doc:"Analysis metrics replacing successRate and latencyP99 (the built-in two, used when this is empty)."`
	Webhooks              []CanaryWebhook `json:"webhooks,omitempty" doc:"HTTP calls at Flagger's points of the release (controller pipewright)."`
}

// CanaryMetric is one analysis metric, as in Flagger's Canary analysis.
type CanaryMetric struct {
	Name      string  `json:"name" doc:"Metric name, for the log and the report." required:"true"`
	Query     string  `json:"query" doc:"PromQL, a Go template over {{ .Canary }} and {{ .Stable }} (the Deployments), {{ .App }}, {{ .Namespace }}, {{ .Track }} (canary, or stable in the preflight) and {{ .Interval }} (the rate() range); it must return one value." required:"true"`
	Threshold float64 `json:"threshold" doc:"The bound the value must keep." required:"true"`
	Direction string  `json:"direction" doc:"min: the value must stay at or above the threshold; max: at or below." enum:"min,max" required:"true"`
	Interval  string  `json:"interval,omitempty" doc:"The query's rate() range ({{ .Interval }}); defaults to the release's interval, at least 1m."`
	Unit      string  `json:"unit,omitempty" doc:"For the report, e.g. % or ms; with % the threshold is a percentage (0 to 100)."`
}

// CanaryWebhook is one webhook, as in Flagger's Canary analysis.
type CanaryWebhook struct {
	Name     string            `json:"name" doc:"Webhook name." required:"true"`
	Type     string            `json:"type" doc:"pre-rollout: before the canary gets traffic (a failure rolls back with no traffic moved); rollout: before every sample, e.g. a load test (a failure fails the sample); confirm-promotion: after the last step, asked every interval until it answers 2xx." enum:"pre-rollout,rollout,confirm-promotion" required:"true"`
	URL      string            `json:"url" doc:"http or https URL; it receives a POST of {name, namespace, phase, image, weight, metadata}." required:"true"`
	Timeout  string            `json:"timeout,omitempty" doc:"Go duration." default:"10s"`
	Metadata map[string]string `json:"metadata,omitempty" doc:"Sent with every call."`
}

// GitHub is the repository that triggers the pipelines.
type GitHub struct {
	Repository    string     `json:"repository" doc:"owner/name of the GitHub repository." required:"true"`
	DefaultBranch string     `json:"defaultBranch,omitempty" doc:"Merges to this branch run the release pipeline." default:"main"`
	APIURL        string     `json:"apiURL,omitempty" doc:"GitHub REST API root; set for GitHub Enterprise (https://HOST/api/v3)." default:"https://api.github.com"`
	StatusContext string     `json:"statusContext,omitempty" doc:"Commit status context the pipelines report under; defaults to pipewright/<app>."`
	Drafts        bool       `json:"drafts,omitempty" doc:"Run the PR pipeline on draft pull requests too."`
	Owners        []string   `json:"owners,omitempty" doc:"GitHub logins trusted to run CI on pull requests from forks and to approve them with /ok-to-test (besides the OWNERS file and collaborators)."`
	RunURL        string     `json:"runURL,omitempty" doc:"Link on the commit statuses to the run: {namespace} and {name} are the PipelineRun's, e.g. https://dashboard.example.com/#/namespaces/{namespace}/pipelineruns/{name} (Tekton Dashboard). Empty: no link."`
	TokenSecret   string     `json:"tokenSecret,omitempty" doc:"Secret with the GitHub token (key token) for statuses." default:"github-token"`
	WebhookSecret string     `json:"webhookSecret,omitempty" doc:"Secret with the webhook secret (key secret) the EventListener checks signatures with." default:"github-webhook"`
	App           *GitHubApp `json:"app,omitempty" doc:"A GitHub App the pipelines report through: each reports a check run named after it (a table of its tasks, a failed task's last lines and file:line annotations) instead of a commit status. Needs tools.image."`
}

// GitHubApp is the GitHub App the pipelines' check runs are written as.
type GitHubApp struct {
	ID             int64  `json:"id" doc:"The App's id (its settings page shows it)." required:"true"`
	InstallationID int64  `json:"installationID,omitempty" doc:"The App's installation on the repository; looked up on each report when not given."`
	KeySecret      string `json:"keySecret,omitempty" doc:"Secret with the App's private key (key private-key.pem, the PEM file GitHub lets you download)." default:"github-app"`
}

// Tasks says where pipelines get their Tasks.
type Tasks struct {
	From   string `json:"from,omitempty" doc:"embedded (Task copies in the output), cluster (the catalog installed in the cluster) or bundle (Tekton bundles resolver)." enum:"embedded,cluster,bundle" default:"embedded"`
	Bundle string `json:"bundle,omitempty" doc:"With from: bundle, the catalog bundle pinned by digest (REPO@sha256:...)."`
}

// Overrides tune pipeline tasks by their name in the pipeline (clone, lint,
// test, build-image, deploy, ...).
type Overrides map[string]Override

// Override sets a pipeline task's timeout and its steps' requests.
type Override struct {
	Timeout string `json:"timeout,omitempty" doc:"Pipeline task timeout (Go duration)."`
	CPU     string `json:"cpu,omitempty" doc:"CPU request for every step (Kubernetes quantity)."`
	Memory  string `json:"memory,omitempty" doc:"Memory request for every step (Kubernetes quantity)."`
}
