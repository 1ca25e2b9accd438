package generator_test

import (
	"strings"
	"testing"
	"time"

	"github.com/pipewright/pipewright/generator"
	"github.com/pipewright/pipewright/generator/config"
	"github.com/pipewright/pipewright/generator/generatortest"
	"github.com/pipewright/pipewright/pkg/canary"
	"github.com/pipewright/pipewright/pkg/tekton"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"
)

func params(pt v1.PipelineTask) map[string]string {
	out := map[string]string{}
	for _, p := range pt.Params {
		out[p.Name] = p.Value.StringVal
	}
	return out
}

func taskByName(ts []v1.PipelineTask, name string) (v1.PipelineTask, bool) {
	for _, pt := range ts {
		if pt.Name == name {
			return pt, true
		}
	}
	return v1.PipelineTask{}, false
}

// The release pipeline of a Go service with go-image and a canary deploy:
// generate (which validates every object with Tekton's Validate and checks
// the wiring against the Tasks), then look at what was wired where. The
// tool image is a real one, built from this repository into an in-process
// registry.
func TestGoImageAndCanaryPipelines(t *testing.T) {
	tool := generatortest.ToolImage(t)
	tree := generatortest.ProjectWith(t, "  repository: ghcr.io/codertocat/hello-world\n", `  repository: ghcr.io/codertocat/hello-world
  builder: go-image
  package: ./cmd/hello
  platforms: [linux/amd64, linux/arm64]
`, `deploy:
  strategy: canary
  canary:
    steps: [20, 50, 100]
    interval: 30s
    latencyP99: 250ms
    traffic: smi
tools:
  image: `+tool+"\n")
	// Generation's own check has passed; run it again over the tree as
	// `pipewright lint` and the tests see it, to show validation and wiring
	// hold for the written files too.
	if _, err := tekton.All(tree); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"tasks/go-image.yaml", "tasks/canary-release.yaml"} {
		if _, ok := tree[f]; !ok {
			t.Errorf("%s not generated", f)
		}
	}
	for _, f := range []string{"tasks/image-build.yaml", "tasks/kubectl-apply.yaml"} {
		if _, ok := tree[f]; ok {
			t.Errorf("%s generated although unused", f)
		}
	}
	ps := pipelines(t, tree)
	rel := ps["hello-world-release"]
	if rel == nil {
		t.Fatal("no release pipeline")
	}
	for _, p := range rel.Spec.Params {
		if p.Name == "pipewright-image" && (p.Default == nil || p.Default.StringVal != tool) {
			t.Errorf("pipewright-image default = %v, want %s", p.Default, tool)
		}
	}
	build, _ := taskByName(rel.Spec.Tasks, "build-image")
	if build.TaskRef.Name != "go-image" {
		t.Fatalf("build-image uses %s", build.TaskRef.Name)
	}
	bp := params(build)
	for k, want := range map[string]string{
		"package": "./cmd/hello", "platforms": "linux/amd64,linux/arm64", "tag": "$(tasks.clone.results.commit)",
		"pipewright-image": "$(params.pipewright-image)", "image": "$(params.image)",
	} {
		if bp[k] != want {
			t.Errorf("build-image param %s = %q, want %q", k, bp[k], want)
		}
	}
	if _, ok := bp["no-push"]; ok {
		t.Error("release build must push")
	}
	deploy, _ := taskByName(rel.Spec.Tasks, "deploy")
	if deploy.TaskRef.Name != "canary-release" {
		t.Fatalf("deploy uses %s", deploy.TaskRef.Name)
	}
	dp := params(deploy)
	for k, want := range map[string]string{
		"image": "$(tasks.build-image.results.IMAGE_URL)@$(tasks.build-image.results.IMAGE_DIGEST)",
		"steps": "20,50,100", "interval": "30s", "latency-p99": "250", "router": "smi", "strategy": "pipewright",
		"samples": "3", "failure-limit": "2", "success-rate": "99", "app": "$(params.deployment)",
	} {
		if dp[k] != want {
			t.Errorf("deploy param %s = %q, want %q", k, dp[k], want)
		}
	}
	if deploy.Timeout == nil || deploy.Timeout.Duration.Hours() < 1 {
		t.Errorf("canary deploy timeout %v: too short for a canary", deploy.Timeout)
	}
	for state, op := range map[string]string{"success": "in", "failure": "notin"} {
		f, ok := taskByName(rel.Spec.Finally, "report-canary-"+state)
		if !ok {
			t.Errorf("finally lacks report-canary-%s", state)
			continue
		}
		if len(f.When) != 1 || f.When[0].Input != "$(tasks.deploy.results.outcome)" || string(f.When[0].Operator) != op || f.When[0].Values[0] != "promoted" {
			t.Errorf("report-canary-%s when = %+v", state, f.When)
		}
		if p := params(f); p["description"] != "$(tasks.deploy.results.summary)" || p["state"] != state || p["context"] != "$(params.status-context)/canary" {
			t.Errorf("report-canary-%s params = %v", state, p)
		}
	}

	// A release killed before its decision (the deploy task failed without
	// an outcome) is undone in finally; canary-restore itself leaves a
	// release that ended alone.
	restore, ok := taskByName(rel.Spec.Finally, "restore-canary")
	if !ok {
		t.Fatal("finally lacks restore-canary")
	}
	if restore.TaskRef.Name != "canary-restore" || len(restore.When) != 1 || restore.When[0].Input != "$(tasks.deploy.status)" ||
		string(restore.When[0].Operator) != "in" || restore.When[0].Values[0] != "Failed" {
		t.Errorf("restore-canary = %s when %+v", restore.TaskRef.Name, restore.When)
	}
	rp := params(restore)
	for k, want := range map[string]string{
		"image": dp["image"], "app": "$(params.deployment)", "namespace": "$(params.namespace)", "router": "smi",
		"strategy": "pipewright", "pipewright-image": "$(params.pipewright-image)",
	} {
		if rp[k] != want {
			t.Errorf("restore-canary param %s = %q, want %q", k, rp[k], want)
		}
	}
	if _, ok := tree["tasks/canary-restore.yaml"]; !ok {
		t.Error("tasks/canary-restore.yaml not generated")
	}

	pr := ps["hello-world-pull-request"]
	prb, _ := taskByName(pr.Spec.Tasks, "build-image")
	if p := params(prb); prb.TaskRef.Name != "go-image" || p["no-push"] != "true" {
		t.Errorf("PR build-image = %s %v, want go-image without push", prb.TaskRef.Name, p)
	}
	if _, ok := taskByName(pr.Spec.Finally, "report-canary-success"); ok {
		t.Error("the PR pipeline reports a canary")
	}

	var role rbacv1.Role
	if err := yaml.Unmarshal(tree["rbac/deployer-role.yaml"], &role); err != nil {
		t.Fatal(err)
	}
	var groups []string
	for _, r := range role.Rules {
		groups = append(groups, r.APIGroups[0]+"/"+strings.Join(r.Resources, ","))
	}
	for _, want := range []string{"gateway.networking.k8s.io/httproutes", "split.smi-spec.io/trafficsplits"} {
		if !strings.Contains(strings.Join(groups, " "), want) {
			t.Errorf("deployer role lacks %s: %v", want, groups)
		}
	}
}

