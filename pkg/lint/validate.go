package lint

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/pipewright/pipewright/generator/check"
	"github.com/tektoncd/triggers/pkg/apis/triggers/contexts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
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
	err := validateIn(env.ctx, o)
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
