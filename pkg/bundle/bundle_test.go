package bundle

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/pipewright/pipewright/test/refregistry"
	pipelinev1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	"github.com/tektoncd/pipeline/pkg/remote/oci"
	tektonbundle "github.com/tektoncd/pipeline/pkg/resolution/resolver/bundle"
	"sigs.k8s.io/yaml"
)

// The catalog this repository ships.
const catalogDir = "../../tasks"

func newRegistry(t *testing.T) string {
	t.Helper()
	return refregistry.InProcess(t)
}

func TestContractMatchesTekton(t *testing.T) {
	for _, c := range []struct{ ours, resolver, oci string }{
		{AnnotationAPIVersion, tektonbundle.BundleAnnotationAPIVersion, oci.APIVersionAnnotation},
		{AnnotationKind, tektonbundle.BundleAnnotationKind, oci.KindAnnotation},
		{AnnotationName, tektonbundle.BundleAnnotationName, oci.TitleAnnotation},
	} {
		if c.ours != c.resolver || c.ours != c.oci {
			t.Errorf("annotation %q; Tekton's resolver uses %q, pkg/remote/oci %q", c.ours, c.resolver, c.oci)
		}
	}
	for what, limit := range map[string]int{"resolver/bundle": tektonbundle.MaximumBundleObjects, "remote/oci": oci.MaximumBundleObjects} {
		if limit != MaxObjects {
			t.Errorf("MaxObjects %d; Tekton's %s says %d", MaxObjects, what, limit)
		}
	}
}

// roundTrip pushes the catalog to reg and resolves every Task back
// through Tekton's bundles resolver code and its OCI resolver.
func roundTrip(t *testing.T, reg string) {
	t.Helper()
	ctx := context.Background()
	objs, err := Load(catalogDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) < 10 {
		t.Fatalf("loaded %d objects from %s, want the whole catalog", len(objs), catalogDir)
	}
	ref, err := Push(ctx, reg+"/pipewright/catalog:v1", objs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ref.String(), reg+"/pipewright/catalog@sha256:") {
		t.Errorf("pushed ref %s", ref)
	}

	for _, o := range objs {
		// The bundles resolver: what a taskRef with resolver: bundles runs.
		res, err := tektonbundle.GetEntry(ctx, authn.DefaultKeychain, tektonbundle.RequestOptions{
			Bundle: ref.String(), EntryName: o.Name, Kind: "task",
		})
		if err != nil {
			t.Fatalf("Tekton's bundle resolver cannot read %s: %v", o, err)
		}
		var task pipelinev1.Task
		if err := yaml.UnmarshalStrict(res.Data(), &task); err != nil {
			t.Fatalf("%s: resolved data is not a v1 Task: %v", o, err)
		}
		if task.Name != o.Name || task.Kind != "Task" || string(res.Data()) != string(o.Data) {
			t.Errorf("%s: resolved %s/%s, data equal: %v", o, task.Kind, task.Name, string(res.Data()) == string(o.Data))
		}
		a := res.Annotations()
		if a[tektonbundle.ResolverAnnotationKind] != "task" || a[tektonbundle.ResolverAnnotationName] != o.Name || a[tektonbundle.ResolverAnnotationAPIVersion] != "tekton.dev/v1" {
			t.Errorf("%s: resolver annotations %v", o, a)
		}
		if src := res.RefSource(); src.URI != reg+"/pipewright/catalog" || "sha256:"+src.Digest["sha256"] != ref.DigestStr() {
			t.Errorf("%s: ref source %+v, want %s", o, src, ref)
		}
	}

	// The OCI resolver (pkg/remote/oci): table of contents and typed objects.
	r := oci.NewResolver(ref.String(), authn.DefaultKeychain)
	list, err := r.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != len(objs) {
		t.Fatalf("oci resolver lists %d objects, pushed %d", len(list), len(objs))
	}
	for i, l := range list {
		if l.Kind != "task" || l.Name != objs[i].Name || l.APIVersion != "tekton.dev/v1" {
			t.Errorf("oci resolver entry %d: %+v, want task %s", i, l, objs[i].Name)
		}
		obj, _, err := r.Get(ctx, "task", l.Name)
		if err != nil {
			t.Fatal(err)
		}
		if task, ok := obj.(*pipelinev1.Task); !ok || task.Name != l.Name {
			t.Errorf("oci resolver Get(task, %s) = %T", l.Name, obj)
		}
	}

	// And our own reader agrees.
	back, err := List(ctx, ref.String(), true, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range back {
		if b.Kind != "task" || b.Name != objs[i].Name || string(b.Data) != string(objs[i].Data) {
			t.Errorf("List entry %d: %s/%s", i, b.Kind, b.Name)
		}
	}
}

func TestRoundTripInProcessRegistry(t *testing.T) { roundTrip(t, newRegistry(t)) }

// TestRoundTripReferenceRegistry is the integration test: distribution's
// registry server on loopback, read by Tekton's resolver code.
func TestRoundTripReferenceRegistry(t *testing.T) { roundTrip(t, refregistry.Start(t)) }

const taskYAML = `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: %s
spec:
  steps:
    - name: echo
      image: docker.io/library/busybox@sha256:` + "1111111111111111111111111111111111111111111111111111111111111111" + `
      script: echo hi
`

const pipelineYAML = `apiVersion: tekton.dev/v1
kind: Pipeline
metadata:
  name: %s
spec:
  tasks:
    - name: first
      taskRef:
        name: t0
`

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, body := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestPipelinesAndMultiDocumentFiles(t *testing.T) {
	reg := newRegistry(t)
	dir := writeFiles(t, map[string]string{
		"a/tasks.yaml":    fmt.Sprintf(taskYAML, "t0") + "---\n" + fmt.Sprintf(taskYAML, "t1"),
		"b/pipeline.yaml": fmt.Sprintf(pipelineYAML, "p"),
		"b/README.md":     "not yaml",
	})
	objs, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := Push(context.Background(), reg+"/mixed:1", objs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct{ kind, name string }{{"task", "t0"}, {"task", "t1"}, {"pipeline", "p"}} {
		res, err := tektonbundle.GetEntry(context.Background(), authn.DefaultKeychain, tektonbundle.RequestOptions{Bundle: ref.String(), EntryName: want.name, Kind: want.kind})
		if err != nil {
			t.Errorf("%s/%s: %v", want.kind, want.name, err)
			continue
		}
		if !strings.Contains(string(res.Data()), "name: "+want.name+"\n") {
			t.Errorf("%s/%s: data %q", want.kind, want.name, res.Data())
		}
	}
}

func TestRefusals(t *testing.T) {
	many := map[string]string{}
	for i := 0; i <= MaxObjects; i++ {
		many[fmt.Sprintf("t%02d.yaml", i)] = fmt.Sprintf(taskYAML, fmt.Sprintf("t%02d", i))
	}
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"over the limit", many, "bundle: 21 objects, but Tekton's bundles resolver reads at most 20 per bundle"},
		{"not a task", map[string]string{"run.yaml": "apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata:\n  name: r\nspec:\n  taskRef:\n    name: t\n"}, "run.yaml TaskRun/r: a bundle holds only tekton.dev/v1 Task and Pipeline objects"},
		{"old apiVersion", map[string]string{"old.yaml": "apiVersion: tekton.dev/v1beta1\nkind: Task\nmetadata:\n  name: old\nspec: {}\n"}, "old.yaml Task/old: a bundle holds only tekton.dev/v1 Task and Pipeline objects"},
		{"invalid task", map[string]string{"bad.yaml": "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: bad\nspec:\n  steps: []\n"}, "bad.yaml Task/bad: missing field(s): spec.steps"},
		{"unknown field", map[string]string{"typo.yaml": "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: typo\nspec:\n  stepz: []\n"}, `typo.yaml: Task typo: error unmarshaling JSON: while decoding JSON: json: unknown field "stepz"`},
		{"duplicate", map[string]string{"x.yaml": fmt.Sprintf(taskYAML, "same"), "y.yaml": fmt.Sprintf(taskYAML, "same")}, "x.yaml Task/same and " + "%DIR%/y.yaml Task/same have the same kind and name"},
		{"empty folder", map[string]string{"README.md": "hi"}, "bundle: no .yaml files under"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, tc.files)
			objs, err := Load(dir)
			if err == nil {
				_, err = Image(objs, time.Unix(0, 0))
			}
			want := strings.ReplaceAll(tc.want, "%DIR%", dir)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("err = %v\nwant it to contain %q", err, want)
			}
		})
	}
}

