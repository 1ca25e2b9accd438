package pin

import (
	"context"
	"io"
	"log"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/pipewright/pipewright/pkg/images"
	"github.com/pipewright/pipewright/test/refregistry"
)

// requests records what the registry was asked, by method.
type requests struct {
	mu   sync.Mutex
	seen []string
}

func (r *requests) add(s string) { r.mu.Lock(); r.seen = append(r.seen, s); r.mu.Unlock() }

func (r *requests) reset() { r.mu.Lock(); r.seen = nil; r.mu.Unlock() }

func (r *requests) count(prefix string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, s := range r.seen {
		if strings.HasPrefix(s, prefix) {
			n++
		}
	}
	return n
}

// newRegistry serves the in-process registry. With noHeadDigest it drops
// Docker-Content-Digest from HEAD answers, as some registries do.
func newRegistry(t *testing.T, noHeadDigest bool) (string, *requests) {
	t.Helper()
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	rec := &requests{}
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/manifests/") {
			rec.add(r.Method + " " + r.URL.Path)
		}
		if noHeadDigest && r.Method == http.MethodHead {
			w = dropDigest{w}
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return strings.TrimPrefix(s.URL, "http://"), rec
}

type dropDigest struct{ http.ResponseWriter }

func (d dropDigest) WriteHeader(code int) {
	d.Header().Del("Docker-Content-Digest")
	d.ResponseWriter.WriteHeader(code)
}

// mirrorAll maps every registry host in the table to a folder of reg.
func mirrorAll(reg string) map[string]string {
	m := map[string]string{}
	for _, img := range images.All() {
		host := strings.SplitN(img.Repo, "/", 2)[0]
		m[host] = reg + "/" + host
	}
	return m
}

// seed pushes a distinct image for every table entry to the local
// registry, under the mirrored name, and returns the digests pushed. An
// untagged entry gets the table's digest replaced by the pushed one.
func seed(t *testing.T, reg string, seedBase int64) ([]images.Image, map[string]string) {
	t.Helper()
	table := images.All()
	mirrors := mirrorAll(reg)
	pushed := map[string]string{}
	for i := range table {
		img := &table[i]
		d := push(t, mirror(img.Repo, mirrors), img.Tag, seedBase+int64(i))
		if img.Tag == "" {
			img.Digest = d
		}
		pushed[img.Name] = d
	}
	return table, pushed
}

