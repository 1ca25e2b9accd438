package generator_test

import (
	"context"
	"strings"
	"testing"

	"github.com/pipewright/pipewright/generator/generatortest"
	"github.com/pipewright/pipewright/pkg/bundle"
	"github.com/pipewright/pipewright/test/refregistry"
)

// The catalog pushed as a bundle, and a project generated with tasks.from:
// bundle and the digest the push printed: every taskRef in the pipelines
// goes through the bundles resolver to that digest, and names a Task that
// the bundle, read back, holds.
func TestBundleModeReferencesThePushedCatalog(t *testing.T) {
	reg := refregistry.InProcess(t)
	ctx := context.Background()
	objs, err := bundle.Load("../tasks")
	if err != nil {
		t.Fatal(err)
	}
	ref, err := bundle.Push(ctx, reg+"/catalog:v0.1", objs, bundle.Options{})
	if err != nil {
		t.Fatal(err)
	}
	listed, err := bundle.List(ctx, ref.String(), false, bundle.Options{})
	if err != nil {
		t.Fatal(err)
	}
	inBundle := map[string]bool{}
	for _, o := range listed {
		inBundle[strings.ToLower(o.Kind)+"/"+o.Name] = true
	}

	tree := generatortest.Project(t, "tasks:\n  from: bundle\n  bundle: "+ref.String()+"\n")
	for f := range tree {
		if strings.HasPrefix(f, "tasks/") {
			t.Errorf("%s: bundle mode must not embed Task copies", f)
		}
	}
	refs := 0
	for name, pl := range pipelines(t, tree) {
		for _, pt := range append(pl.Spec.Tasks, pl.Spec.Finally...) {
			if pt.TaskRef == nil || pt.TaskRef.Resolver != "bundles" {
				t.Errorf("%s/%s: taskRef %+v does not use the bundles resolver", name, pt.Name, pt.TaskRef)
				continue
			}
			p := map[string]string{}
			for _, prm := range pt.TaskRef.Params {
				p[prm.Name] = prm.Value.StringVal
			}
			if p["bundle"] != ref.String() {
				t.Errorf("%s/%s: bundle %q, want the pushed %s", name, pt.Name, p["bundle"], ref)
			}
			if !inBundle[p["kind"]+"/"+p["name"]] {
				t.Errorf("%s/%s: %s/%s is not in the bundle", name, pt.Name, p["kind"], p["name"])
			}
			refs++
		}
	}
	if refs == 0 {
		t.Fatal("no taskRefs checked")
	}
}
