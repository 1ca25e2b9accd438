// Package bundle packs Tekton Tasks and Pipelines into Tekton bundles (OCI
// images with one object per layer) in the form Tekton's bundles resolver
// reads, and reads bundles back.
package bundle

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"sort"
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
	"github.com/pipewright/pipewright/pkg/image"
	"github.com/pipewright/pipewright/pkg/tekton"
	pipelinev1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
)

// The bundle contract, as Tekton v1.15.1 reads it in
// pkg/resolution/resolver/bundle and pkg/remote/oci; the tests compare
// these with Tekton's own constants.
const (
	AnnotationAPIVersion = "dev.tekton.image.apiVersion"
	AnnotationKind       = "dev.tekton.image.kind" // lowercase, singular: "task"
	AnnotationName       = "dev.tekton.image.name"
	// MaxObjects is Tekton's MaximumBundleObjects: the resolver refuses a
	// bundle with more layers than this.
	MaxObjects = 20
	// maxFileBytes bounds each YAML file Load reads.
	maxFileBytes = 16 << 20
)

// Object is one Tekton object destined for (or read from) a bundle layer.
type Object struct {
	APIVersion string
	Kind       string // as in the YAML: Task, Pipeline
	Name       string
	Data       []byte // the YAML document as written
	File       string // where it was read, for messages; empty when read from a bundle
}

func (o Object) String() string {
	if o.File != "" {
		return fmt.Sprintf("%s %s/%s", o.File, o.Kind, o.Name)
	}
	return o.Kind + "/" + o.Name
}

// Load reads every .yaml/.yml file under the folders, checks the objects
// with Tekton's own decoding, SetDefaults and Validate (pkg/tekton),
// and returns the Tasks and Pipelines in path order. Any other kind is an
// error: a bundle may hold only Tasks and Pipelines.
func Load(dirs ...string) ([]Object, error) {
	files := map[string][]byte{}
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !(strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
				return nil
			}
			b, err := boundedio.ReadFile(p, maxFileBytes)
			files[p] = b
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("bundle: %w", err)
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("bundle: no .yaml files under %s", strings.Join(dirs, ", "))
	}
	checked, err := tekton.All(files)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	var objs []Object
	var errs []error
	for _, c := range checked {
		var apiVersion string
		switch c.Obj.(type) {
		case *pipelinev1.Task, *pipelinev1.Pipeline:
			apiVersion = pipelinev1.SchemeGroupVersion.String()
		default:
			errs = append(errs, fmt.Errorf("bundle: %s: a bundle holds only tekton.dev/v1 Task and Pipeline objects", c))
			continue
		}
		objs = append(objs, Object{
			APIVersion: apiVersion,
			Kind:       c.Kind,
			Name:       c.Name,
			Data:       tekton.Split(files[c.File])[c.Doc].Text,
			File:       c.File,
		})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	sort.SliceStable(objs, func(i, j int) bool { return objs[i].File < objs[j].File })
	return objs, nil
}

// Image builds the bundle: one gzipped-tar layer per object holding the one
// YAML file, annotated with apiVersion, lowercase kind and name. Fixed
// timestamps make the digest depend only on the objects and t.
func Image(objs []Object, t time.Time) (v1.Image, error) {
	if len(objs) == 0 {
		return nil, errors.New("bundle: no Tasks or Pipelines to pack")
	}
	if len(objs) > MaxObjects {
		return nil, fmt.Errorf("bundle: %d objects, but Tekton's bundles resolver reads at most %d per bundle; split them across bundles (one --from folder each)", len(objs), MaxObjects)
	}
	seen := map[string]Object{}
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	for _, o := range objs {
		kind := strings.ToLower(o.Kind)
		key := kind + "/" + o.Name
		if prev, dup := seen[key]; dup {
			return nil, fmt.Errorf("bundle: %s and %s have the same kind and name; the resolver would only ever find the first", prev, o)
		}
		seen[key] = o
		l, err := image.TarLayer([]image.File{{Name: kind + "-" + o.Name + ".yaml", Mode: 0o644, Data: o.Data}}, t, types.OCILayer)
		if err != nil {
			return nil, fmt.Errorf("bundle: %s: %w", o, err)
		}
		img, err = mutate.Append(img, mutate.Addendum{
			Layer:     l,
			MediaType: types.OCILayer,
			Annotations: map[string]string{
				AnnotationAPIVersion: o.APIVersion,
				AnnotationKind:       kind,
				AnnotationName:       o.Name,
			},
			History: v1.History{Created: v1.Time{Time: t}, CreatedBy: "pipewright bundle push", Comment: key},
		})
		if err != nil {
			return nil, fmt.Errorf("bundle: %s: %w", o, err)
		}
	}
	return mutate.CreatedAt(img, v1.Time{Time: t})
}

