package tekton

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	"github.com/tektoncd/triggers/pkg/apis/triggers/contexts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"knative.dev/pkg/apis"
)

// validated maps the sha256 of a file's bytes to its decoded, valid objects.
// Callers must not modify objects All returns.
var validated = &cache{max: 1 << 14}

// Validatable is what Tekton and Triggers types implement.
type Validatable interface {
	SetDefaults(context.Context)
	Validate(context.Context) *apis.FieldError
}

// ValidationError is what an object's own Validate found: Tekton's
// FieldError, flattened into one entry per message, each with the fields
// it names.
type ValidationError struct {
	Object Object
	// Err is Validate's error as it came; Error prints it after the object.
	Err *apis.FieldError
}

func (e *ValidationError) Error() string { return fmt.Sprintf("%s: %v", e.Object, e.Err) }

func (e *ValidationError) Unwrap() error { return e.Err }

// Entries lists the problems one by one (knative merges equal messages and
// sorts them), with the fields each names in Kubernetes' notation
// (spec.steps[0].image, spec.params[name]).
func (e *ValidationError) Entries() []ValidationEntry {
	var out []ValidationEntry
	for _, fe := range e.Err.WrappedErrors() {
		sev := Error
		if fe.Level == apis.WarningLevel {
			sev = Warning
		}
		out = append(out, ValidationEntry{Message: fe.Message, Details: fe.Details, Fields: fe.Paths, Severity: sev})
	}
	return out
}

// ValidationEntry is one problem Validate found.
type ValidationEntry struct {
	Message, Details string
	Fields           []string
	Severity         Severity
}

// Validate defaults and validates one object with its own Validate, as the
// admission webhook does on create. Its error is a *ValidationError.
func Validate(o Object) error { return ValidateContext(context.Background(), o) }

// ValidateContext is Validate under ctx, which may carry the cluster's
// configuration (feature flags) as Tekton's webhook has it.
func ValidateContext(ctx context.Context, o Object) error {
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
	ctx = contexts.WithUpgradeViaDefaulting(apis.WithinCreate(ctx))
	v.SetDefaults(ctx)
	if fe := v.Validate(ctx); fe != nil {
		return &ValidationError{Object: o, Err: fe}
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
	// Files decode and validate on their own, so in parallel; the results
	// are joined in file order.
	type result struct {
		objs []Object
		errs []error
	}
	results := make([]result, len(names))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(names)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(names); i = int(next.Add(1) - 1) {
				results[i].objs, results[i].errs = decodeValidated(names[i], files[names[i]])
			}
		})
	}
	wg.Wait()
	var objs []Object
	var errs []error
	for _, r := range results {
		objs = append(objs, r.objs...)
		errs = append(errs, r.errs...)
	}
	// Generated YAML is held to more than Tekton asks: a param Tekton
	// would ignore (a Warning) fails generation too.
	for _, e := range Wiring(objs, known...) {
		errs = append(errs, e)
	}
	return objs, errors.Join(errs...)
}

// decodeValidated decodes and validates one file, once for given bytes.
func decodeValidated(n string, data []byte) ([]Object, []error) {
	if !strings.HasSuffix(n, ".yaml") && !strings.HasSuffix(n, ".yml") {
		return nil, nil
	}
	// A file already decoded and validated with the same bytes needs
	// neither again: both are pure functions of the bytes. A monorepo's
	// services share most of their objects.
	key := sha256.Sum256(data)
	if cached, ok := validated.Load(key); ok {
		objs := slices.Clone(cached.([]Object))
		for i := range objs {
			objs[i].File = n
		}
		return objs, nil
	}
	decoded, err := Decode(n, data)
	if err != nil {
		return nil, []error{err}
	}
	var errs []error
	for _, o := range decoded {
		if err := Validate(o); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		validated.Store(key, decoded)
	}
	return decoded, errs
}
