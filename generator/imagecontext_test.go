package generator_test

import (
	"strings"
	"testing"

	"github.com/pipewright/pipewright/generator"
	"github.com/pipewright/pipewright/generator/builtin"
	"github.com/pipewright/pipewright/generator/config"
	"github.com/pipewright/pipewright/pkg/tekton"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
)

// pipelineOf generates the built-in example with its build and image
// blocks extended, and returns its pull-request pipeline.
func pipelineOf(t *testing.T, buildLines, imageLines string) *v1.Pipeline {
	t.Helper()
	src := strings.Replace(string(builtin.Config), "  pack: go\n", "  pack: go\n"+buildLines, 1)
	src = strings.Replace(src, "  repository: ghcr.io/codertocat/hello-world\n", "  repository: ghcr.io/codertocat/hello-world\n"+imageLines, 1)
	cfg, err := config.Parse(builtin.File, []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	tree, err := generator.Project(cfg)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := tekton.Decode("pr", tree["pipelines/hello-world-pull-request.yaml"])
	if err != nil {
		t.Fatal(err)
	}
	return objs[0].Obj.(*v1.Pipeline)
}

func taskParams(pl *v1.Pipeline, task string) map[string]string {
	out := map[string]string{}
	for _, pt := range pl.Spec.Tasks {
		if pt.Name == task {
			for _, p := range pt.Params {
				out[p.Name] = p.Value.StringVal
			}
		}
	}
	return out
}

func paramDefaults(pl *v1.Pipeline) map[string]string {
	out := map[string]string{}
	for _, ps := range pl.Spec.Params {
		if ps.Default != nil {
			out[ps.Name] = ps.Default.StringVal
		}
	}
	return out
}

// image.context: . builds the image from the repository root with the
// service's Dockerfile, while lint and tests run in build.context.
func TestImageContextPipeline(t *testing.T) {
	pl := pipelineOf(t, "  context: services/api\n", "  context: .\n")
	defs := paramDefaults(pl)
	if defs["context"] != "services/api" || defs["image-context"] != "." || defs["dockerfile"] != "services/api/Dockerfile" {
		t.Errorf("defaults context=%q image-context=%q dockerfile=%q, want services/api, . and services/api/Dockerfile", defs["context"], defs["image-context"], defs["dockerfile"])
	}
	if b := taskParams(pl, "build-image"); b["context"] != "$(params.image-context)" || b["dockerfile"] != "$(params.dockerfile)" {
		t.Errorf("build-image params %v, want context from image-context", b)
	}
	for _, task := range []string{"lint", "test"} {
		if p := taskParams(pl, task); p["context"] != "$(params.context)" {
			t.Errorf("%s params %v, want context from context", task, p)
		}
	}

	// Without it, the pipeline is as before: one context for all.
	pl = pipelineOf(t, "  context: services/api\n", "")
	if _, ok := paramDefaults(pl)["image-context"]; ok {
		t.Error("a pipeline without image.context declares image-context")
	}
	if b := taskParams(pl, "build-image"); b["context"] != "$(params.context)" {
		t.Errorf("build-image params %v, want context from context", b)
	}
}
