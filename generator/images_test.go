package generator_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/pipewright/pipewright/generator"
	"github.com/pipewright/pipewright/generator/builtin"
	"github.com/pipewright/pipewright/generator/catalog"
	"github.com/pipewright/pipewright/generator/config"
	"github.com/pipewright/pipewright/generator/generatortest"
	"github.com/pipewright/pipewright/generator/render"
	"github.com/pipewright/pipewright/pkg/images"
	"github.com/pipewright/pipewright/pkg/tekton"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
)

// overrides are mirror references pinned to digests a registry really
// served: two from the config, one from --images.
func overrides(t *testing.T) (mirrorGolang, mirrorDistroless, flagGolang string) {
	d := generatortest.Digests(t, 3)
	return "mirror.example.com/library/golang:1.26.6@" + d[0],
		"mirror.example.com/distroless/static:nonroot@" + d[1],
		"flag.example.com/golang@" + d[2]
}

// goImageConfig is the built-in example building with go-image, plus extra
// top-level YAML.
func goImageConfig(t *testing.T, extra string) *config.Loaded {
	t.Helper()
	src := strings.Replace(string(builtin.Config), "  repository: ghcr.io/codertocat/hello-world\n",
		"  repository: ghcr.io/codertocat/hello-world\n  builder: go-image\n", 1)
	cfg, err := config.Parse(builtin.File, []byte(src+"tools:\n  image: "+generatortest.ToolImage(t)+"\n"+extra))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// task decodes one generated Task.
func task(t *testing.T, tree render.Tree, file string) *v1.Task {
	t.Helper()
	objs, err := tekton.Decode(file, tree[file])
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if task, ok := o.Obj.(*v1.Task); ok {
			return task
		}
	}
	t.Fatalf("%s holds no Task", file)
	return nil
}

func stepImage(t *testing.T, task *v1.Task, step string) string {
	t.Helper()
	for _, s := range task.Spec.Steps {
		if s.Name == step {
			return s.Image
		}
	}
	t.Fatalf("task %s has no step %s", task.Name, step)
	return ""
}

func paramDefault(t *testing.T, task *v1.Task, param string) string {
	t.Helper()
	for _, p := range task.Spec.Params {
		if p.Name == param && p.Default != nil {
			return p.Default.StringVal
		}
	}
	t.Fatalf("task %s has no param %s with a default", task.Name, param)
	return ""
}

// images: in the config reaches the generated Tasks: step images and
// go-image's base default; --images wins for an image both name.
func TestImageOverridesReachGeneratedTasks(t *testing.T) {
	mirrorGolang, mirrorDistroless, flagGolang := overrides(t)
	cfg := goImageConfig(t, "images:\n  golang: "+mirrorGolang+"\n  distroless-static: "+mirrorDistroless+"\n")
	tree, err := generator.Project(cfg)
	if err != nil {
		t.Fatal(err)
	}
	goImage := task(t, tree, "tasks/go-image.yaml")
	if got := stepImage(t, goImage, "build-and-push"); got != mirrorGolang {
		t.Errorf("go-image build step image = %s, want %s", got, mirrorGolang)
	}
	if got := paramDefault(t, goImage, "base"); got != mirrorDistroless {
		t.Errorf("go-image base default = %s, want %s", got, mirrorDistroless)
	}
	if got := stepImage(t, task(t, tree, "tasks/go-test.yaml"), "test"); got != mirrorGolang {
		t.Errorf("go-test step image = %s, want %s", got, mirrorGolang)
	}
	// Images the config leaves alone keep the lock's reference.
	clone := task(t, tree, "tasks/git-clone.yaml")
	if got := clone.Spec.Steps[0].Image; got != images.GitInit.Ref() {
		t.Errorf("git-clone image = %s, want the lock's %s", got, images.GitInit.Ref())
	}
	if !bytes.Contains(tree["tasks/go-image.yaml"], []byte("image: "+mirrorGolang+"\n")) {
		t.Errorf("tasks/go-image.yaml lacks the override:\n%s", tree["tasks/go-image.yaml"])
	}

	tree, err = generator.ProjectWithImages(cfg, catalog.ImageSet{"golang": flagGolang})
	if err != nil {
		t.Fatal(err)
	}
	goImage = task(t, tree, "tasks/go-image.yaml")
	if got := stepImage(t, goImage, "build-and-push"); got != flagGolang {
		t.Errorf("with --images, build step image = %s, want the flag's %s", got, flagGolang)
	}
	if got := paramDefault(t, goImage, "base"); got != mirrorDistroless {
		t.Errorf("with --images, base default = %s, want the config's %s", got, mirrorDistroless)
	}

	if _, err := generator.ProjectWithImages(cfg, catalog.ImageSet{"golang": "golang:1.26"}); err == nil ||
		!strings.Contains(err.Error(), "not an image pinned by digest") {
		t.Errorf("an unpinned override is accepted: %v", err)
	}
}

// Overrides are per call: generating with them leaves later generations,
// in the same process, as they were.
func TestImageOverridesDoNotLeak(t *testing.T) {
	mirrorGolang, mirrorDistroless, flagGolang := overrides(t)
	plain := goImageConfig(t, "")
	before, err := generator.Project(plain)
	if err != nil {
		t.Fatal(err)
	}
	catBefore, err := generator.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	set := catalog.ImageSet{"golang": flagGolang, "distroless-static": mirrorDistroless}
	if _, err := generator.ProjectWithImages(goImageConfig(t, "images:\n  golang: "+mirrorGolang+"\n"), set); err != nil {
		t.Fatal(err)
	}
	overridden, err := generator.CatalogWithImages(set)
	if err != nil {
		t.Fatal(err)
	}
	goImage := task(t, overridden, "tasks/go-image/0.1/go-image.yaml")
	if stepImage(t, goImage, "build-and-push") != flagGolang || paramDefault(t, goImage, "base") != mirrorDistroless {
		t.Errorf("catalog --images: go-image not overridden:\n%s", overridden["tasks/go-image/0.1/go-image.yaml"])
	}
	if !bytes.Contains(overridden["tasks/go-image/0.1/README.md"], []byte(mirrorDistroless)) {
		t.Error("go-image's README does not show the overridden base")
	}

	after, err := generator.Project(plain)
	if err != nil {
		t.Fatal(err)
	}
	catAfter, err := generator.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	for name, trees := range map[string][2]render.Tree{"project": {before, after}, "catalog": {catBefore, catAfter}} {
		if len(trees[0]) != len(trees[1]) {
			t.Errorf("%s: %d files, then %d", name, len(trees[0]), len(trees[1]))
		}
		for p, b := range trees[0] {
			if !bytes.Equal(b, trees[1][p]) {
				t.Errorf("%s: %s changed after a generation with overrides", name, p)
			}
		}
	}
}
