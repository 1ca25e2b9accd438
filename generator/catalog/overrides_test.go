package catalog_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/pipewright/pipewright/generator/catalog"
	"github.com/pipewright/pipewright/generator/generatortest"
	"github.com/pipewright/pipewright/pkg/images"
	"github.com/pipewright/pipewright/pkg/tekton"
)

// digests are two digests a registry really served, for overrides.
func digests(t *testing.T) (a, b string) {
	d := generatortest.Digests(t, 2)
	return d[0], d[1]
}

func TestParseImageFile(t *testing.T) {
	digestA, digestB := digests(t)
	set, err := catalog.ParseImageFile([]byte(`{
  "version": 1,
  "images": [
    {"name": "golang", "repo": "mirror.example.com/library/golang", "tag": "1.26.6", "digest": "`+digestA+`", "source": "mirrored 2026-08-01"},
    {"name": "kubectl", "repo": "mirror.example.com/kubectl", "digest": "`+digestB+`"}
  ]
}`), "images.json")
	if err != nil {
		t.Fatal(err)
	}
	want := catalog.ImageSet{
		"golang":  "mirror.example.com/library/golang:1.26.6@" + digestA,
		"kubectl": "mirror.example.com/kubectl@" + digestB,
	}
	if !reflect.DeepEqual(set, want) {
		t.Fatalf("set = %v, want %v", set, want)
	}
	// The catalog's own lock is a valid image file: every image, unchanged.
	lock, err := pinnedLock(t).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	set, err = catalog.ParseImageFile(lock, images.LockFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range set.Refs() {
		if img, _ := images.Lookup(r.Name); r.Ref != img.Ref() {
			t.Errorf("%s: lock as image file gives %s, want %s", r.Name, r.Ref, img.Ref())
		}
	}
}

func TestParseImageFileErrors(t *testing.T) {
	digestA, _ := digests(t)
	entry := func(fields string) string { return "{\"version\": 1, \"images\": [\n  " + fields + "\n]}" }
	ok := `{"name": "golang", "repo": "mirror.example.com/library/golang", "digest": "` + digestA + `"}`
	for _, tc := range []struct {
		name, file string
		want       string // the first line of the error
	}{
		{"not JSON", "{\"version\": 1,\n  \"images\": [}", `images.json:2:14: not an image file: invalid character '}' looking for beginning of value (hint: an image file has the lock's format:`},
		{"cut short", "{\"version\": 1,\n  \"images\": [", `images.json:2:14: not an image file: unexpected EOF (hint:`},
		{"no version", `{"images": []}`, `images.json:1:1: version is required (hint: an image file has the lock's format`},
		{"other version", `{"version": 2, "images": []}`, `images.json:1:1: version 2, this pipewright reads version 1 (hint:`},
		{"unknown top-level field", `{"version": 1, "imgs": []}`, `images.json:1:1: not an image file: json: unknown field "imgs" (hint:`},
		{"unknown image", entry(ok + ",\n  " + strings.Replace(ok, `"golang"`, `"golnag"`, 1)),
			`images.json:3:3: images[1] ("golnag"): no catalog image "golnag" (hint: did you mean "golang"? catalog images: buildkit, bun, distroless-static, git-init, golang, golangci-lint, kubectl, maven, node, python, shell)`},
		{"no name", entry(`{"repo": "mirror.example.com/x", "digest": "` + digestA + `"}`),
			`images.json:2:3: images[0]: name is required (hint: name the catalog image to replace: buildkit, bun, distroless-static, git-init,`},
		{"no repo", entry(`{"name": "kubectl", "digest": "` + digestA + `"}`),
			`images.json:2:3: images[0] ("kubectl"): repo is required (hint: write the entry as {"name": "kubectl", "repo": "mirror.example.com/cloud-builders/kubectl", "digest": "sha256:<64 hex>"}, tag optional)`},
		{"not pinned", entry(`{"name": "golang", "repo": "mirror.example.com/library/golang", "tag": "1.26.6"}`),
			`images.json:2:3: images[0] ("golang"): digest "" is not sha256:<64 hex>: an override must be pinned by digest (hint: "digest": "sha256:<64 hex>", the digest your registry serves for mirror.example.com/library/golang:1.26.6)`},
		{"short digest", entry(`{"name": "node", "repo": "mirror.example.com/node", "digest": "sha256:abc"}`),
			`images.json:2:3: images[0] ("node"): digest "sha256:abc" is not sha256:<64 hex>`},
		{"bad repository", entry(`{"name": "node", "repo": "Mirror Example/node", "digest": "` + digestA + `"}`),
			`images.json:2:3: images[0] ("node"): "Mirror Example/node@` + digestA + `" is not an image pinned by digest (REPO@sha256:<64 hex>): repository can only contain`},
		{"twice", entry(ok + ",\n  " + ok),
			`images.json:3:3: images[1] ("golang"): "golang" appears twice (first at images[0]) (hint: keep one entry per image)`},
		{"misspelt field", entry(ok + ",\n  {\"name\": \"node\", \"rpeo\": \"x\"}"),
			`images.json:3:3: images[1] ("node"): json: unknown field "rpeo" (hint: write the entry as {"name": "node", "repo": "mirror.example.com/library/node", "tag": "24.16.0-slim", "digest": "sha256:<64 hex>"}, tag optional)`},
		{"wrong type", entry("{\"name\": \"node\",\n   \"repo\": 5}"),
			`images.json:3:12: images[0] ("node"): json: cannot unmarshal number into Go struct field LockEntry.repo of type string`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := catalog.ParseImageFile([]byte(tc.file), "images.json")
			if err == nil {
				t.Fatal("want an error")
			}
			if first, _, _ := strings.Cut(err.Error(), "\n"); !strings.HasPrefix(first, tc.want) {
				t.Fatalf("got  %s\nwant %s…", first, tc.want)
			}
		})
	}
	t.Run("every problem, one per line", func(t *testing.T) {
		_, err := catalog.ParseImageFile([]byte(entry(`{"name": "nginx"},`+"\n  "+`{"name": "golang", "repo": "r"}`)), "images.json")
		lines := strings.Split(err.Error(), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "images.json:2:3: images[0]") || !strings.HasPrefix(lines[1], "images.json:3:3: images[1]") {
			t.Fatalf("got %q", lines)
		}
	})
}

