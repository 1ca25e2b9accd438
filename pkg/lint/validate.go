package lint

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"strings"

	"github.com/pipewright/pipewright/pkg/tekton"
	"github.com/tektoncd/triggers/pkg/apis/triggers/contexts"
	"k8s.io/apimachinery/pkg/runtime"
	"knative.dev/pkg/apis"
)

// decodePos points a strict-decoding error at the field it names.
func decodePos(d *document, err error) pos {
	var de *tekton.DecodeError
	if errors.As(err, &de) && de.Field != "" {
		if p, ok := d.findKey(tekton.FieldName(de.Field)); ok {
			return p
		}
	}
	return pos{d.firstLine, 1}
}

// validate runs Tekton's SetDefaults and Validate through tekton.Validate on
// a copy (SetDefaults fills in what other rules look for, like timeouts) and
// reports each error at the first field it names.
func validate(r reporter) {
	o := r.u.obj
	if c, ok := o.Obj.(runtime.Object); ok {
		o.Obj = c.DeepCopyObject()
	}
	// The Triggers webhook defaults with the upgrade-via-defaulting context
	// (binding and interceptor kinds); tekton.Validate's plain context leaves
	// them empty and Validate then rejects every binding. Default first as
	// the webhook does.
	if v, ok := o.Obj.(tekton.Validatable); ok && isTriggers(o.Obj) {
		v.SetDefaults(contexts.WithUpgradeViaDefaulting(apis.WithinCreate(context.Background())))
	}
	err := tekton.Validate(o)
	if err == nil {
		return
	}
	var ve *tekton.ValidationError
	if !errors.As(err, &ve) {
		r.add("tekton-validate", pos{r.u.doc.firstLine, 1}, "%v", err)
		return
	}
	for _, e := range ve.Entries() {
		text := e.Message + ": " + strings.Join(e.Fields, ", ")
		for _, l := range strings.Split(e.Details, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				text += " " + l
			}
		}
		p := pos{r.u.doc.firstLine, 1}
		if len(e.Fields) > 0 {
			p = r.u.doc.key(r.u.doc.fieldPath(e.Fields[0])...)
		}
		r.add("tekton-validate", p, "%s", text)
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
