package controlplane

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/pipewright/pipewright/pkg/image"
)

// NodeImages are the references, by digest in the node's registry, of
// everything the node runs.
type NodeImages struct {
	Pause string
	// Base is the Debian stand-in (sh, git, curl, python3): Tekton's shell
	// image and the stand-in for several catalog images.
	Base string
	// Static stands in for distroless static: passwd, group and /tmp only.
	Static string
	// Standins maps catalog image names (the lock's "name") to stand-ins.
	Standins map[string]string
	// Tekton maps Tekton Pipelines' helper programs (entrypoint, nop,
	// workingdirinit, sidecarlogresults) to their images.
	Tekton map[string]string
	// Triggers maps Tekton Triggers' programs that run as Pods
	// (eventlistenersink) to their images.
	Triggers map[string]string
	// Tool is the pipewright tool image built from this checkout.
	Tool string
}

// standin describes one stand-in image: the build.sh layers it stacks and
// what its config adds.
type standin struct {
	layers []string // "standin/<name>" outputs of test/tools/standins.sh
	env    []string
	user   string // the image's USER, as the image it stands in for has
	// catalog names it stands in for
	for_ []string
}

var standins = map[string]standin{
	"base": {layers: []string{"base"}, for_: []string{"git-init", "shell", "python"}},
	"golang": {layers: []string{"base", "go"}, for_: []string{"golang"},
		env: []string{"PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "GOTOOLCHAIN=local"}},
	"golangci-lint": {layers: []string{"base", "go", "golangci-lint"}, for_: []string{"golangci-lint"},
		env: []string{"PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "GOTOOLCHAIN=local"}},
	"node":    {layers: []string{"base", "node"}, for_: []string{"node"}},
	"kubectl": {layers: []string{"base", "kubectl"}, for_: []string{"kubectl"}},
	// moby/buildkit's rootless image: its user, environment and programs
	// (its Dockerfile's stage rootless), on Debian instead of Alpine.
	"buildkit": {layers: []string{"base", "buildkit"}, for_: []string{"buildkit"}, user: "1000:1000",
		env: []string{defaultPath, "HOME=/home/user", "USER=user", "XDG_RUNTIME_DIR=/run/user/1000",
			"TMPDIR=/home/user/.local/tmp", "BUILDKIT_HOST=unix:///run/user/1000/buildkit/buildkitd.sock"}},
}

// NoStandin says, for each catalog image without a stand-in, why.
var NoStandin = map[string]string{
	"maven": "Maven resolves its plugins from Maven Central, which is not reachable here",
}

const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// tektonHelpers are the programs Tekton's controller takes images for.
var tektonHelpers = []string{"entrypoint", "nop", "sidecarlogresults", "workingdirinit"}

// pushImages assembles the stand-ins from build.sh's layers and builds
// Tekton's helper images and the pipewright tool image with pipewright's
// own image builder, pushing everything to the node's registry.
func (cp *ControlPlane) pushImages(ctx context.Context) error {
	n := cp.node
	start := time.Now()
	layers := map[string]v1.Layer{}
	layer := func(name string) (v1.Layer, error) {
		if l, ok := layers[name]; ok {
			return l, nil
		}
		path, err := cp.sandbox.Binaries.Get("standin/" + name)
		if err != nil {
			return nil, err
		}
		l, err := tarball.LayerFromFile(path, tarball.WithMediaType(types.OCILayer))
		if err != nil {
			return nil, fmt.Errorf("stand-in layer %s: %w", path, err)
		}
		layers[name] = l
		return l, nil
	}
	// One repository for all stand-ins, so the shared Debian layer is
	// uploaded once.
	push := func(tag string, names []string, cfg v1.Config) (string, error) {
		img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
		img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
		for _, nm := range names {
			l, err := layer(nm)
			if err != nil {
				return "", err
			}
			if img, err = mutate.AppendLayers(img, l); err != nil {
				return "", err
			}
		}
		return cp.pushImage(ctx, img, "standin:"+tag, cfg)
	}
	var err error
	if n.images.Pause, err = push("pause", []string{"pause"}, v1.Config{Entrypoint: []string{"/pause"}}); err != nil {
		return err
	}
	n.images.Standins = map[string]string{}
	for _, tag := range sortedKeys(standins) {
		s := standins[tag]
		if missing := cp.missingLayers(s.layers); missing != "" {
			// standins.sh leaves out what this machine cannot make (no
			// Node.js, no golangci-lint built yet) and says so.
			cp.logf("stand-in %s left out: no layer %s", tag, missing)
			continue
		}
		env := s.env
		if env == nil {
			env = []string{defaultPath}
		}
		ref, err := push(tag, s.layers, v1.Config{Env: env, Cmd: []string{"/bin/sh"}, User: s.user})
		if err != nil {
			return err
		}
		if tag == "base" {
			n.images.Base = ref
		}
		for _, c := range s.for_ {
			n.images.Standins[c] = ref
		}
	}
	static, err := image.TarLayer([]image.File{
		{Name: "etc/", Mode: 0o755},
		{Name: "etc/passwd", Mode: 0o644, Data: []byte("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")},
		{Name: "etc/group", Mode: 0o644, Data: []byte("root:x:0:\nnonroot:x:65532:\n")},
		{Name: "home/", Mode: 0o755},
		{Name: "tmp/", Mode: 0o1777},
	}, time.Unix(0, 0), types.OCILayer)
	if err != nil {
		return err
	}
	simg, err := mutate.AppendLayers(mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON), static)
	if err != nil {
		return err
	}
	if n.images.Static, err = cp.pushImage(ctx, simg, "standin:distroless-static", v1.Config{Env: []string{defaultPath}, User: "65532"}); err != nil {
		return err
	}
	n.images.Standins["distroless-static"] = n.images.Static
	cp.logf("stand-in images pushed (%.1fs)", time.Since(start).Seconds())

	// The sandbox has no network: every module must come from the cache
	// that build.sh filled.
	for k, v := range map[string]string{"GOPROXY": "off", "GOFLAGS": "-mod=readonly", "GOWORK": "off"} {
		os.Setenv(k, v)
	}
	tektonMod := filepath.Join(filepath.Dir(BuildScript()), "tekton")
	n.images.Tekton = map[string]string{}
	for _, h := range tektonHelpers {
		ref, err := cp.buildImage(ctx, tektonMod, "github.com/tektoncd/pipeline/cmd/"+h, "tekton/"+h, "/ko-app")
		if err != nil {
			return err
		}
		n.images.Tekton[h] = ref
	}
	n.images.Triggers = map[string]string{}
	for _, h := range []string{"eventlistenersink"} {
		ref, err := cp.buildImage(ctx, tektonMod, "github.com/tektoncd/triggers/cmd/"+h, "tekton/triggers/"+h, "/ko-app")
		if err != nil {
			return err
		}
		n.images.Triggers[h] = ref
	}
	root := filepath.Join(filepath.Dir(BuildScript()), "..", "..")
	if n.images.Tool, err = cp.buildImage(ctx, root, "./cmd/pipewright", "pipewright", ""); err != nil {
		return err
	}
	cp.logf("images built and pushed: Tekton's helpers and the pipewright tool image (%.1fs in all)", time.Since(start).Seconds())
	return nil
}

func (cp *ControlPlane) missingLayers(names []string) string {
	for _, nm := range names {
		if _, ok := cp.sandbox.Binaries["standin/"+nm]; !ok {
			return nm
		}
	}
	return ""
}

// buildImage runs pipewright's image builder (what `pipewright image build`
// does) for a Go main package, on the static stand-in.
func (cp *ControlPlane) buildImage(ctx context.Context, dir, pkg, repo, appDir string) (string, error) {
	res, err := image.Build(ctx, pkg, image.Options{
		Repo:   cp.node.registry + "/" + repo,
		Base:   cp.node.images.Static,
		Dir:    dir,
		AppDir: appDir,
		Time:   time.Unix(0, 0).UTC(),
	})
	if err != nil {
		return "", fmt.Errorf("building the %s image: %w", repo, err)
	}
	return res.Ref.String(), nil
}

// pushImage sets cfg on img and pushes it as repoTag, returning repo@digest.
func (cp *ControlPlane) pushImage(ctx context.Context, img v1.Image, repoTag string, cfg v1.Config) (string, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return "", err
	}
	cf = cf.DeepCopy()
	cf.Config = cfg
	cf.OS, cf.Architecture = "linux", runtime.GOARCH
	cf.Created = v1.Time{Time: time.Unix(0, 0).UTC()}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return "", err
	}
	tag, err := name.NewTag(cp.node.registry + "/" + repoTag)
	if err != nil {
		return "", err
	}
	if err := remote.Write(tag, img, remote.WithContext(ctx)); err != nil {
		return "", fmt.Errorf("pushing %s: %w", tag, err)
	}
	d, err := img.Digest()
	if err != nil {
		return "", err
	}
	return tag.Context().Digest(d.String()).String(), nil
}

// imagesFile writes the override file `pipewright generate --images` takes
// (the lock's format) naming the stand-ins, and returns its path.
func (cp *ControlPlane) imagesFile() (string, error) {
	type entry struct {
		Name   string `json:"name"`
		Repo   string `json:"repo"`
		Tag    string `json:"tag,omitempty"`
		Digest string `json:"digest"`
		Source string `json:"source"`
	}
	var lock struct {
		Version int     `json:"version"`
		Images  []entry `json:"images"`
	}
	lock.Version = 1
	for _, nm := range sortedKeys(cp.node.images.Standins) {
		ref := cp.node.images.Standins[nm]
		repo, digest, _ := strings.Cut(ref, "@")
		lock.Images = append(lock.Images, entry{Name: nm, Repo: repo, Digest: digest,
			Source: "stand-in built by test/controlplane from test/tools/standins.sh layers"})
	}
	b, err := json.MarshalIndent(lock, "", "  ")
	if err != nil {
		return "", err
	}
	path := filepath.Join(cp.dir, "images.json")
	return path, os.WriteFile(path, append(b, '\n'), 0o644)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
