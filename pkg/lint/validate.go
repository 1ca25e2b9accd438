package lint

import (
	"context"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/pipewright/pipewright/generator/check"
	"github.com/tektoncd/triggers/pkg/apis/triggers/contexts"
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
func validate(r reporter) {
	o := r.u.obj
	if c, ok := o.Obj.(runtime.Object); ok {
		o.Obj = c.DeepCopyObject()
	}
	// The Triggers webhook defaults with the upgrade-via-defaulting context
	// (binding and interceptor kinds); check.Validate's plain context leaves
	// them empty and Validate then rejects every binding. Default first as
	// the webhook does.
	if v, ok := o.Obj.(check.Validatable); ok && isTriggers(o.Obj) {
		v.SetDefaults(contexts.WithUpgradeViaDefaulting(apis.WithinCreate(context.Background())))
	}
	err := check.Validate(o)
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

func isTriggers(obj any) bool {
	return strings.HasPrefix(reflect.TypeOf(obj).Elem().PkgPath(), "github.com/tektoncd/triggers/")
}

// syntaxPos is the file line a shifted YAML syntax error names.
func syntaxPos(d *document, err error) pos {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return pos{n, 1}
	}
	return pos{d.firstLine, 1}
}