func push(t *testing.T, repo, tag string, seed int64) string {
	t.Helper()
	img, err := random.Image(64, 1, random.WithSource(rand.NewSource(seed)))
	if err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	var ref name.Reference
	if tag != "" {
		ref, err = name.NewTag(repo + ":" + tag)
	} else {
		ref, err = name.NewDigest(repo + "@" + d.String())
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	return d.String()
}

func TestPinThenCheckDetectsMovedTag(t *testing.T) {
	reg, rec := newRegistry(t, false)
	table, pushed := seed(t, reg, 100)
	o := Options{Mirrors: mirrorAll(reg)}
	ctx := context.Background()

	rec.reset()
	lock, err := Resolve(ctx, table, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(lock.Images) != len(table) {
		t.Fatalf("lock has %d entries for %d images", len(lock.Images), len(table))
	}
	for _, img := range table {
		e, ok := lock.Get(img.Name)
		if !ok {
			t.Fatalf("%s missing from the lock", img.Name)
		}
		// The lock names the real repository, not the mirror.
		if e.Repo != img.Repo || e.Tag != img.Tag || e.Digest != pushed[img.Name] {
			t.Errorf("%s: lock %+v, want repo %s tag %s digest %s", img.Name, e, img.Repo, img.Tag, pushed[img.Name])
		}
	}
	// HEAD answered every lookup; no manifest body was fetched.
	if n := rec.count("GET "); n != 0 {
		t.Errorf("%d manifest GETs, want HEAD only", n)
	}

	path := filepath.Join(t.TempDir(), DefaultFile)
	if err := lock.Write(path); err != nil {
		t.Fatal(err)
	}
	read, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := Check(ctx, read, table, o); err != nil {
		t.Fatalf("fresh lock fails check: %v", err)
	}

	// Move golang's tag to another image.
	var golang images.Image
	for _, img := range table {
		if img.Name == "golang" {
			golang = img
		}
	}
	moved := push(t, mirror(golang.Repo, o.Mirrors), golang.Tag, 999)
	err = Check(ctx, read, table, o)
	if err == nil {
		t.Fatal("check passed after the golang tag moved")
	}
	want := "image golang: docker.io/library/golang:1.26.6 moved: lock has " + pushed["golang"] + ", the registry has " + moved
	if err.Error() != want {
		t.Errorf("check error:\n%v\nwant:\n%s", err, want)
	}

	// Pinning again picks the new digest up and checks clean.
	again, err := Resolve(ctx, table, o)
	if err != nil {
		t.Fatal(err)
	}
	if e, _ := again.Get("golang"); e.Digest != moved {
		t.Errorf("re-pin golang = %s, want %s", e.Digest, moved)
	}
	if err := Check(ctx, again, table, o); err != nil {
		t.Errorf("re-pinned lock fails check: %v", err)
	}
}

func TestHeadWithoutDigestFallsBackToGet(t *testing.T) {
	reg, rec := newRegistry(t, true)
	d := push(t, reg+"/library/golang", "1.26.6", 7)
	rec.reset()
	table := []images.Image{{Name: "golang", Repo: "docker.io/library/golang", Tag: "1.26.6"}}
	lock, err := Resolve(context.Background(), table, Options{Mirrors: map[string]string{"docker.io": reg}})
	if err != nil {
		t.Fatal(err)
	}
	if e, _ := lock.Get("golang"); e.Digest != d {
		t.Errorf("digest %s, want %s", e.Digest, d)
	}
	if rec.count("HEAD ") != 1 || rec.count("GET ") != 1 {
		t.Errorf("requests %q, want one HEAD then one GET", rec.seen)
	}
}

func TestCheckReportsTableDrift(t *testing.T) {
	reg, _ := newRegistry(t, false)
	d := push(t, reg+"/library/golang", "1.26.6", 7)
	o := Options{Mirrors: map[string]string{"docker.io": reg}}
	golang := images.Image{Name: "golang", Repo: "docker.io/library/golang", Tag: "1.26.6"}
	lock := Lock{Version: Version, Images: []Entry{
		{Name: "golang", Repo: "docker.io/library/golang", Tag: "1.26.5", Digest: d},
		{Name: "gone", Repo: "docker.io/library/gone", Tag: "1", Digest: d},
	}}
	node := images.Image{Name: "node", Repo: "docker.io/library/node", Tag: "24"}
	err := Check(context.Background(), lock, []images.Image{golang, node}, o)
	if err == nil {
		t.Fatal("check passed")
	}
	for _, want := range []string{
		"image golang: lock has docker.io/library/golang:1.26.5, the table has docker.io/library/golang:1.26.6; run pipewright pin",
		"image node: not in the lock file; run pipewright pin",
		"image gone: in the lock file but not in the table; run pipewright pin",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	// A tag that does not exist is an error naming the image.
	if _, err := Resolve(context.Background(), []images.Image{node}, o); err == nil || !strings.HasPrefix(err.Error(), "image node: resolve "+reg+"/library/node:24") {
		t.Errorf("missing tag: %v", err)
	}
}

func TestReadRejectsBadLocks(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, body, want string }{
		{"old version", `{"version": 0, "images": []}`, "version 0, this pipewright reads version 1"},
		{"unknown field", `{"version": 1, "images": [], "extra": true}`, `unknown field "extra"`},
		{"no digest", `{"version": 1, "images": [{"name": "golang", "repo": "docker.io/library/golang", "digest": "latest"}]}`, `images[0] ("golang"): name, repo and a sha256:<64 hex> digest are required`},
		{"short digest", `{"version": 1, "images": [{"name": "golang", "repo": "docker.io/library/golang", "digest": "sha256:abc"}]}`, `sha256:<64 hex> digest`},
		{"twice", `{"version": 1, "images": [{"name": "a", "repo": "r", "digest": "sha256:` + strings.Repeat("a", 64) + `"}, {"name": "a", "repo": "r", "digest": "sha256:` + strings.Repeat("a", 64) + `"}]}`, `"a" appears twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".json")
			if err := os.WriteFile(p, []byte(tc.body), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := Read(p); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := Read(filepath.Join(dir, "absent.json")); err == nil || !strings.Contains(err.Error(), "create it with pipewright pin") {
		t.Errorf("absent lock: %v", err)
	}
}

func TestFromTableMatchesTableRefs(t *testing.T) {
	l := FromTable(images.All())
	if len(l.Images) != len(images.All()) {
		t.Fatalf("%d entries for %d images", len(l.Images), len(images.All()))
	}
	for _, img := range images.All() {
		e, ok := l.Get(img.Name)
		if !ok || e.Ref() != img.Ref() {
			t.Errorf("%s: lock ref %q, table ref %q", img.Name, e.Ref(), img.Ref())
		}
	}
	p := filepath.Join(t.TempDir(), DefaultFile)
	if err := l.Write(p); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(p); err != nil {
		t.Errorf("lock from the table does not read back: %v", err)
	}
}

func TestMarshalIsStable(t *testing.T) {
	l := Lock{Version: Version, Images: []Entry{
		{Name: "shell", Repo: "docker.io/curlimages/curl", Tag: "8.17.0", Digest: "sha256:" + strings.Repeat("b", 64)},
		{Name: "kubectl", Repo: "gcr.io/cloud-builders/kubectl", Digest: "sha256:" + strings.Repeat("a", 64)},
	}}
	b, err := l.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "version": 1,
  "images": [
    {
      "name": "kubectl",
      "repo": "gcr.io/cloud-builders/kubectl",
      "digest": "sha256:` + strings.Repeat("a", 64) + `"
    },
    {
      "name": "shell",
      "repo": "docker.io/curlimages/curl",
      "tag": "8.17.0",
      "digest": "sha256:` + strings.Repeat("b", 64) + `"
    }
  ]
}
`
	if string(b) != want {
		t.Errorf("marshal:\n%s\nwant:\n%s", b, want)
	}
	if e, _ := l.Get("kubectl"); e.Ref() != "gcr.io/cloud-builders/kubectl@sha256:"+strings.Repeat("a", 64) {
		t.Errorf("untagged ref %s", e.Ref())
	}
	if e, _ := l.Get("shell"); e.Ref() != "docker.io/curlimages/curl:8.17.0@sha256:"+strings.Repeat("b", 64) {
		t.Errorf("tagged ref %s", e.Ref())
	}
}

// TestReferenceRegistry pins against distribution's registry server and
// detects a moved tag there.
func TestReferenceRegistry(t *testing.T) {
	reg := refregistry.Start(t)
	table, pushed := seed(t, reg, 300)
	o := Options{Mirrors: mirrorAll(reg)}
	ctx := context.Background()
	lock, err := Resolve(ctx, table, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range lock.Images {
		if e.Digest != pushed[e.Name] {
			t.Errorf("%s: %s, pushed %s", e.Name, e.Digest, pushed[e.Name])
		}
	}
	if err := Check(ctx, lock, table, o); err != nil {
		t.Fatal(err)
	}
	node := table[0]
	for _, img := range table {
		if img.Name == "node" {
			node = img
		}
	}
	push(t, mirror(node.Repo, o.Mirrors), node.Tag, 12345)
	if err := Check(ctx, lock, table, o); err == nil || !strings.Contains(err.Error(), "image node: docker.io/library/node:24.16.0-slim moved") {
		t.Errorf("moved tag not detected: %v", err)
	}
}
