package generatortest

import (
	"math/rand"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/pipewright/pipewright/generator"
	"github.com/pipewright/pipewright/generator/builtin"
	"github.com/pipewright/pipewright/generator/config"
	"github.com/pipewright/pipewright/generator/render"
	"github.com/pipewright/pipewright/test/refregistry"
)

var tool struct {
	once sync.Once
	ref  string
	err  error
}

// ToolImage pushes an image to go-containerregistry's in-process registry,
// once per test binary, and returns it as REPO@sha256:… for configs that
// need tools.image: the digest is one a registry really served, not one
// made up. The registry is closed again (generation never contacts it, and
// the e2e harness checks that tests leave nothing listening).
// Generation only pins and wires this reference; what runs in the real
// tool image is tested where it runs (go-image's script test, pkg/canary).
// A random image stands in for it because building pipewright with
// -trimpath from a cold cache takes minutes.
func ToolImage(t testing.TB) string {
	t.Helper()
	tool.once.Do(func() {
		reg, stop := refregistry.Serve()
		defer stop()
		img, err := random.Image(1024, 2, random.WithSource(rand.NewSource(7)))
		if err != nil {
			tool.err = err
			return
		}
		repo, _ := name.NewRepository(reg + "/pipewright")
		d, err := img.Digest()
		if err != nil {
			tool.err = err
			return
		}
		ref := repo.Digest(d.String())
		if tool.err = remote.Write(ref, img); tool.err != nil {
			return
		}
		if _, tool.err = remote.Head(ref); tool.err != nil {
			return
		}
		tool.ref = ref.String()
	})
	if tool.err != nil {
		t.Fatalf("push a tool image: %v", tool.err)
	}
	return tool.ref
}

// ProjectWith generates the built-in example with one line replaced by
// others (old must occur in it), then extra YAML appended.
func ProjectWith(t testing.TB, old, new, extra string) render.Tree {
	t.Helper()
	src := string(builtin.Config)
	if !strings.Contains(src, old) {
		t.Fatalf("the built-in example has no %q", old)
	}
	cfg, err := config.Parse(builtin.File, []byte(strings.Replace(src, old, new, 1)+extra))
	if err != nil {
		t.Fatal(err)
	}
	tree, err := generator.Project(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tree
}
