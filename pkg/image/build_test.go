package image

import (
	"archive/tar"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/pipewright/pipewright/test/refregistry"
)

const hello = "./testdata/hello"

var stamp = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// newRegistry serves go-containerregistry's in-process registry.
func newRegistry(t *testing.T) string {
	t.Helper()
	return refregistry.InProcess(t)
}

// platformImage is a small deterministic stand-in for a base image.
func platformImage(t *testing.T, seed int64, p v1.Platform) v1.Image {
	t.Helper()
	img, err := random.Image(512, 1, random.WithSource(rand.NewSource(seed)))
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	cf.Config.Env = []string{"PATH=/usr/bin:/bin"}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func pushBase(t *testing.T, reg string, p v1.Platform) string {
	t.Helper()
	ref := reg + "/base:" + p.Architecture
	r, _ := name.ParseReference(ref)
	if err := remote.Write(r, platformImage(t, 1, p), remote.WithContext(context.Background())); err != nil {
		t.Fatal(err)
	}
	return ref
}

func opts(reg, base string) Options {
	return Options{
		Repo:     reg + "/hello",
		Base:     base,
		SBOM:     true,
		Source:   "https://github.com/pipewright/pipewright",
		Revision: "0123456789abcdef0123456789abcdef01234567",
		Time:     stamp,
	}
}

var amd64 = v1.Platform{OS: "linux", Architecture: "amd64"}

func TestBuildPushPullRun(t *testing.T) {
	reg := newRegistry(t)
	base := pushBase(t, reg, amd64)
	ctx := context.Background()

	res, err := Build(ctx, hello, opts(reg, base))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Ref.String(), reg+"/hello@"+res.Digest.String(); got != want {
		t.Errorf("ref = %s, want %s", got, want)
	}

	// Pull back by digest: a single platform pushes an image, not an index.
	desc, err := remote.Get(res.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if desc.MediaType.IsIndex() {
		t.Fatalf("single platform pushed an index (%s)", desc.MediaType)
	}
	img, err := desc.Image()
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if got := cf.Config.Entrypoint; len(got) != 1 || got[0] != "/app/hello" {
		t.Errorf("entrypoint = %q, want [/app/hello]", got)
	}
	if cf.Config.User != "65532" {
		t.Errorf("user = %q, want 65532", cf.Config.User)
	}
	if cf.Config.Labels[LabelSource] != "https://github.com/pipewright/pipewright" || cf.Config.Labels[LabelRevision] != "0123456789abcdef0123456789abcdef01234567" {
		t.Errorf("labels = %v", cf.Config.Labels)
	}
	if cf.OS != "linux" || cf.Architecture != "amd64" || !cf.Created.Time.Equal(stamp) {
		t.Errorf("config os/arch/created = %s/%s/%s", cf.OS, cf.Architecture, cf.Created.Time)
	}
	if len(cf.Config.Env) != 1 || cf.Config.Env[0] != "PATH=/app:/usr/bin:/bin" {
		t.Errorf("env = %q, want the base PATH with /app first", cf.Config.Env)
	}
	last := cf.History[len(cf.History)-1]
	if !last.Created.Time.Equal(stamp) || last.CreatedBy != "pipewright image build" {
		t.Errorf("history = %+v", last)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 2 {
		t.Fatalf("%d layers, want base + binary", len(layers))
	}

	// The binary layer: parent folder then binary, root-owned, fixed
	// modes and times.
	rc, err := layers[1].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	var names []string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if h.Uid != 0 || h.Gid != 0 || !h.ModTime.Equal(stamp) || h.Mode != 0o755 {
			t.Errorf("%s: uid %d gid %d mode %o mtime %s", h.Name, h.Uid, h.Gid, h.Mode, h.ModTime)
		}
	}
	if strings.Join(names, ",") != "app/,app/hello" {
		t.Errorf("layer entries = %q", names)
	}

	// The flattened filesystem holds the entrypoint file, executable, and it runs.
	bin := extract(t, img, "app/hello")
	out, err := exec.Command(bin, "-print").CombinedOutput()
	if err != nil || string(out) != "greeting: hello from pipewright\n" {
		t.Errorf("running the entrypoint: %v: %q", err, out)
	}

	// Same inputs, same digest.
	again, err := Build(ctx, hello, opts(reg, base))
	if err != nil {
		t.Fatal(err)
	}
	if again.Digest != res.Digest {
		t.Errorf("rebuild digest %s != first build %s", again.Digest, res.Digest)
	}
	// A different timestamp is a different image: the time is really in it.
	o := opts(reg, base)
	o.Time = stamp.Add(time.Hour)
	later, err := Build(ctx, hello, o)
	if err != nil {
		t.Fatal(err)
	}
	if later.Digest == res.Digest {
		t.Error("a different timestamp gave the same digest")
	}

	checkSBOM(t, res.Ref.Context(), res.Digest, "hello")
}

// extract flattens img and writes one file from it to a temp folder,
// checking it is a root-owned executable.
func extract(t *testing.T, img v1.Image, file string) string {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("%s not in the image filesystem: %v", file, err)
		}
		if h.Name != file {
			continue
		}
		if h.Typeflag != tar.TypeReg || h.Mode&0o111 == 0 || h.Uid != 0 {
			t.Fatalf("%s: type %c mode %o uid %d, want a root-owned executable file", file, h.Typeflag, h.Mode, h.Uid)
		}
		p := filepath.Join(t.TempDir(), filepath.Base(file))
		f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o755)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(f, tr); err != nil {
			t.Fatal(err)
		}
		f.Close()
		return p
	}
}