// TestTektonRefusesWhatWeRefuse pushes a 21-layer bundle by hand (Image
// would refuse it) and shows Tekton's resolver rejects it too: the limit
// is Tekton's, not ours.
func TestTektonRefusesWhatWeRefuse(t *testing.T) {
	reg := newRegistry(t)
	var objs []Object
	for i := 0; i <= MaxObjects; i++ {
		n := fmt.Sprintf("t%02d", i)
		objs = append(objs, Object{APIVersion: "tekton.dev/v1", Kind: "Task", Name: n, Data: []byte(fmt.Sprintf(taskYAML, n))})
	}
	first, err := Image(objs[:MaxObjects], time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	one, err := Image(objs[MaxObjects:], time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	extra, _ := one.Layers()
	m1, _ := one.Manifest()
	over, err := appendAnnotated(first, extra[0], m1.Layers[0].Annotations)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := name.ParseReference(reg + "/over:1")
	if err := remote.Write(ref, over); err != nil {
		t.Fatal(err)
	}
	_, err = tektonbundle.GetEntry(context.Background(), authn.DefaultKeychain, tektonbundle.RequestOptions{Bundle: ref.String(), EntryName: "t00", Kind: "task"})
	if err == nil || !strings.Contains(err.Error(), "contained more than the maximum 20 allow objects") {
		t.Errorf("Tekton's resolver on 21 objects: %v", err)
	}
	if _, err := List(context.Background(), ref.String(), false, Options{}); err == nil || !strings.Contains(err.Error(), "21 layers, more than Tekton's limit of 20") {
		t.Errorf("List on 21 objects: %v", err)
	}
}

func TestReproducible(t *testing.T) {
	objs, err := Load(catalogDir)
	if err != nil {
		t.Fatal(err)
	}
	digest := func(t0 time.Time) string {
		img, err := Image(objs, t0)
		if err != nil {
			t.Fatal(err)
		}
		d, _ := img.Digest()
		return d.String()
	}
	a, b := digest(time.Unix(1e9, 0)), digest(time.Unix(1e9, 0))
	if a != b {
		t.Errorf("same objects and time, digests %s and %s", a, b)
	}
	if c := digest(time.Unix(2e9, 0)); c == a {
		t.Error("a different time gave the same digest")
	}
}

func appendAnnotated(img v1.Image, l v1.Layer, annotations map[string]string) (v1.Image, error) {
	return mutate.Append(img, mutate.Addendum{Layer: l, MediaType: types.OCILayer, Annotations: annotations})
}
