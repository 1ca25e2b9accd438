// Package check validates generated (or any) Tekton YAML with Tekton's own
// code: strict decoding into the real Go types, SetDefaults and Validate, and
// a wiring check across objects that Tekton's Validate does not do (a
// Pipeline's use of the Tasks it references). generate, lint and the tests
// all use it. ParallelWriters finds pipeline tasks that may write one folder
// at the same time, for whoever knows which workspaces its Tasks write.
package check

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	"github.com/tektoncd/triggers/pkg/apis/triggers/contexts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"knative.dev/pkg/apis"
	"sigs.k8s.io/yaml"
)

// Object is one decoded YAML document.
type Object struct {
	File string // where it came from, for messages
	Doc  int    // 0-based document index within File
	Kind string
	Name string
	// Obj is the typed object: *v1.Task, *v1.Pipeline, *v1.PipelineRun,
	// *v1.TaskRun, a Triggers type, or nil for kinds check does not know.
	Obj any
}

func (o Object) String() string {
	if o.Doc > 0 {
		return fmt.Sprintf("%s (document %d) %s/%s", o.File, o.Doc+1, o.Kind, o.Name)
	}
	return fmt.Sprintf("%s %s/%s", o.File, o.Kind, o.Name)
}

// Decoder decodes one known apiVersion+kind strictly.
type Decoder func(data []byte) (any, string, error)

var decoders = map[string]Decoder{}

// Register adds a strict decoder for apiVersion/kind. Packages that emit
// other kinds (triggers) register theirs.
func Register(apiVersion, kind string, d Decoder) { decoders[apiVersion+"/"+kind] = d }

func strict[T any](data []byte) (*T, error) {
	var t T
	if err := yaml.UnmarshalStrict(data, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

func init() {
	Register("tekton.dev/v1", "Task", func(b []byte) (any, string, error) {
		t, err := strict[v1.Task](b)
		if err != nil {
			return nil, "", err
		}
		return t, t.Name, nil
	})
	Register("tekton.dev/v1", "Pipeline", func(b []byte) (any, string, error) {
		t, err := strict[v1.Pipeline](b)
		if err != nil {
			return nil, "", err
		}
		return t, t.Name, nil
	})
	Register("tekton.dev/v1", "PipelineRun", func(b []byte) (any, string, error) {
		t, err := strict[v1.PipelineRun](b)
		if err != nil {
			return nil, "", err
		}
		return t, t.Name + t.GenerateName, nil
	})
	Register("tekton.dev/v1", "TaskRun", func(b []byte) (any, string, error) {
		t, err := strict[v1.TaskRun](b)
		if err != nil {
			return nil, "", err
		}
		return t, t.Name + t.GenerateName, nil
	})
}

var docSeparator = regexp.MustCompile(`(?m)^---\s*$`)

// SplitDocuments splits a multi-document YAML stream.
func SplitDocuments(data []byte) [][]byte {
	var docs [][]byte
	for _, d := range docSeparator.Split(string(data), -1) {
		if strings.TrimSpace(stripComments(d)) != "" {
			docs = append(docs, []byte(d))
		}
	}
	return docs
}

func stripComments(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// Decode strictly decodes every document of a file. Unknown kinds decode to
// an Object with a nil Obj; an unknown field or a wrong type in a known kind
// is an error naming the file.
func Decode(file string, data []byte) ([]Object, error) {
	var out []Object
	for i, doc := range SplitDocuments(data) {
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal(doc, &head); err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", file, i+1, err)
		}
		o := Object{File: file, Doc: i, Kind: head.Kind, Name: head.Metadata.Name}
		if d, ok := decoders[head.APIVersion+"/"+head.Kind]; ok {
			obj, name, err := d(doc)
			if err != nil {
				return nil, fmt.Errorf("%s: %s %s: %w", file, head.Kind, head.Metadata.Name, err)
			}
			o.Obj, o.Name = obj, name
		}
		out = append(out, o)
	}
	return out, nil
}

// validated maps the sha256 of a file's bytes to its decoded, valid objects.
// Callers must not modify objects All returns.
var validated sync.Map

// Validatable is what Tekton and Triggers types implement.
type Validatable interface {
	SetDefaults(context.Context)
	Validate(context.Context) *apis.FieldError
}

// Validate defaults and validates one object with its own Validate, as the
// admission webhook does on create.
func Validate(o Object) error {
	v, ok := o.Obj.(Validatable)
	if !ok {
		return nil
	}
	// The API server turns generateName into a name before admission
	// webhooks run; do the same so templates validate as they will there.
	if m, ok := o.Obj.(metav1.Object); ok && m.GetName() == "" && m.GetGenerateName() != "" {
		m.SetName(m.GetGenerateName() + "abcde")
		defer m.SetName("")
	}
	// Triggers applies its defaults (binding and interceptor kinds) only
	// under this flag, which its admission webhook sets.
	ctx := contexts.WithUpgradeViaDefaulting(apis.WithinCreate(context.Background()))
	v.SetDefaults(ctx)
	if fe := v.Validate(ctx); fe != nil {
		return fmt.Errorf("%s: %w", o, fe)
	}
	return nil
}

// All decodes, validates and wiring-checks a set of files together: every
// Pipeline is checked against the Tasks in the set, and the known Tasks, that
// it references.
func All(files map[string][]byte, known ...*v1.Task) ([]Object, error) {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var objs []Object
	var errs []error
	for _, n := range names {
		if !strings.HasSuffix(n, ".yaml") && !strings.HasSuffix(n, ".yml") {
			continue
		}
		// A file already decoded and validated with the same bytes needs
		// neither again: both are pure functions of the bytes. Generating a
		// monorepo validates the same Task copies once per service otherwise.
		key := sha256.Sum256(files[n])
		if cached, ok := validated.Load(key); ok {
			for _, o := range cached.([]Object) {
				o.File = n
				objs = append(objs, o)
			}
			continue
		}
		decoded, err := Decode(n, files[n])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ok := true
		for _, o := range decoded {
			if err := Validate(o); err != nil {
				errs = append(errs, err)
				ok = false
			}
		}
		if ok {
			validated.Store(key, decoded)
		}
		objs = append(objs, decoded...)
	}
	errs = append(errs, Wiring(objs, known...)...)
	return objs, errors.Join(errs...)
}
