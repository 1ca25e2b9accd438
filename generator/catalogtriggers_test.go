package generator_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipewright/pipewright/generator"
	"github.com/pipewright/pipewright/generator/render"
	"github.com/pipewright/pipewright/generator/trigger"
	"github.com/pipewright/pipewright/pkg/simulate"
	"github.com/pipewright/pipewright/pkg/tekton"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	triggersv1 "github.com/tektoncd/triggers/pkg/apis/triggers/v1beta1"
)

// TestCatalogTriggers: every catalog pipeline has a TriggerTemplate, and a
// real GitHub delivery, through the catalog's binding and Triggers' own
// interceptors and resolution (simulate), makes a PipelineRun of it that
// binds every param the pipeline requires and every workspace it needs,
// and validates. The README's EventListener validates too.
func TestCatalogTriggers(t *testing.T) {
	tree, err := generator.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	readme := string(tree["triggers/README.md"])
	start := strings.Index(readme, "```yaml\n")
	end := strings.LastIndex(readme, "```")
	if start < 0 || end <= start {
		t.Fatal("triggers/README.md has no EventListener example")
	}
	if _, err := tekton.All(map[string][]byte{"README example": []byte(readme[start+8 : end])}); err != nil {
		t.Errorf("README example: %v", err)
	}

	var pipelines []*v1.Pipeline
	for _, p := range tree.Paths() {
		if strings.HasPrefix(p, "pipelines/") && strings.HasSuffix(p, ".yaml") {
			objs, err := tekton.Decode(p, tree[p])
			if err != nil {
				t.Fatal(err)
			}
			pipelines = append(pipelines, objs[0].Obj.(*v1.Pipeline))
		}
	}
	if len(pipelines) == 0 {
		t.Fatal("no catalog pipelines")
	}
	payload := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("../test/testdata/github-webhooks", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	const secret = "s3cret"
	for _, p := range pipelines {
		t.Run(p.Name, func(t *testing.T) {
			if _, ok := tree["triggers/templates/"+p.Name+".yaml"]; !ok {
				t.Fatalf("no template for %s", p.Name)
			}
			// The README's listener, for the repository GitHub's example
			// payloads come from, starting this pipeline, every param bound.
			el := trigger.CatalogListenerExample("Codertocat/Hello-World", "master")
			event, file, tr := "pull_request", "pull_request.opened.json", &el.Spec.Triggers[0]
			if !strings.HasSuffix(p.Name, "-pull-request") {
				event, file, tr = "push", "push.with-new-branch.json", &el.Spec.Triggers[1]
			}
			name := trigger.CatalogPrefix + p.Name
			tr.Template.Ref = &name
			have := map[string]bool{}
			for _, b := range tr.Bindings {
				have[b.Name] = true
			}
			for _, ps := range p.Spec.Params {
				if ps.Default == nil && !have[ps.Name] && !strings.HasPrefix(ps.Name, "repo") && ps.Name != "revision" {
					v := "x-" + ps.Name
					tr.Bindings = append(tr.Bindings, &triggersv1.EventListenerBinding{Name: ps.Name, Value: &v})
				}
			}
			y, err := tekton.Marshal(el)
			if err != nil {
				t.Fatal(err)
			}
			sim := render.Tree{"triggers/eventlistener.yaml": y}
			for f, b := range tree {
				if strings.HasPrefix(f, "triggers/") {
					sim[f] = b
				}
			}
			res, err := simulate.Run(context.Background(), sim, simulate.Delivery{Event: event, Payload: payload(file), Secret: secret}, simulate.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Fired) != 1 {
				t.Fatalf("fired %d runs; skipped %+v", len(res.Fired), res.Skipped)
			}
			run := res.Fired[0].PipelineRun
			if run.Spec.PipelineRef == nil || run.Spec.PipelineRef.Name != p.Name {
				t.Errorf("run of %v", run.Spec.PipelineRef)
			}
			bound := map[string]bool{}
			for _, rp := range run.Spec.Params {
				bound[rp.Name] = true
			}
			for _, ps := range p.Spec.Params {
				if ps.Default == nil && !bound[ps.Name] {
					t.Errorf("param %s is not bound", ps.Name)
				}
			}
			ws := map[string]bool{}
			for _, w := range run.Spec.Workspaces {
				ws[w.Name] = true
			}
			for _, w := range p.Spec.Workspaces {
				if !w.Optional && !ws[w.Name] {
					t.Errorf("workspace %s is not bound", w.Name)
				}
			}
			if run.Labels[trigger.DeliveryLabel] == "" || run.Labels[trigger.SHALabel] == "" {
				t.Errorf("labels %v", run.Labels)
			}
			if pr := strings.HasSuffix(p.Name, "-pull-request"); pr {
				pt := run.Spec.TaskRunTemplate.PodTemplate
				if pt == nil || pt.AutomountServiceAccountToken == nil || *pt.AutomountServiceAccountToken {
					t.Error("a pull-request run mounts a service-account token")
				}
			}
		})
	}
}
