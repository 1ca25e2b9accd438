// Package image builds container images for Go main packages without a
// Docker daemon: it compiles the package, lays the binary onto a base image
// with go-containerregistry's mutate, and pushes the result by digest,
// attaching an SPDX SBOM of the binary's Go modules. The same source, base
// and timestamp always give the same digest.
package image

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/pipewright/pipewright/pkg/boundedio"
	"github.com/pipewright/pipewright/pkg/images"
)

// BaseEnv names the environment variable that overrides the default base.
const BaseEnv = "PIPEWRIGHT_BASE_IMAGE"

// User is the numeric non-root user the image runs as; distroless's
// "nonroot" user has this id, and a number needs no /etc/passwd entry.
const User = "65532"

// AppDir is the folder the binary is placed in unless Options.AppDir says
// otherwise.
const AppDir = "/app"

// OCI label and annotation keys.
const (
	LabelSource     = "org.opencontainers.image.source"
	LabelRevision   = "org.opencontainers.image.revision"
	AnnotBaseName   = "org.opencontainers.image.base.name"
	AnnotBaseDigest = "org.opencontainers.image.base.digest"
)

// Options configures Build. Only Repo is required.
type Options struct {
	Repo      string   // registry/repository to push to, without tag or digest
	Base      string   // base image reference; empty means DefaultBase()
	Platforms []string // os/arch[/variant]; empty means linux/amd64
	SBOM      bool     // attach an SPDX SBOM per platform image
	// NoPush builds and reports the digest without writing to the registry
	// (pull-request builds); the base is still read from it.
	NoPush   bool
	Tags     []string // extra tags to point at the result
	Source   string   // org.opencontainers.image.source label; omitted when empty
	Revision string   // org.opencontainers.image.revision; empty means the git HEAD of Dir, if any
	Dir      string   // where go build runs (inside the module); empty means the current folder
	// Time stamps the image config, history, layer entries and SBOM; zero
	// means SourceTime(Dir).
	Time     time.Time
	Keychain authn.Keychain // empty means authn.DefaultKeychain
	// AppDir is the absolute folder the binary goes to and PATH starts with;
	// empty means AppDir. Tekton's helper images need /ko-app, the layout ko
	// uses, because its controller runs /ko-app/<name> by that path.
	AppDir string
	Log    io.Writer // progress lines; nil discards
	// RegistryIdle is how long one registry request may go without progress
	// (no answer, no bytes of a body either way) before it fails;
	// DefaultRegistryIdle when zero. A stalled registry then fails the build
	// instead of hanging it, while a slow but moving layer upload goes on.
	RegistryIdle time.Duration
}

// DefaultRegistryIdle is Options.RegistryIdle's default.
const DefaultRegistryIdle = 2 * time.Minute

// Result is what was pushed.
type Result struct {
	Ref    name.Digest // Repo@sha256:… of the image or, for several platforms, the index
	Digest v1.Hash
	// Images maps each platform to its image digest (one entry for a
	// single-platform build, which pushes no index).
	Images map[string]v1.Hash
	SBOMs  []name.Tag // sha256-<image digest>.sbom tags written
}

// DefaultBase is PIPEWRIGHT_BASE_IMAGE when set, else the distroless static
// image from the catalog's pinned image table.
func DefaultBase() string {
	if b := os.Getenv(BaseEnv); b != "" {
		return b
	}
	return images.DistrolessStatic.Ref()
}

// SourceTime is the timestamp reproducible builds use: SOURCE_DATE_EPOCH,
// else the commit time of the git HEAD that contains dir, else the Unix epoch.
func SourceTime(dir string) (time.Time, error) {
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: want seconds since 1970 (%w)", s, err)
		}
		return time.Unix(sec, 0).UTC(), nil
	}
	if out, err := git(dir, "log", "-1", "--format=%ct"); err == nil && out != "" {
		if sec, err := strconv.ParseInt(out, 10, 64); err == nil {
			return time.Unix(sec, 0).UTC(), nil
		}
	}
	return time.Unix(0, 0).UTC(), nil
}

func git(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	return strings.TrimSpace(string(out)), err
}