// A canary that cannot promote within the deploy task's timeout is refused
// at the field that sets its pace; the run's timeout leaves the canary its
// time, and finally its own.
func TestCanaryTimeBudget(t *testing.T) {
	tool := generatortest.ToolImage(t)
	_, err := generator.Project(generatortest.Config(t, "deploy:\n  strategy: canary\n  canary:\n    interval: 10m\ntools:\n  image: "+tool+"\n"))
	if es := config.ErrorsOf(err); len(es) != 1 || !strings.Contains(es[0].Error(), "deploy.canary.interval: the canary needs at least 2h10m0s (4 steps × 3 samples × 10m + deadline 10m), more than the deploy task's 2h0m0s timeout") {
		t.Fatalf("want a positioned refusal, got %v", err)
	}
	tree := generatortest.Project(t, "deploy:\n  strategy: canary\n  canary:\n    interval: 10m\noverrides:\n  deploy:\n    timeout: 3h\ntools:\n  image: "+tool+"\n")
	var run v1.PipelineRun
	if err := yaml.Unmarshal(tree["runs/release.yaml"], &run); err != nil {
		t.Fatal(err)
	}
	to := run.Spec.Timeouts
	if to.Pipeline.Duration != 4*time.Hour || to.Finally.Duration != 10*time.Minute || to.Tasks.Duration != 4*time.Hour-10*time.Minute {
		t.Errorf("release run timeouts %+v, want 4h with 10m kept for finally", to)
	}
}

