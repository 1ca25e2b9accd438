package lint

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/pipewright/pipewright/generator/check"
	"github.com/tektoncd/triggers/pkg/apis/triggers/contexts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8svalidation "k8s.io/apimachinery/pkg/util/validation"
	"knative.dev/pkg/apis"
)

var unknownField = regexp.MustCompile(`unknown field "([^"]+)"`)

// decodePos points a strict-decoding error at the field it names.
func decodePos(d *document, err error) pos {
	if m := unknownField.FindStringSubmatch(err.Error()); m != nil {
		name := m[1]
		if i := strings.LastIndex(name, "."); i >= 0 {
			name = name[i+1:]
		}
		if p, ok := d.findKey(name); ok {
			return p
		}
	}
	return pos{d.firstLine, 1}
}

// fieldPaths matches the tail of one knative FieldError line: "msg: a.b, c[0]".
var fieldPaths = regexp.MustCompile(`: ((?:[A-Za-z0-9_\-\[\]\.\*"'/]+)(?:, [A-Za-z0-9_\-\[\]\.\*"'/]+)*)$`)

// validate runs Tekton's SetDefaults and Validate through check.Validate on
// a copy (SetDefaults fills in what other rules look for, like timeouts) and
// reports each error at the first field it names.
func validate(r reporter, validateAs any, env *env) {
	o := r.u.obj
	if validateAs != nil {
		o.Obj = validateAs // the object as written, before conversion
	}
	if c, ok := o.Obj.(runtime.Object); ok {
		o.Obj = c.DeepCopyObject()
	}
	err := env.validate(o)
	if err == nil {
		return
	}
	msg := strings.TrimPrefix(err.Error(), o.String()+": ")
	// One error per line; lines that are not "message: paths" are details of
	// the error before them.
	type entry struct{ head, text string }
	var entries []entry
	for _, l := range strings.Split(msg, "\n") {
		if fieldPaths.MatchString(l) || len(entries) == 0 {
			entries = append(entries, entry{l, l})
		} else {
			entries[len(entries)-1].text += " " + strings.TrimSpace(l)
		}
	}
	for _, e := range entries {
		p := pos{r.u.doc.firstLine, 1}
		if m := fieldPaths.FindStringSubmatch(e.head); m != nil {
			p = r.u.doc.key(r.u.doc.fieldPath(strings.Split(m[1], ", ")[0])...)
		}
		r.add("tekton-validate", p, "%s", e.text)
	}
}

// validate is validateIn with its results reused: Tekton's Validate
// compiles regular expressions on every call and dominates the run time,
// while repositories hold many copies of one Task (catalog versions,
// vendored Tasks, one Task per service). Objects equal but for their name
// share one result, as long as neither name is itself invalid and the
// result does not mention it.
func (e *env) validate(o check.Object) error {
	m, ok := o.Obj.(metav1.Object)
	if !ok || validateName(m) != nil {
		return validateIn(e.ctx, o)
	}
	name, gen := m.GetName(), m.GetGenerateName()
	m.SetName("")
	m.SetGenerateName("")
	b, err := json.Marshal(o.Obj)
	m.SetName(name)
	m.SetGenerateName(gen)
	if err != nil {
		return validateIn(e.ctx, o)
	}
	key := sha256.Sum256(append([]byte(o.Kind+"\x00"), b...))
	if v, ok := e.validated.Load(key); ok {
		r := v.(validation)
		if r.msg == "" {
			return nil
		}
		// The message starts with the object's own description.
		return fmt.Errorf("%s: %s", o, r.msg)
	}
	verr := validateIn(e.ctx, o)
	msg := ""
	if verr != nil {
		msg = strings.TrimPrefix(verr.Error(), o.String()+": ")
	}
	if name+gen == "" || !strings.Contains(msg, name+gen) {
		e.validated.Store(key, validation{msg})
	}
	return verr
}

type validation struct{ msg string }

// validateName is Tekton's own check of metadata.name, the one part of
// validation that depends on the name.
func validateName(m metav1.Object) error {
	name := m.GetName()
	if name == "" {
		name = m.GetGenerateName() + "abcde"
	}
	if errs := k8svalidation.IsDNS1123Subdomain(name); len(errs) > 0 || len(name) > 63 {
		return fmt.Errorf("invalid name %q", name)
	}
	return nil
}

// validateIn is check.Validate under ctx, which carries the cluster's
// feature flags: the webhook defaults and validates with its ConfigMaps.
func validateIn(ctx context.Context, o check.Object) error {
	v, ok := o.Obj.(check.Validatable)
	if !ok {
		return nil
	}
	// The API server turns generateName into a name before admission
	// webhooks run.
	if m, ok := o.Obj.(metav1.Object); ok && m.GetName() == "" && m.GetGenerateName() != "" {
		m.SetName(m.GetGenerateName() + "abcde")
	}
	// Triggers applies its defaults (binding and interceptor kinds) only
	// under this flag, which its admission webhook sets.
	ctx = contexts.WithUpgradeViaDefaulting(apis.WithinCreate(ctx))
	v.SetDefaults(ctx)
	if fe := v.Validate(ctx); fe != nil {
		return fmt.Errorf("%s: %w", o, fe)
	}
	return nil
}

// syntaxPos is the file line a shifted YAML syntax error names.
func syntaxPos(d *document, err error) pos {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return pos{n, 1}
	}
	return pos{d.firstLine, 1}
}
