package config

import (
	"strings"
	"testing"
)

// image.context moves only the image build: lint and tests keep
// build.context, and the Dockerfile stays the project's own unless named.
func TestImageContextDefaults(t *testing.T) {
	for _, tc := range []struct {
		name, build, image           string
		wantDockerfile, wantRepoPath string
	}{
		{"no image.context", "  context: services/api\n", "", "Dockerfile", "services/api/Dockerfile"},
		{"root context", "  context: services/api\n", "  context: .\n", "services/api/Dockerfile", "services/api/Dockerfile"},
		{"context beside the project", "  context: services/api\n", "  context: docker\n", "../services/api/Dockerfile", "services/api/Dockerfile"},
		{"named Dockerfile", "  context: services/api\n", "  context: .\n  dockerfile: build/api.Dockerfile\n", "build/api.Dockerfile", "build/api.Dockerfile"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			y := strings.Replace(strings.Replace(good, "  pack: go\n", "  pack: go\n"+tc.build, 1), "ghcr.io/acme/api\n", "ghcr.io/acme/api\n"+tc.image, 1)
			l, err := Parse("pipewright.yaml", []byte(y))
			if err != nil {
				t.Fatal(err)
			}
			if l.Build.Context != "services/api" || l.Image.Dockerfile != tc.wantDockerfile || l.DockerfilePath() != tc.wantRepoPath {
				t.Errorf("build.context %q, image.dockerfile %q (%s from the root), want services/api, %q (%s)", l.Build.Context, l.Image.Dockerfile, l.DockerfilePath(), tc.wantDockerfile, tc.wantRepoPath)
			}
		})
	}
}

// A service's imageContext wins over image.context; its Dockerfile
// defaults to the one in its folder.
func TestServiceImageContext(t *testing.T) {
	y := strings.Replace(good, "ghcr.io/acme/api\n", "ghcr.io/acme/api\n  context: .\n", 1) +
		"services:\n  - name: api\n    context: services/api\n  - name: web\n    context: apps/web\n    imageContext: apps\n"
	l, err := Parse("pipewright.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []struct{ ctx, dockerfile string }{{".", "services/api/Dockerfile"}, {"apps", "web/Dockerfile"}} {
		s := l.Service(i)
		if s.ImageContext() != want.ctx || s.Image.Dockerfile != want.dockerfile {
			t.Errorf("service %d: image context %q dockerfile %q, want %q %q", i, s.ImageContext(), s.Image.Dockerfile, want.ctx, want.dockerfile)
		}
	}
}

func TestBadImageContext(t *testing.T) {
	withImage := func(lines string) string {
		return strings.Replace(replace("  pack: go", "  pack: go\n  context: services/api"), "ghcr.io/acme/api\n", "ghcr.io/acme/api\n"+lines, 1)
	}
	for _, tc := range []struct{ name, yaml, want string }{
		{"image.context leaves the repository", withImage("  context: ../shared\n"),
			`pipewright.yaml:9:3: image.context: "../shared" leaves the repository (hint: a folder inside the repository, relative to its root, e.g. . for the root itself)`},
		{"image.context absolute", withImage("  context: /src\n"),
			`pipewright.yaml:9:3: image.context: "/src" is not a relative slash path (hint: a folder inside the repository, relative to its root, e.g. . for the root itself)`},
		{"dockerfile leaves the repository from image.context", withImage("  context: services\n  dockerfile: ../../Dockerfile\n"),
			`pipewright.yaml:10:3: image.dockerfile: "../../Dockerfile" leaves the repository (it is relative to image.context "services") (hint: a Dockerfile inside the repository, relative to image.context, e.g. services/api/Dockerfile)`},
		{"image.context with go-image", withImage("  context: .\n  builder: go-image\ntools:\n  image: ghcr.io/acme/pipewright@sha256:" + strings.Repeat("a", 64) + "\n"),
			`pipewright.yaml:9:3: image.context: is for the dockerfile builder (hint: remove it: go-image builds image.package from build.context, without a Dockerfile)`},
		{"service imageContext leaves the repository", good + "services:\n  - name: api\n    context: services/api\n    imageContext: ../x\n",
			`pipewright.yaml:13:5: services[0].imageContext: "../x" leaves the repository (hint: a folder inside the repository, relative to its root, e.g. . for the root itself)`},
		{"service dockerfile leaves the repository from its imageContext", good + "services:\n  - name: api\n    context: services/api\n    imageContext: services\n    dockerfile: ../../Dockerfile\n",
			`pipewright.yaml:14:5: services[0].dockerfile: "../../Dockerfile" leaves the repository (it is relative to its imageContext "services") (hint: a Dockerfile inside the repository, relative to the service's imageContext)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("pipewright.yaml", []byte(tc.yaml))
			es := ErrorsOf(err)
			if len(es) == 0 {
				t.Fatalf("want a config error, got %v", err)
			}
			if got := es[0].Error(); got != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}
