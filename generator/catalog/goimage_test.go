package catalog_test

import (
	"context"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/pipewright/pipewright/generator/catalog"
	"github.com/pipewright/pipewright/test/refregistry"
	"github.com/pipewright/pipewright/test/steprun"
)

// TestGoImage runs go-image's build step as Tekton would, with the
// pipewright program this repository builds standing where the install step
// puts it, against go-containerregistry's in-process registry: the image is
// pushed by digest under the tag, the SBOM is attached, the results are
// written, and the same commit builds the same digest again.
func TestGoImage(t *testing.T) {
	need(t, "git", "go-image")
	gobin := need(t, "go", "go-image")
	e, err := catalog.Get("go-image")
	if err != nil {
		t.Fatal(err)
	}
	build := e.Spec.Steps[1]
	if build.Name != "build-and-push" {
		t.Fatalf("step 1 is %s", build.Name)
	}

	bin := t.TempDir()
	cmd := exec.Command(gobin, "build", "-o", filepath.Join(bin, "pipewright"), "./cmd/pipewright")
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build pipewright: %v\n%s", err, out)
	}

	reg := refregistry.InProcess(t)
	base, err := random.Image(256, 1, random.WithSource(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	baseRef, _ := name.ParseReference(reg + "/base:latest")
	if err := remote.Write(baseRef, base); err != nil {
		t.Fatal(err)
	}

	src := t.TempDir()
	git(t, src, "init", "-q", "-b", "main")
	write(t, src, map[string]string{
		"go.mod":          "module example.com/svc\n\ngo 1.26\n",
		"cmd/svc/main.go": "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"svc\") }\n",
	})
	git(t, src, "add", ".")
	git(t, src, "commit", "-q", "-m", "svc")

	// The cache workspace points at this machine's Go caches, so the test
	// does not rebuild the standard library.
	cache := t.TempDir()
	for sub, key := range map[string]string{"go/build": "GOCACHE", "go/mod": "GOMODCACHE"} {
		out, err := exec.Command(gobin, "env", key).Output()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(cache, "go"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(strings.TrimSpace(string(out)), filepath.Join(cache, sub)); err != nil {
			t.Fatal(err)
		}
	}

	run := func(params map[string]string) steprun.Output {
		t.Helper()
		ps := map[string]string{
			"image": reg + "/svc", "base": baseRef.String(), "package": "./cmd/svc",
			"source-url": "https://github.com/acme/svc",
		}
		for k, v := range params {
			ps[k] = v
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		out, err := steprun.Run(ctx, e.Spec, build, steprun.Inputs{
			Params:     ps,
			Workspaces: map[string]string{"source": src, "cache": cache},
			Mounts:     map[string]string{"/pipewright/bin": bin},
			Env:        []string{"PATH=" + filepath.Dir(gobin) + ":/usr/bin:/bin"},
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}

	first := run(map[string]string{"tag": "v1"})
	url, digest := first.Results["IMAGE_URL"], first.Results["IMAGE_DIGEST"]
	if url != reg+"/svc" || !strings.HasPrefix(digest, "sha256:") {
		t.Fatalf("results IMAGE_URL=%q IMAGE_DIGEST=%q\n%s", url, digest, first.Log)
	}
	ref, _ := name.ParseReference(url + "@" + digest)
	img, err := remote.Image(ref)
	if err != nil {
		t.Fatalf("pushed image %s: %v", ref, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if ep := cf.Config.Entrypoint; len(ep) != 1 || ep[0] != "/app/svc" || cf.Config.User != "65532" {
		t.Errorf("entrypoint %q user %q", ep, cf.Config.User)
	}
	if !cf.Created.Time.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("created %s, want the commit time", cf.Created.Time)
	}
	for _, tag := range []string{"v1", strings.Replace(digest, ":", "-", 1) + ".sbom"} {
		tr, _ := name.NewTag(url + ":" + tag)
		if _, err := remote.Head(tr); err != nil {
			t.Errorf("tag %s: %v", tag, err)
		}
	}

	again := run(nil)
	if again.Results["IMAGE_DIGEST"] != digest {
		t.Errorf("same commit, new digest: %s then %s", digest, again.Results["IMAGE_DIGEST"])
	}
	dry := run(map[string]string{"no-push": "true", "image": reg + "/svc-pr"})
	if dry.Results["IMAGE_DIGEST"] != digest {
		t.Errorf("no-push digest %s, pushed %s", dry.Results["IMAGE_DIGEST"], digest)
	}
	pr, _ := name.ParseReference(reg + "/svc-pr@" + digest)
	if _, err := remote.Head(pr); err == nil {
		t.Errorf("no-push build pushed %s", pr)
	}
}
