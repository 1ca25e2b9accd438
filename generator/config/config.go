// Package config is pipewright.yaml: the project config typed in Go, its
// loader (errors carry file:line:col, the field path and a hint), semantic
// validation, and the JSON Schema generated from these types.
//
// Each field's `doc` tag is its documentation: the schema's description and
// the comment `pipewright init` writes above it.
package config

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
	Images     Images    `json:"images,omitempty" doc:"Replace catalog images, e.g. with copies in a mirrored or air-gapped registry: catalog image name (golang, git-init, kubectl, ...; pipewright images lists them) to a reference pinned by digest, REPO[:TAG]@sha256:<64 hex>. Applies to every step image and image param default of the Tasks generate writes; pipewright generate --images FILE overrides it per image."`
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
	Pack    string    `json:"pack" doc:"Build pack: go, node, python, java or docker (Dockerfile only)." enum:"go,node,python,java,docker" required:"true"`
	Context string    `json:"context,omitempty" doc:"Folder of the project inside the repository." default:"."`
	Lint    TaskTweak `json:"lint,omitempty" doc:"The lint task: enabled and params passed to its catalog Task (e.g. flags for go-lint)."`
	Test    TaskTweak `json:"test,omitempty" doc:"The unit-test task: params passed to its catalog Task (e.g. race for go-test, script for node-test)."`
	Cache   string    `json:"cache,omitempty" doc:"Where the build caches (Go modules and build cache, npm, pip, Maven) live. run: in the run's own volume, beside the checkout, shared by its tasks and deleted with it; every TaskRun binds one claim, as Tekton's default coschedule: workspaces requires. shared: on a claim per pipeline kept between runs (<app>-cache-pull-request, <app>-cache-release, so pull requests never write the release's cache); lint and test TaskRuns then bind two claims, which needs Tekton's coschedule feature flag (configmap feature-flags in tekton-pipelines) set to pipelineruns or disabled, and runs on several nodes at once need a ReadWriteMany storage class." enum:"run,shared" default:"run"`
}

// TaskTweak turns a pipeline task on or off and overrides its params.
type TaskTweak struct {
	Disabled bool              `json:"disabled,omitempty" doc:"Leave this task out."`
	Params   map[string]string `json:"params,omitempty" doc:"Params for the catalog Task, by name; unknown names are an error."`
}

// Image is the image the pipelines build.
type Image struct {
	Repository string   `json:"repository" doc:"Image repository to push to, without tag (e.g. ghcr.io/acme/api)." required:"true"`
	Dockerfile string   `json:"dockerfile,omitempty" doc:"Dockerfile, relative to build.context." default:"Dockerfile"`
	PRTag      bool     `json:"prTag,omitempty" doc:"Push pull-request builds as REPOSITORY:pr-<number> instead of building without pushing."`
	Builder    string   `json:"builder,omitempty" doc:"How the image is built: dockerfile (kaniko, from image.dockerfile) or go-image (the Go pack's daemonless, rootless, reproducible build of image.package with an SBOM; needs tools.image)." enum:"dockerfile,go-image" default:"dockerfile"`
	Package    string   `json:"package,omitempty" doc:"With builder go-image: the Go main package to build, relative to build.context." default:"."`
	Platforms  []string `json:"platforms,omitempty" doc:"With builder go-image: os/arch platforms; more than one pushes an image index." default:"[linux/amd64]"`
	Base       string   `json:"base,omitempty" doc:"With builder go-image: the base image, pinned by digest; defaults to the catalog's distroless static image."`
	PushSecret string   `json:"pushSecret,omitempty" doc:"Secret with the registry credentials to push image.repository (type kubernetes.io/dockerconfigjson, as kubectl create secret docker-registry makes it). Mounted only into the image build of release runs (and of pull-request runs with prTag), never into the service account. Defaults to <app>-registry."`
}

// Deploy is the release pipeline's deploy stage.
type Deploy struct {
	Manifests  string `json:"manifests,omitempty" doc:"Folder of Kubernetes manifests (or a kustomization) in the repository." default:"k8s"`
	Deployment string `json:"deployment,omitempty" doc:"The Deployment that runs the image; defaults to app.name."`
	Container  string `json:"container,omitempty" doc:"The container of that Deployment to update; defaults to app.name."`
	Namespace  string `json:"namespace,omitempty" doc:"Namespace to deploy into; defaults to app.namespace."`
	Strategy   string `json:"strategy,omitempty" doc:"rolling (kubectl apply and wait) or canary (progressive, gated by Prometheus)." enum:"rolling,canary" default:"rolling"`
	Canary     Canary `json:"canary,omitempty" doc:"Canary settings, used when strategy is canary."`
	Disabled   bool   `json:"disabled,omitempty" doc:"No deploy stage: the release pipeline stops after pushing the image."`
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
}

// GitHub is the repository that triggers the pipelines.
type GitHub struct {
	Repository    string   `json:"repository" doc:"owner/name of the GitHub repository." required:"true"`
	DefaultBranch string   `json:"defaultBranch,omitempty" doc:"Merges to this branch run the release pipeline." default:"main"`
	APIURL        string   `json:"apiURL,omitempty" doc:"GitHub REST API root; set for GitHub Enterprise (https://HOST/api/v3)." default:"https://api.github.com"`
	StatusContext string   `json:"statusContext,omitempty" doc:"Commit status context the pipelines report under; defaults to pipewright/<app>."`
	Drafts        bool     `json:"drafts,omitempty" doc:"Run the PR pipeline on draft pull requests too."`
	Owners        []string `json:"owners,omitempty" doc:"GitHub logins trusted to run CI on pull requests from forks and to approve them with /ok-to-test (besides the OWNERS file and collaborators)."`
	RunURL        string   `json:"runURL,omitempty" doc:"Link on the commit statuses to the run: {namespace} and {name} are the PipelineRun's, e.g. https://dashboard.example.com/#/namespaces/{namespace}/pipelineruns/{name} (Tekton Dashboard). Empty: no link."`
	TokenSecret   string   `json:"tokenSecret,omitempty" doc:"Secret with the GitHub token (key token) for statuses." default:"github-token"`
	WebhookSecret string   `json:"webhookSecret,omitempty" doc:"Secret with the webhook secret (key secret) the EventListener checks signatures with." default:"github-webhook"`
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