// Options configures registry access.
type Options struct {
	Keychain authn.Keychain // empty means authn.DefaultKeychain
	Time     time.Time      // layer and config timestamps; zero means the Unix epoch
	// RegistryIdle fails a registry request that makes no progress this
	// long; zero means image.DefaultRegistryIdle.
	RegistryIdle time.Duration
}

func (o Options) remote(ctx context.Context) []remote.Option {
	kc := o.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	return []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(kc), remote.WithUserAgent("pipewright"),
		remote.WithTransport(image.RegistryTransport(o.RegistryIdle))}
}

// Push builds the bundle and pushes it to ref (a tag, or a repository for
// :latest), returning the repository@digest to reference it by.
func Push(ctx context.Context, ref string, objs []Object, o Options) (name.Digest, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return name.Digest{}, fmt.Errorf("bundle: reference %q: %w", ref, err)
	}
	t := o.Time
	if t.IsZero() {
		t = time.Unix(0, 0).UTC()
	}
	img, err := Image(objs, t)
	if err != nil {
		return name.Digest{}, err
	}
	d, err := img.Digest()
	if err != nil {
		return name.Digest{}, err
	}
	if err := remote.Write(r, img, o.remote(ctx)...); err != nil {
		return name.Digest{}, fmt.Errorf("bundle: push %s: %w", r, err)
	}
	return r.Context().Digest(d.String()), nil
}

// List reads a bundle's table of contents and checks it against the
// contract, as the resolver does before resolving anything. With
// withData, each object's YAML is read from its layer as well.
func List(ctx context.Context, ref string, withData bool, o Options) ([]Object, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, fmt.Errorf("bundle: reference %q: %w", ref, err)
	}
	img, err := remote.Image(r, o.remote(ctx)...)
	if err != nil {
		return nil, fmt.Errorf("bundle: %s: %w", r, err)
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, fmt.Errorf("bundle: %s: %w", r, err)
	}
	if len(m.Layers) > MaxObjects {
		return nil, fmt.Errorf("bundle: %s has %d layers, more than Tekton's limit of %d", r, len(m.Layers), MaxObjects)
	}
	objs := make([]Object, 0, len(m.Layers))
	for i, l := range m.Layers {
		a := l.Annotations
		for _, k := range []string{AnnotationAPIVersion, AnnotationKind, AnnotationName} {
			if a[k] == "" {
				return nil, fmt.Errorf("bundle: %s: layer %d has no %s annotation; not a Tekton bundle", r, i, k)
			}
		}
		if k := a[AnnotationKind]; strings.TrimSuffix(strings.ToLower(k), "s") != k {
			return nil, fmt.Errorf("bundle: %s: layer %d: kind %q must be lowercase and singular", r, i, k)
		}
		obj := Object{APIVersion: a[AnnotationAPIVersion], Kind: a[AnnotationKind], Name: a[AnnotationName]}
		if withData {
			layer, err := img.LayerByDigest(l.Digest)
			if err != nil {
				return nil, fmt.Errorf("bundle: %s: layer %d: %w", r, i, err)
			}
			if obj.Data, err = readObject(layer); err != nil {
				return nil, fmt.Errorf("bundle: %s: layer %d (%s): %w", r, i, obj, err)
			}
		}
		objs = append(objs, obj)
	}
	return objs, nil
}

// readObject returns the first file of a tar layer.
func readObject(l v1.Layer) ([]byte, error) {
	rc, err := l.Uncompressed()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	if _, err := tr.Next(); err != nil {
		return nil, fmt.Errorf("layer is not a tar with one file: %w", err)
	}
	return io.ReadAll(tr)
}
