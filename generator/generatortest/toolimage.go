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

// served are images go-containerregistry's in-process registry served once
// per test binary: the tool image and a few more for override tests.
var served struct {
	once    sync.Once
	refs    []string // REPO@sha256:…, the first is the tool image
	digests []string
	err     error
}

// servedImages is how many images are pushed: the tool image and the
// distinct digests Digests can hand out.
const servedImages = 4

func serve() {
	served.once.Do(func() {
		reg, stop := refregistry.Serve()
		defer stop()
		for i := range servedImages {
			img, err := random.Image(1024, 2, random.WithSource(rand.NewSource(int64(7+i))))
			if err != nil {
				served.err = err
				return
			}
			repo, _ := name.NewRepository(reg + "/pipewright")
			d, err := img.Digest()
			if err != nil {
				served.err = err
				return
			}
			ref := repo.Digest(d.String())
			if served.err = remote.Write(ref, img); served.err != nil {
				return
			}
			if _, served.err = remote.Head(ref); served.err != nil {
				return
			}
			served.refs = append(served.refs, ref.String())
			served.digests = append(served.digests, d.String())
		}
	})
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
	serve()
	if served.err != nil {
		t.Fatalf("push a tool image: %v", served.err)
	}
	return served.refs[0]
}

// Digests returns n distinct sha256:… digests of images the in-process
// registry served (pushed with ToolImage's, none of them the tool image's),
// for tests that pin overrides to digests other than the lock's.
func Digests(t testing.TB, n int) []string {
	t.Helper()
	if n > servedImages-1 {
		t.Fatalf("generatortest.Digests: %d asked, %d served", n, servedImages-1)
	}
	serve()
	if served.err != nil {
		t.Fatalf("push images: %v", served.err)
	}
	return served.digests[1 : 1+n]
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
