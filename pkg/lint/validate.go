package lint

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/pipewright/pipewright/pkg/tekton"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8svalidation "k8s.io/apimachinery/pkg/util/validation"
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

// validate is tekton.ValidateContext under the cluster's feature flags,
// with its results reused: Tekton's Validate compiles regular expressions
// on every call and dominates the run time, while repositories hold many
// copies of one Task (catalog versions, vendored Tasks, one Task per
// service). Objects equal but for their name share one result, as long as
// neither name is itself invalid and the result does not mention it.
// The error is a *tekton.ValidationError for o.
func (e *env) validate(o tekton.Object) error {
	m, ok := o.Obj.(metav1.Object)
	if !ok || validateName(m) != nil {
		return tekton.ValidateContext(e.ctx, o)
	}
	name, gen := m.GetName(), m.GetGenerateName()
	m.SetName("")
	m.SetGenerateName("")
	b, err := json.Marshal(o.Obj)
	m.SetName(name)
	m.SetGenerateName(gen)
	if err != nil {
		return tekton.ValidateContext(e.ctx, o)
	}
	key := sha256.Sum256(append([]byte(o.Kind+"\x00"), b...))
	if v, ok := e.validated.Load(key); ok {
		if fe := v.(validation).err; fe != nil {
			return &tekton.ValidationError{Object: o, Err: fe}
		}
		return nil
	}
	verr := tekton.ValidateContext(e.ctx, o)
	var ve *tekton.ValidationError
	switch {
	case verr == nil:
		e.validated.Store(key, validation{})
	case errors.As(verr, &ve) && (name+gen == "" || !strings.Contains(ve.Err.Error(), name+gen)):
		e.validated.Store(key, validation{ve.Err})
	}
	return verr
}

// validation is one cached result: Validate's error, nil when valid.
type validation struct{ err *apis.FieldError }

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

// syntaxPos is the file line a shifted YAML syntax error names.
func syntaxPos(d *document, err error) pos {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return pos{n, 1}
	}
	return pos{d.firstLine, 1}
}