// tagRE is the OCI distribution spec's tag grammar.
var tagRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$`)

// Build compiles pkg (a Go package path as `go build` takes it) for every
// platform, layers it onto the base, and pushes by digest.
func Build(ctx context.Context, pkg string, o Options) (Result, error) {
	if o.Repo == "" {
		return Result{}, errors.New("image build: no repository (--image REPO)")
	}
	// go build takes a leading dash as a flag (-toolexec=... runs a
	// program); goBuild also passes "--" before the package.
	if pkg == "" || strings.HasPrefix(pkg, "-") {
		return Result{}, fmt.Errorf("image build: package %s: want a Go package path such as ./cmd/api", boundedio.Quote(pkg))
	}
	repo, err := name.NewRepository(o.Repo)
	if err != nil {
		return Result{}, fmt.Errorf("image build: --image %s: %w", boundedio.Quote(o.Repo), err)
	}
	// Every tag is checked before anything is compiled or pushed: a bad
	// one found after the push would leave a half-tagged release.
	tags := make([]name.Tag, 0, len(o.Tags))
	for _, t := range o.Tags {
		if !tagRE.MatchString(t) {
			return Result{}, fmt.Errorf("image build: tag %s: want letters, digits, '_', '.' and '-', not starting with '.' or '-', at most 128 characters", boundedio.Quote(t))
		}
		tags = append(tags, repo.Tag(t))
	}
	if o.Base == "" {
		o.Base = DefaultBase()
	}
	if o.AppDir == "" {
		o.AppDir = AppDir
	}
	if !path.IsAbs(o.AppDir) || path.Clean(o.AppDir) != o.AppDir || o.AppDir == "/" {
		return Result{}, fmt.Errorf("image build: app dir %q: want a clean absolute folder such as %s", o.AppDir, AppDir)
	}
	baseRef, err := name.ParseReference(o.Base)
	if err != nil {
		return Result{}, fmt.Errorf("image build: base %q: %w", o.Base, err)
	}
	if len(o.Platforms) == 0 {
		o.Platforms = []string{"linux/amd64"}
	}
	platforms := make([]v1.Platform, 0, len(o.Platforms))
	seen := map[string]bool{}
	for _, s := range o.Platforms {
		p, err := v1.ParsePlatform(s)
		if err != nil || p.OS == "" || p.Architecture == "" {
			return Result{}, fmt.Errorf("image build: platform %s: want os/arch[/variant], e.g. linux/arm64", boundedio.Quote(s))
		}
		// An index with two manifests for one platform leaves the choice
		// to each runtime.
		if seen[p.String()] {
			return Result{}, fmt.Errorf("image build: platform %s given twice", p)
		}
		seen[p.String()] = true
		platforms = append(platforms, *p)
	}
	if o.Keychain == nil {
		o.Keychain = authn.DefaultKeychain
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Dir == "" {
		o.Dir = "."
	}
	if o.Time.IsZero() {
		if o.Time, err = SourceTime(o.Dir); err != nil {
			return Result{}, err
		}
	}
	if o.Revision == "" {
		o.Revision, _ = git(o.Dir, "rev-parse", "HEAD")
	}
	ropts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(o.Keychain), remote.WithUserAgent("pipewright"),
		remote.WithTransport(RegistryTransport(o.RegistryIdle))}

	base, err := remote.Get(baseRef, ropts...)
	if err != nil {
		return Result{}, fmt.Errorf("image build: base %s: %w (set --base or %s to a reachable image)", o.Base, err, BaseEnv)
	}

	// The base must have every platform before anything is compiled.
	bases := make([]v1.Image, len(platforms))
	for i, p := range platforms {
		if bases[i], err = platformBase(base, p); err != nil {
			return Result{}, fmt.Errorf("image build: base %s: %w", o.Base, err)
		}
	}

	out, cleanup, err := outputDir(o.Dir, pkg)
	if err != nil {
		return Result{}, err
	}
	defer cleanup()

	res := Result{Images: map[string]v1.Hash{}}
	var adds []mutate.IndexAddendum
	var sboms []sbomFor
	for i, p := range platforms {
		bin := filepath.Join(out, strings.ReplaceAll(p.String(), "/", "-"))
		start := time.Now()
		if err := goBuild(ctx, o.Dir, pkg, p, bin); err != nil {
			return Result{}, err
		}
		fmt.Fprintf(o.Log, "built %s for %s in %s\n", pkg, p, time.Since(start).Round(time.Millisecond))
		data, err := os.ReadFile(bin)
		if err != nil {
			return Result{}, err
		}
		bi, err := readBuildInfo(data)
		if err != nil {
			return Result{}, fmt.Errorf("image build: %s: %w", pkg, err)
		}
		img, err := layer(bases[i], data, path.Base(bi.Path), p, o)
		if err != nil {
			return Result{}, fmt.Errorf("image build: %s: %w", p, err)
		}
		img, err = annotate(img, baseRef, base)
		if err != nil {
			return Result{}, err
		}
		d, err := img.Digest()
		if err != nil {
			return Result{}, err
		}
		res.Images[p.String()] = d
		if o.SBOM {
			doc, err := SPDX(bi, path.Base(bi.Path), d, o.Time)
			if err != nil {
				return Result{}, fmt.Errorf("image build: sbom: %w", err)
			}
			sboms = append(sboms, sbomFor{digest: d, doc: doc})
		}
		pl := p
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &pl}})
	}

	var push remote.Taggable
	if len(adds) == 1 {
		img := adds[0].Add.(v1.Image)
		res.Digest, _ = img.Digest()
		res.Ref = repo.Digest(res.Digest.String())
		if o.NoPush {
			fmt.Fprintf(o.Log, "built %s (not pushed)\n", res.Ref)
			return res, nil
		}
		fmt.Fprintf(o.Log, "pushing %s\n", res.Ref)
		if err := remote.Write(res.Ref, img, ropts...); err != nil {
			return Result{}, fmt.Errorf("image build: push %s: %w", res.Ref, err)
		}
		push = img
	} else {
		mt := types.OCIImageIndex
		if m, err := adds[0].Add.(v1.Image).MediaType(); err == nil && m == types.DockerManifestSchema2 {
			mt = types.DockerManifestList
		}
		idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, mt), adds...)
		if res.Digest, err = idx.Digest(); err != nil {
			return Result{}, err
		}
		res.Ref = repo.Digest(res.Digest.String())
		if o.NoPush {
			fmt.Fprintf(o.Log, "built %s (%d platforms, not pushed)\n", res.Ref, len(adds))
			return res, nil
		}
		fmt.Fprintf(o.Log, "pushing %s (%d platforms)\n", res.Ref, len(adds))
		if err := remote.WriteIndex(res.Ref, idx, ropts...); err != nil {
			return Result{}, fmt.Errorf("image build: push %s: %w", res.Ref, err)
		}
		push = idx
	}
	for _, s := range sboms {
		tag, err := attachSBOM(repo, s, o.Time, ropts)
		if err != nil {
			return Result{}, err
		}
		res.SBOMs = append(res.SBOMs, tag)
	}
	for _, tag := range tags {
		if err := remote.Tag(tag, push, ropts...); err != nil {
			return Result{}, fmt.Errorf("image build: tag %s: %w", tag, err)
		}
	}
	return res, nil
}

// outputDir is where go build writes the binaries: a folder in the user's
// cache named after the module folder and package, so a rebuild of an
// unchanged package finds its binary up to date and go build skips the
// link, as it does for a repeated `go build -o`. Without a cache folder it
// is a temporary folder.
func outputDir(dir, pkg string) (string, func(), error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", nil, err
	}
	if c, err := os.UserCacheDir(); err == nil {
		sum := sha256.Sum256([]byte(abs + "\x00" + pkg))
		d := filepath.Join(c, "pipewright", "image-build", hex.EncodeToString(sum[:8]))
		if err := os.MkdirAll(d, 0o755); err == nil {
			return d, func() {}, nil
		}
	}
	d, err := os.MkdirTemp("", "pipewright-image-")
	if err != nil {
		return "", nil, err
	}
	return d, func() { os.RemoveAll(d) }, nil
}

// goBuild compiles a static, path-free binary: the same source gives the
// same bytes on any machine.
func goBuild(ctx context.Context, dir, pkg string, p v1.Platform, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", out, "--", pkg)
	cmd.Dir = dir
	env := append(os.Environ(), "CGO_ENABLED=0", "GOOS="+p.OS, "GOARCH="+p.Architecture)
	if p.Architecture == "arm" && strings.HasPrefix(p.Variant, "v") {
		env = append(env, "GOARM="+strings.TrimPrefix(p.Variant, "v"))
	}
	cmd.Env = env
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s for %s: %w\n%s", pkg, p, err, strings.TrimSpace(string(b)))
	}
	return nil
}

// platformBase picks the base image for p: the matching child of an index,
// or the image itself when its config says p (or says nothing, like scratch).
func platformBase(base *remote.Descriptor, p v1.Platform) (v1.Image, error) {
	if base.MediaType.IsIndex() {
		idx, err := base.ImageIndex()
		if err != nil {
			return nil, err
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return nil, err
		}
		for _, m := range im.Manifests {
			if m.Platform != nil && m.Platform.Satisfies(p) {
				return idx.Image(m.Digest)
			}
		}
		return nil, fmt.Errorf("no image for platform %s in the base index", p)
	}
	img, err := base.Image()
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	if cf.OS != "" && cf.Architecture != "" {
		if got := cf.Platform(); got != nil && !got.Satisfies(p) {
			return nil, fmt.Errorf("base is %s, not %s; use a multi-platform base", got, p)
		}
	}
	return img, nil
}

// layer appends the binary layer and sets entrypoint, user, labels,
// platform and timestamps.
func layer(base v1.Image, bin []byte, appName string, p v1.Platform, o Options) (v1.Image, error) {
	mt := types.DockerLayer
	if m, err := base.MediaType(); err == nil && m == types.OCIManifestSchema1 {
		mt = types.OCILayer
	}
	l, err := binaryLayer(bin, path.Join(o.AppDir, appName), o.Time, mt)
	if err != nil {
		return nil, err
	}
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:     l,
		MediaType: mt,
		History: v1.History{
			Created:   v1.Time{Time: o.Time},
			CreatedBy: "pipewright image build",
			Comment:   appName,
		},
	})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant, cf.OSVersion = p.OS, p.Architecture, p.Variant, p.OSVersion
	cf.Created = v1.Time{Time: o.Time}
	cf.Author = "pipewright"
	cf.Config.Entrypoint = []string{path.Join(o.AppDir, appName)}
	cf.Config.Cmd = nil
	cf.Config.User = User
	if cf.Config.Labels == nil {
		cf.Config.Labels = map[string]string{}
	}
	if o.Source != "" {
		cf.Config.Labels[LabelSource] = o.Source
	}
	if o.Revision != "" {
		cf.Config.Labels[LabelRevision] = o.Revision
	}
	cf.Config.Env = withPath(cf.Config.Env, o.AppDir)
	return mutate.ConfigFile(img, cf)
}

// withPath puts dir first on PATH so the binary runs by name too.
func withPath(env []string, dir string) []string {
	out := make([]string, 0, len(env)+1)
	found := false
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			e = "PATH=" + dir + ":" + v
			found = true
		}
		out = append(out, e)
	}
	if !found {
		out = append(out, "PATH="+dir+":/usr/local/bin:/usr/bin:/bin")
	}
	return out
}

// annotate records the base in the manifest, as ko does, where the
// manifest format has annotations (OCI).
func annotate(img v1.Image, baseRef name.Reference, base *remote.Descriptor) (v1.Image, error) {
	if m, err := img.MediaType(); err != nil || m != types.OCIManifestSchema1 {
		return img, err
	}
	return mutate.Annotations(img, map[string]string{
		AnnotBaseName:   baseRef.Context().Name() + tagOf(baseRef),
		AnnotBaseDigest: base.Digest.String(),
	}).(v1.Image), nil
}

func tagOf(r name.Reference) string {
	if t, ok := r.(name.Tag); ok {
		return ":" + t.TagStr()
	}
	return ""
}
