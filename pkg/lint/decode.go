package lint

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/pipewright/pipewright/generator/check"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	"github.com/tektoncd/pipeline/pkg/apis/pipeline/v1beta1"
	triggers "github.com/tektoncd/triggers/pkg/apis/triggers/v1beta1"
	"knative.dev/pkg/apis"
	"sigs.k8s.io/yaml"
)

// extra decodes the kinds check does not register itself: Triggers, and
// tekton.dev/v1beta1 objects (most public catalogs), which Tekton's own
// conversion turns into v1 so every rule sees one shape. They live here, not
// in check's registry, so linting does not change what generate accepts.
var extra = map[string]func([]byte) (any, string, error){
	"triggers.tekton.dev/v1beta1/EventListener": strictNamed(func(t *triggers.EventListener) string { return t.Name }),
	"triggers.tekton.dev/v1beta1/TriggerTemplate": strictNamed(func(t *triggers.TriggerTemplate) string {
		return t.Name
	}),
	"triggers.tekton.dev/v1beta1/TriggerBinding": strictNamed(func(t *triggers.TriggerBinding) string { return t.Name }),
	"triggers.tekton.dev/v1beta1/Trigger":        strictNamed(func(t *triggers.Trigger) string { return t.Name }),
	"tekton.dev/v1beta1/Task":                    converted[v1beta1.Task, v1.Task](func(t *v1.Task) string { return t.Name }),
	"tekton.dev/v1beta1/Pipeline":                converted[v1beta1.Pipeline, v1.Pipeline](func(t *v1.Pipeline) string { return t.Name }),
	"tekton.dev/v1beta1/PipelineRun": converted[v1beta1.PipelineRun, v1.PipelineRun](func(t *v1.PipelineRun) string {
		return t.Name + t.GenerateName
	}),
	"tekton.dev/v1beta1/TaskRun": converted[v1beta1.TaskRun, v1.TaskRun](func(t *v1.TaskRun) string {
		return t.Name + t.GenerateName
	}),
}

func strictNamed[T any](name func(*T) string) func([]byte) (any, string, error) {
	return func(b []byte) (any, string, error) {
		var t T
		if err := yaml.UnmarshalStrict(b, &t); err != nil {
			return nil, "", err
		}
		return &t, name(&t), nil
	}
}

// converted decodes a v1beta1 object strictly and converts it with Tekton's
// ConvertTo.
func converted[From any, To any, PF interface {
	*From
	apis.Convertible
}, PT interface {
	*To
	apis.Convertible
}](name func(PT) string) func([]byte) (any, string, error) {
	return func(b []byte) (any, string, error) {
		var from From
		if err := yaml.UnmarshalStrict(b, &from); err != nil {
			return nil, "", err
		}
		var to To
		if err := PF(&from).ConvertTo(context.Background(), PT(&to)); err != nil {
			return nil, "", fmt.Errorf("converting to tekton.dev/v1: %w", err)
		}
		return PT(&to), name(PT(&to)), nil
	}
}

type head struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
}

// decodeDoc decodes one document with check's decoders, then ours.
func decodeDoc(file string, doc []byte) (check.Object, error) {
	objs, err := check.Decode(file, doc)
	if err != nil {
		return check.Object{}, err
	}
	if len(objs) != 1 {
		return check.Object{}, fmt.Errorf("%s: expected one document, found %d", file, len(objs))
	}
	o := objs[0]
	if o.Obj != nil {
		return o, nil
	}
	var h head
	if err := yaml.Unmarshal(doc, &h); err != nil {
		return o, err
	}
	if d, ok := extra[h.APIVersion+"/"+h.Kind]; ok {
		obj, name, err := d(doc)
		if err != nil {
			return o, fmt.Errorf("%s: %s %s: %w", file, h.Kind, h.Metadata.Name, err)
		}
		o.Obj, o.Name = obj, name
	}
	return o, nil
}

// decodeTemplate decodes a TriggerTemplate's resource template leniently:
// $(tt.params.x) may stand where a duration or number belongs.
func decodeTemplate(raw []byte) any {
	var h head
	if json.Unmarshal(raw, &h) != nil {
		return nil
	}
	switch h.APIVersion + "/" + h.Kind {
	case "tekton.dev/v1/PipelineRun":
		var pr v1.PipelineRun
		if json.Unmarshal(raw, &pr) == nil {
			return &pr
		}
	case "tekton.dev/v1/TaskRun":
		var tr v1.TaskRun
		if json.Unmarshal(raw, &tr) == nil {
			return &tr
		}
	case "tekton.dev/v1beta1/PipelineRun":
		var from v1beta1.PipelineRun
		var to v1.PipelineRun
		if json.Unmarshal(raw, &from) == nil && from.ConvertTo(context.Background(), &to) == nil {
			return &to
		}
	case "tekton.dev/v1beta1/TaskRun":
		var from v1beta1.TaskRun
		var to v1.TaskRun
		if json.Unmarshal(raw, &from) == nil && from.ConvertTo(context.Background(), &to) == nil {
			return &to
		}
	}
	return nil
}
