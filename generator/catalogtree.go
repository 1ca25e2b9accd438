// Package generator assembles pipewright's outputs from the library
// packages: the catalog tree (tasks/, pipelines/) and a project's CI/CD set.
// Every tree it returns has passed tekton.All.
package generator

import (
	"fmt"
	"path"
	"sort"

	"github.com/pipewright/pipewright/generator/buildpack"
	"github.com/pipewright/pipewright/generator/catalog"
	"github.com/pipewright/pipewright/generator/pipeline"
	"github.com/pipewright/pipewright/generator/render"
	"github.com/pipewright/pipewright/generator/trigger"
	"github.com/pipewright/pipewright/pkg/images"
	"github.com/pipewright/pipewright/pkg/tekton"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Catalog renders every catalog Task (with its README) into tasks/ and the
// generic per-pack pipelines into pipelines/, in tektoncd/catalog layout, and
// validates the result, including every pipeline's wiring against the Tasks.
func Catalog() (render.Tree, error) {
	return CatalogWithImages(nil)
}

// CatalogWithImages is Catalog with catalog images replaced by images (from
// `catalog --images FILE`), e.g. to install the catalog from a mirror.
func CatalogWithImages(set catalog.ImageSet) (render.Tree, error) {
	// A lock that does not cover the table would write unpinned images.
	if _, err := images.Pinned(); err != nil {
		return nil, err
	}
	if err := set.Check(); err != nil {
		return nil, err
	}
	tree := render.Tree{}
	for _, e := range catalog.AllWith(set) {
		if err := addTask(tree, e); err != nil {
			return nil, err
		}
	}
	pipelines, err := addGenericPipelines(tree)
	if err != nil {
		return nil, err
	}
	if err := addCatalogTriggers(tree, pipelines); err != nil {
		return nil, err
	}
	if err := Check(tree); err != nil {
		return nil, err
	}
	return tree, nil
}

// addGenericPipelines writes one pull-request and one release Pipeline per
// build pack, a canary release per pack, and the Go pack with go-image,
// made by the same code as a project's, with params in place of project
// specifics and taskRefs to the installed catalog.
func addGenericPipelines(tree render.Tree) ([]*v1.Pipeline, error) {
	var out []*v1.Pipeline
	type variant struct {
		name    string
		kind    pipeline.Kind
		goImage bool
		canary  bool
	}
	for _, pack := range buildpack.Packs {
		variants := []variant{
			{pack.Name + "-pull-request", pipeline.PullRequest, false, false},
			{pack.Name + "-release", pipeline.Release, false, false},
			{pack.Name + "-release-canary", pipeline.Release, false, true},
		}
		if pack.Name == "go" {
			variants = append(variants,
				variant{"go-image-pull-request", pipeline.PullRequest, true, false},
				variant{"go-image-release-canary", pipeline.Release, true, true})
		}
		for _, v := range variants {
			spec := pipeline.Spec{
				Name:    v.name,
				Pack:    pack,
				Deploy:  true,
				GoImage: v.goImage,
				TaskRef: pipeline.LocalRef,
				Labels:  map[string]string{"app.kubernetes.io/version": "0.1", "app.kubernetes.io/part-of": "pipewright"},
			}
			if v.canary {
				spec.Canary = map[string]string{} // canary-release's own defaults
			}
			p, err := pipeline.Build(v.kind, spec)
			if err != nil {
				return nil, err
			}
			y, err := tekton.Marshal(p)
			if err != nil {
				return nil, fmt.Errorf("pipeline %s: %w", p.Name, err)
			}
			if err := tree.Add(fmt.Sprintf("pipelines/%s/0.1/%s.yaml", p.Name, p.Name), y); err != nil {
				return nil, err
			}
			out = append(out, p)
		}
	}
	return out, nil
}

// addCatalogTriggers writes triggers/: generic GitHub bindings and a
// TriggerTemplate per catalog pipeline, with a README that assembles them.
func addCatalogTriggers(tree render.Tree, pipelines []*v1.Pipeline) error {
	objs, err := trigger.Catalog(pipelines)
	if err != nil {
		return err
	}
	for _, o := range objs {
		y, err := tekton.Marshal(o.Obj)
		if err != nil {
			return fmt.Errorf("%s: %w", o.File, err)
		}
		if err := tree.Add(o.File, y); err != nil {
			return err
		}
	}
	return tree.Add("triggers/README.md", []byte(trigger.CatalogReadme(pipelines)))
}

func addTask(tree render.Tree, e catalog.Entry) error {
	t := e.Task()
	y, err := tekton.Marshal(t)
	if err != nil {
		return fmt.Errorf("task %s: %w", e.Name, err)
	}
	readme, err := render.TaskReadme(t, e.Path(), ExampleTaskRun(e))
	if err != nil {
		return fmt.Errorf("task %s: %w", e.Name, err)
	}
	if err := tree.Add(e.Path(), y); err != nil {
		return err
	}
	return tree.Add(path.Join(path.Dir(e.Path()), "README.md"), readme)
}

// Check validates every YAML file of a tree with tekton.All.
func Check(tree render.Tree) error {
	_, err := tekton.All(tree)
	return err
}

// ExampleTaskRun is the usage example of a catalog Task: every required
// param (and the entry's example values), every required workspace bound to
// a fresh volume.
func ExampleTaskRun(e catalog.Entry) *v1.TaskRun {
	var params v1.Params
	for _, p := range e.Spec.Params {
		v, ok := e.Example[p.Name]
		if !ok && p.Default == nil {
			v = "<" + p.Name + ">"
			ok = true
		}
		if ok {
			params = append(params, v1.Param{Name: p.Name, Value: *v1.NewStructuredValues(v)})
		}
	}
	sort.SliceStable(params, func(i, j int) bool { return params[i].Name < params[j].Name })
	var ws []v1.WorkspaceBinding
	for _, w := range e.Spec.Workspaces {
		if w.Optional {
			continue
		}
		ws = append(ws, v1.WorkspaceBinding{Name: w.Name, VolumeClaimTemplate: &corev1.PersistentVolumeClaim{
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{
					corev1.ResourceStorage: resource.MustParse("1Gi"),
				}},
			},
		}})
	}
	return &v1.TaskRun{
		TypeMeta:   metav1.TypeMeta{APIVersion: "tekton.dev/v1", Kind: "TaskRun"},
		ObjectMeta: metav1.ObjectMeta{GenerateName: e.Name + "-run-"},
		Spec: v1.TaskRunSpec{
			TaskRef:    &v1.TaskRef{Name: e.Name},
			Params:     params,
			Workspaces: ws,
		},
	}
}