func checkSBOM(t *testing.T, repo name.Repository, d v1.Hash, app string) {
	t.Helper()
	tag := SBOMTag(repo, d)
	if !strings.HasSuffix(tag.String(), ":sha256-"+d.Hex+".sbom") {
		t.Errorf("sbom tag %s", tag)
	}
	img, err := remote.Image(tag)
	if err != nil {
		t.Fatalf("sbom not attached at %s: %v", tag, err)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("sbom image layers: %v %d", err, len(layers))
	}
	if mt, _ := layers[0].MediaType(); mt != SPDXMediaType {
		t.Errorf("sbom layer media type %s", mt)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var doc struct {
		SPDXVersion string `json:"spdxVersion"`
		Name        string `json:"name"`
		Packages    []struct {
			Name         string `json:"name"`
			VersionInfo  string `json:"versionInfo"`
			ExternalRefs []struct {
				Locator string `json:"referenceLocator"`
			} `json:"externalRefs"`
		} `json:"packages"`
	}
	if err := json.NewDecoder(rc).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.SPDXVersion != "SPDX-2.3" || doc.Name != app+"@"+d.String() {
		t.Errorf("sbom header: %s %s", doc.SPDXVersion, doc.Name)
	}
	want := "pkg:golang/sigs.k8s.io/yaml@" + moduleVersion(t, "sigs.k8s.io/yaml")
	found := false
	for _, p := range doc.Packages {
		for _, r := range p.ExternalRefs {
			found = found || r.Locator == want
		}
	}
	if !found {
		t.Errorf("sbom lacks %s: %+v", want, doc.Packages)
	}
}

func moduleVersion(t *testing.T, mod string) string {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", mod).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

func TestMultiPlatformIndex(t *testing.T) {
	reg := newRegistry(t)
	arm64 := v1.Platform{OS: "linux", Architecture: "arm64"}
	// A multi-platform base, as distroless is.
	baseIdx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: platformImage(t, 1, amd64), Descriptor: v1.Descriptor{Platform: &amd64}},
		mutate.IndexAddendum{Add: platformImage(t, 2, arm64), Descriptor: v1.Descriptor{Platform: &arm64}},
	)
	baseRef, _ := name.ParseReference(reg + "/base:multi")
	if err := remote.WriteIndex(baseRef, baseIdx); err != nil {
		t.Fatal(err)
	}
	o := opts(reg, baseRef.String())
	o.Platforms = []string{"linux/amd64", "linux/arm64"}
	res, err := Build(context.Background(), hello, o)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := remote.Index(res.Ref)
	if err != nil {
		t.Fatalf("multi-platform build did not push an index: %v", err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	machines := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}
	if len(im.Manifests) != 2 {
		t.Fatalf("index has %d manifests, want 2", len(im.Manifests))
	}
	for _, m := range im.Manifests {
		arch := m.Platform.Architecture
		if res.Images[m.Platform.String()] != m.Digest {
			t.Errorf("%s: result digest %s, index has %s", m.Platform, res.Images[m.Platform.String()], m.Digest)
		}
		img, err := idx.Image(m.Digest)
		if err != nil {
			t.Fatal(err)
		}
		cf, _ := img.ConfigFile()
		if cf.Architecture != arch {
			t.Errorf("%s: config says %s", m.Platform, cf.Architecture)
		}
		f, err := elf.Open(extract(t, img, "app/hello"))
		if err != nil {
			t.Fatal(err)
		}
		if f.Machine != machines[arch] {
			t.Errorf("%s: binary is for %s", arch, f.Machine)
		}
		f.Close()
		checkSBOM(t, res.Ref.Context(), m.Digest, "hello")
	}
}

func TestBuildErrors(t *testing.T) {
	reg := newRegistry(t)
	arm := pushBase(t, reg, v1.Platform{OS: "linux", Architecture: "arm64"})
	amd := pushBase(t, reg, amd64)
	for _, tc := range []struct {
		name, pkg, base string
		edit            func(*Options)
		want            string
	}{
		{"no repo", hello, amd, func(o *Options) { o.Repo = "" }, "no repository"},
		{"bad platform", hello, amd, func(o *Options) { o.Platforms = []string{"amd64"} }, `platform "amd64": want os/arch`},
		{"platform not in base", hello, arm, nil, "base is linux/arm64, not linux/amd64"},
		{"unreachable base", hello, reg + "/nothing:here", nil, "set --base or PIPEWRIGHT_BASE_IMAGE"},
		{"not a main package", "./testdata/notmain", amd, nil, "not a Go main package"},
		{"does not compile", "./testdata/broken", amd, nil, "go build ./testdata/broken for linux/amd64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := opts(reg, tc.base)
			if tc.edit != nil {
				tc.edit(&o)
			}
			_, err := Build(context.Background(), tc.pkg, o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestDefaultBaseAndSourceTime(t *testing.T) {
	t.Setenv(BaseEnv, "")
	if got := DefaultBase(); !strings.HasPrefix(got, "gcr.io/distroless/static:nonroot@sha256:") {
		t.Errorf("default base %s, want the catalog's distroless static", got)
	}
	if _, err := name.ParseReference(DefaultBase()); err != nil {
		t.Errorf("default base does not parse: %v", err)
	}
	t.Setenv(BaseEnv, "example.com/base:1")
	if got := DefaultBase(); got != "example.com/base:1" {
		t.Errorf("%s did not override: %s", BaseEnv, got)
	}

	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	if got, err := SourceTime(t.TempDir()); err != nil || !got.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("SOURCE_DATE_EPOCH: %s %v", got, err)
	}
	t.Setenv("SOURCE_DATE_EPOCH", "yesterday")
	if _, err := SourceTime(t.TempDir()); err == nil || !strings.Contains(err.Error(), "SOURCE_DATE_EPOCH") {
		t.Errorf("bad SOURCE_DATE_EPOCH: %v", err)
	}
	t.Setenv("SOURCE_DATE_EPOCH", "")
	// Outside any git work tree the epoch is the fallback.
	if got, err := SourceTime(t.TempDir()); err != nil || got.Unix() != 0 {
		t.Errorf("no git, no SOURCE_DATE_EPOCH: %s %v", got, err)
	}
}

// TestReferenceRegistry pushes to distribution's registry server: the image
// must round-trip and get the very digest it gets from the in-process
// registry, since the digest depends only on the inputs.
func TestReferenceRegistry(t *testing.T) {
	ref := refregistry.Start(t)
	mem := newRegistry(t)
	ctx := context.Background()
	var digests []v1.Hash
	for _, reg := range []string{ref, mem} {
		// Base pushed under the same name to both, so the base annotation matches.
		base := pushBase(t, reg, amd64)
		o := opts(reg, base)
		res, err := Build(ctx, hello, o)
		if err != nil {
			t.Fatal(err)
		}
		img, err := remote.Image(res.Ref)
		if err != nil {
			t.Fatal(err)
		}
		bin := extract(t, img, "app/hello")
		if out, err := exec.Command(bin, "-print").Output(); err != nil || !strings.Contains(string(out), "hello from pipewright") {
			t.Errorf("%s: entrypoint run: %v %q", reg, err, out)
		}
		checkSBOM(t, res.Ref.Context(), res.Digest, "hello")
		digests = append(digests, res.Digest)
	}
	// The bases are Docker-format images, so no base-name annotation
	// (which would name the host) goes into the manifest: the digests must
	// match across registries.
	if digests[0] != digests[1] {
		t.Errorf("reference registry digest %s, in-process registry digest %s", digests[0], digests[1])
	}
}

// TestOCIBase builds on an empty OCI image, as a scratch base: the layer
// becomes an OCI layer and the manifest names its base, as ko's do.
func TestOCIBase(t *testing.T) {
	reg := newRegistry(t)
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	ref, _ := name.ParseReference(reg + "/scratch:oci")
	if err := remote.Write(ref, base); err != nil {
		t.Fatal(err)
	}
	baseDigest, _ := base.Digest()
	res, err := Build(context.Background(), hello, opts(reg, ref.String()))
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(res.Ref)
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.MediaType != types.OCIManifestSchema1 || len(m.Layers) != 1 || m.Layers[0].MediaType != types.OCILayer {
		t.Errorf("manifest %s with layers %+v, want one OCI layer", m.MediaType, m.Layers)
	}
	if m.Annotations[AnnotBaseName] != reg+"/scratch:oci" || m.Annotations[AnnotBaseDigest] != baseDigest.String() {
		t.Errorf("annotations = %v", m.Annotations)
	}
	cf, _ := img.ConfigFile()
	if cf.OS != "linux" || cf.Architecture != "amd64" {
		t.Errorf("platform from the build not in the config: %s/%s", cf.OS, cf.Architecture)
	}
	extract(t, img, "app/hello")
}

// BenchmarkBuild is a warm rebuild and push of the hello service to the
// in-process registry (make bench-image compares with ko end to end).
func BenchmarkBuild(b *testing.B) {
	reg := refregistry.InProcess(b)
	baseRef, _ := name.ParseReference(reg + "/base:amd64")
	img, err := random.Image(512, 1, random.WithSource(rand.NewSource(1)))
	if err != nil {
		b.Fatal(err)
	}
	if err := remote.Write(baseRef, img); err != nil {
		b.Fatal(err)
	}
	o := opts(reg, baseRef.String())
	for b.Loop() {
		if _, err := Build(context.Background(), hello, o); err != nil {
			b.Fatal(err)
		}
	}
}

// A pull-request build computes the same digest as the pushed build but
// leaves the registry untouched.
func TestNoPushLeavesRegistryUntouched(t *testing.T) {
	reg := newRegistry(t)
	base := pushBase(t, reg, amd64)
	ctx := context.Background()
	o := opts(reg, base)
	o.NoPush = true
	dry, err := Build(ctx, hello, o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := remote.Head(dry.Ref); err == nil {
		t.Fatalf("--no-push build wrote %s to the registry", dry.Ref)
	}
	if len(dry.SBOMs) != 0 {
		t.Errorf("--no-push build attached SBOMs %v", dry.SBOMs)
	}
	pushed, err := Build(ctx, hello, opts(reg, base))
	if err != nil {
		t.Fatal(err)
	}
	if dry.Digest != pushed.Digest {
		t.Errorf("no-push digest %s differs from the pushed %s", dry.Digest, pushed.Digest)
	}
	if _, err := remote.Head(pushed.Ref); err != nil {
		t.Errorf("pushed build not in the registry: %v", err)
	}
}