func TestImageSetMergeAndRefs(t *testing.T) {
	digestA, digestB := digests(t)
	fromConfig := catalog.ImageSet{"golang": "config.example.com/golang@" + digestA, "kubectl": "config.example.com/kubectl@" + digestA}
	fromFlag := catalog.ImageSet{"golang": "flag.example.com/golang@" + digestB}
	merged := fromConfig.Merge(fromFlag)
	if merged["golang"] != fromFlag["golang"] || merged["kubectl"] != fromConfig["kubectl"] || len(merged) != 2 {
		t.Fatalf("merged = %v", merged)
	}
	if fromConfig["golang"] != "config.example.com/golang@"+digestA {
		t.Fatal("Merge changed its receiver")
	}
	if catalog.ImageSet(nil).Merge(nil) != nil {
		t.Fatal("merging nothing should give nothing")
	}
	refs := merged.Refs()
	if len(refs) != len(images.All()) {
		t.Fatalf("%d refs for %d images", len(refs), len(images.All()))
	}
	for i, r := range refs {
		if i > 0 && refs[i-1].Name >= r.Name {
			t.Errorf("refs not sorted: %s before %s", refs[i-1].Name, r.Name)
		}
		img, _ := images.Lookup(r.Name)
		want, overridden := img.Ref(), false
		if o, ok := merged[r.Name]; ok {
			want, overridden = o, true
		}
		if r.Ref != want || r.Overridden != overridden {
			t.Errorf("%s: %+v, want %s (overridden %v)", r.Name, r, want, overridden)
		}
	}
	if err := (catalog.ImageSet{"golnag": "x@" + digestA, "node": "node:24"}).Check(); err == nil ||
		!strings.Contains(err.Error(), `no catalog image "golnag" (hint: did you mean "golang"?`) ||
		!strings.Contains(err.Error(), `images: node: "node:24" is not an image pinned by digest`) {
		t.Fatalf("Check = %v", err)
	}
}

// Apply replaces step images and image param defaults, in a copy: the
// table, the registry's entries and later generations are untouched.
func TestApplyIsScoped(t *testing.T) {
	digestA, digestB := digests(t)
	set := catalog.ImageSet{
		"golang":            "mirror.example.com/library/golang:1.26.6@" + digestA,
		"distroless-static": "mirror.example.com/distroless/static:nonroot@" + digestB,
	}
	before, _ := catalog.Get("go-image")
	e, err := catalog.GetWith("go-image", set)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := catalog.Get("go-image")
	if !reflect.DeepEqual(before, after) {
		t.Fatal("GetWith changed what Get returns")
	}
	steps := map[string]string{}
	for _, s := range e.Spec.Steps {
		steps[s.Name] = s.Image
	}
	if steps["build-and-push"] != set["golang"] || steps["install-pipewright"] != "$(params."+catalog.ToolImageParam+")" {
		t.Errorf("step images = %v", steps)
	}
	for _, p := range e.Spec.Params {
		if p.Name == "base" && p.Default.StringVal != set["distroless-static"] {
			t.Errorf("base default = %s, want %s", p.Default.StringVal, set["distroless-static"])
		}
	}
	if g, _ := images.Lookup("golang"); g.Ref() == set["golang"] || images.Golang.Ref() != g.Ref() {
		t.Fatal("the image table changed")
	}
	// A nil set is the identity.
	same := catalog.ImageSet(nil).Apply(before)
	if !reflect.DeepEqual(same, before) {
		t.Fatal("a nil set changed the entry")
	}
}

// With every image overridden, no rendered Task keeps a reference from the
// lock, wherever it is written.
func TestApplyReachesEveryImage(t *testing.T) {
	digestA, _ := digests(t)
	set := catalog.ImageSet{}
	for _, n := range images.Names() {
		set[n] = "mirror.example.com/" + n + "@" + digestA
	}
	used := map[string]bool{}
	for _, e := range catalog.AllWith(set) {
		b, err := tekton.Marshal(e.Task())
		if err != nil {
			t.Fatal(err)
		}
		y := string(b)
		for _, img := range images.All() {
			if strings.Contains(y, img.Ref()) || strings.Contains(y, img.Digest) {
				t.Errorf("task %s still holds %s", e.Name, img.Ref())
			}
			if strings.Contains(y, set[img.Name]) {
				used[img.Name] = true
			}
		}
	}
	for _, n := range images.Names() {
		if !used[n] {
			t.Errorf("no Task uses the override of %s", n)
		}
	}
}

// pinnedLock is the embedded lock; a lock that does not cover the table
// fails the test.
func pinnedLock(t *testing.T) images.Lock {
	t.Helper()
	l, err := images.Pinned()
	if err != nil {
		t.Fatal(err)
	}
	return l
}