// Flagger and Argo Rollouts own the traffic split; the pipeline passes the
// controller and leaves the analysis to them.
func TestCanaryControllers(t *testing.T) {
	tool := generatortest.ToolImage(t)
	for _, ctl := range []string{"flagger", "argo-rollouts"} {
		tree := generatortest.Project(t, "deploy:\n  strategy: canary\n  canary:\n    controller: "+ctl+"\ntools:\n  image: "+tool+"\n")
		deploy, _ := taskByName(pipelines(t, tree)["hello-world-release"].Spec.Tasks, "deploy")
		if got := params(deploy)["strategy"]; got != ctl {
			t.Errorf("%s: strategy param %q", ctl, got)
		}
		// The controller owns the traffic: nothing for pipewright to restore.
		if _, ok := taskByName(pipelines(t, tree)["hello-world-release"].Spec.Finally, "restore-canary"); ok {
			t.Errorf("%s: finally restores the canary", ctl)
		}
		if _, ok := tree["tasks/canary-restore.yaml"]; ok {
			t.Errorf("%s: tasks/canary-restore.yaml generated", ctl)
		}
	}
}

// deploy.canary's metrics and webhooks reach canary-release as the JSON its
// --metrics and --webhooks read; configs without them keep the Task's
// defaults (no param).
func TestCanaryMetricsAndWebhooksParams(t *testing.T) {
	tool := generatortest.ToolImage(t)
	tree := generatortest.Project(t, `deploy:
  strategy: canary
  canary:
    consecutiveErrorLimit: 6
    metrics:
    - {name: errors, query: "100 * sum(rate(http_requests_total{deployment=\"{{ .Canary }}\",code=~\"5..\"}[{{ .Interval }}]))", threshold: 1, direction: max, interval: 2m, unit: "%"}
    webhooks:
    - {name: acceptance, type: pre-rollout, url: "http://tester.test/check", timeout: 30s}
tools:
  image: `+tool+"\n")
	deploy, _ := taskByName(pipelines(t, tree)["hello-world-release"].Spec.Tasks, "deploy")
	p := params(deploy)
	ms, err := canary.ParseMetrics(p["metrics"])
	if err != nil || len(ms) != 1 || ms[0].Name != "errors" || *ms[0].Max != 1 || ms[0].Interval != 2*time.Minute {
		t.Errorf("metrics param %q: %v, %+v", p["metrics"], err, ms)
	}
	hs, err := canary.ParseWebhooks(p["webhooks"])
	if err != nil || len(hs) != 1 || hs[0].Type != canary.PreRollout || hs[0].Timeout != 30*time.Second {
		t.Errorf("webhooks param %q: %v, %+v", p["webhooks"], err, hs)
	}
	if p["consecutive-error-limit"] != "6" {
		t.Errorf("consecutive-error-limit param %q", p["consecutive-error-limit"])
	}
	plain := generatortest.Project(t, "deploy:\n  strategy: canary\ntools:\n  image: "+tool+"\n")
	deploy, _ = taskByName(pipelines(t, plain)["hello-world-release"].Spec.Tasks, "deploy")
	for _, k := range []string{"metrics", "webhooks", "consecutive-error-limit"} {
		if v, ok := params(deploy)[k]; ok {
			t.Errorf("param %s = %q without deploy.canary setting it", k, v)
		}
	}
}
