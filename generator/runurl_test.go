package generator_test

import (
	"strings"
	"testing"

	"github.com/pipewright/pipewright/generator/generatortest"
	"github.com/pipewright/pipewright/pkg/tekton"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	"github.com/tektoncd/pipeline/pkg/substitution"
)

// TestRunURL: github.runURL reaches every commit status as its target_url,
// with the run's namespace and name filled in by Tekton's substitution in
// the order its reconciler applies it (pipelinerun.go: ApplyParameters,
// then ApplyContexts), with the param's default as the value.
func TestRunURL(t *testing.T) {
	tree := generatortest.Project(t, "  runURL: https://dashboard.example.com/#/namespaces/{namespace}/pipelineruns/{name}\n")
	const want = "https://dashboard.example.com/#/namespaces/ci/pipelineruns/hello-world-pull-request-x7k2p"
	for _, f := range []string{"pipelines/hello-world-pull-request.yaml", "pipelines/hello-world-release.yaml"} {
		objs, err := tekton.Decode(f, tree[f])
		if err != nil {
			t.Fatal(err)
		}
		p := objs[0].Obj.(*v1.Pipeline)
		params := map[string]string{}
		for _, ps := range p.Spec.Params {
			if ps.Default != nil {
				params["params."+ps.Name] = ps.Default.StringVal
			}
		}
		contexts := map[string]string{"context.pipelineRun.name": "hello-world-pull-request-x7k2p", "context.pipelineRun.namespace": "ci"}
		spec := p.Spec.DeepCopy()
		for i := range spec.Finally {
			for j := range spec.Finally[i].Params {
				v := &spec.Finally[i].Params[j].Value
				v.StringVal = substitution.ApplyReplacements(substitution.ApplyReplacements(v.StringVal, params), contexts)
			}
		}
		for i := range spec.Tasks {
			for j := range spec.Tasks[i].Params {
				v := &spec.Tasks[i].Params[j].Value
				v.StringVal = substitution.ApplyReplacements(substitution.ApplyReplacements(v.StringVal, params), contexts)
			}
		}
		n := 0
		for _, pt := range append(append([]v1.PipelineTask{}, spec.Tasks...), spec.Finally...) {
			if pt.TaskRef == nil || pt.TaskRef.Name != "github-set-status" {
				continue
			}
			n++
			got := ""
			for _, prm := range pt.Params {
				if prm.Name == "target-url" {
					got = prm.Value.StringVal
				}
			}
			if got != want {
				t.Errorf("%s: %s target-url %q, want %q", f, pt.Name, got, want)
			}
		}
		if n < 2 {
			t.Errorf("%s: %d status tasks", f, n)
		}
	}
	// Without runURL: no link.
	if p := string(generatortest.Project(t, "")["pipelines/hello-world-pull-request.yaml"]); !strings.Contains(p, "name: run-url") {
		t.Error("no run-url param")
	}
}
