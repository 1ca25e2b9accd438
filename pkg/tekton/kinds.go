package tekton

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	"github.com/tektoncd/pipeline/pkg/apis/pipeline/v1beta1"
	triggersv1alpha1 "github.com/tektoncd/triggers/pkg/apis/triggers/v1alpha1"
	triggersv1 "github.com/tektoncd/triggers/pkg/apis/triggers/v1beta1"
	"knative.dev/pkg/apis"
	"sigs.k8s.io/yaml"
)

// Kind is one apiVersion/kind this package decodes.
type Kind struct {
	APIVersion, Kind string
	// Converted kinds (tekton.dev/v1beta1, most public catalogs) decode with
	// Tekton's own ConvertTo into their v1 type, so every reader sees one
	// shape. Decode leaves them undecoded; DecodeConverting decodes them.
	Converted bool
	// decode makes the kind's object with un, which fills it in from the
	// document (YAML, or the JSON it converts to).
	decode func(un func(any) error) (any, string, error)
}

// Kinds is every kind pipewright decodes, in one list: Tekton v1, the
// Triggers kinds, and tekton.dev/v1beta1 through conversion.
var Kinds = []Kind{
	{APIVersion: "tekton.dev/v1", Kind: "Task", decode: named(func(t *v1.Task) string { return t.Name })},
	{APIVersion: "tekton.dev/v1", Kind: "Pipeline", decode: named(func(t *v1.Pipeline) string { return t.Name })},
	{APIVersion: "tekton.dev/v1", Kind: "PipelineRun", decode: named(func(t *v1.PipelineRun) string { return t.Name + t.GenerateName })},
	{APIVersion: "tekton.dev/v1", Kind: "TaskRun", decode: named(func(t *v1.TaskRun) string { return t.Name + t.GenerateName })},
	{APIVersion: triggersBeta, Kind: "EventListener", decode: named(func(t *triggersv1.EventListener) string { return t.Name })},
	{APIVersion: triggersBeta, Kind: "Trigger", decode: named(func(t *triggersv1.Trigger) string { return t.Name })},
	{APIVersion: triggersBeta, Kind: "TriggerBinding", decode: named(func(t *triggersv1.TriggerBinding) string { return t.Name })},
	{APIVersion: triggersBeta, Kind: "ClusterTriggerBinding", decode: named(func(t *triggersv1.ClusterTriggerBinding) string { return t.Name })},
	{APIVersion: triggersBeta, Kind: "TriggerTemplate", decode: named(func(t *triggersv1.TriggerTemplate) string { return t.Name })},
	{APIVersion: "triggers.tekton.dev/v1alpha1", Kind: "ClusterInterceptor", decode: named(func(t *triggersv1alpha1.ClusterInterceptor) string { return t.Name })},
	{APIVersion: "tekton.dev/v1beta1", Kind: "Task", Converted: true, decode: converted[v1beta1.Task, v1.Task](func(t *v1.Task) string { return t.Name })},
	{APIVersion: "tekton.dev/v1beta1", Kind: "Pipeline", Converted: true, decode: converted[v1beta1.Pipeline, v1.Pipeline](func(t *v1.Pipeline) string { return t.Name })},
	{APIVersion: "tekton.dev/v1beta1", Kind: "PipelineRun", Converted: true, decode: converted[v1beta1.PipelineRun, v1.PipelineRun](func(t *v1.PipelineRun) string { return t.Name + t.GenerateName })},
	{APIVersion: "tekton.dev/v1beta1", Kind: "TaskRun", Converted: true, decode: converted[v1beta1.TaskRun, v1.TaskRun](func(t *v1.TaskRun) string { return t.Name + t.GenerateName })},
}

const triggersBeta = "triggers.tekton.dev/v1beta1"

var kindIndex = func() map[string]Kind {
	m := map[string]Kind{}
	for _, k := range Kinds {
		m[k.APIVersion+"/"+k.Kind] = k
	}
	return m
}()

// LookupKind returns the registered kind for apiVersion and kind.
func LookupKind(apiVersion, kind string) (Kind, bool) {
	k, ok := kindIndex[apiVersion+"/"+kind]
	return k, ok
}

func named[T any](name func(*T) string) func(func(any) error) (any, string, error) {
	return func(un func(any) error) (any, string, error) {
		var t T
		if err := un(&t); err != nil {
			return nil, "", err
		}
		return &t, name(&t), nil
	}
}

// fromYAML fills v in from YAML b, strictly or not.
func fromYAML(b []byte, strict bool) func(any) error {
	return func(v any) error {
		if strict {
			return yaml.UnmarshalStrict(b, v)
		}
		return yaml.Unmarshal(b, v)
	}
}

// fromJSONStrict fills v in from the JSON a document converted to, as
// yaml.UnmarshalStrict does after its own conversion (unknown fields are
// errors, worded alike).
func fromJSONStrict(j []byte) func(any) error {
	return func(v any) error {
		d := json.NewDecoder(bytes.NewReader(j))
		d.DisallowUnknownFields()
		if err := d.Decode(v); err != nil {
			return fmt.Errorf("error unmarshaling JSON: while decoding JSON: %w", err)
		}
		return nil
	}
}

// converted decodes a v1beta1 object and converts it with Tekton's
// ConvertTo.
func converted[From any, To any, PF interface {
	*From
	apis.Convertible
}, PT interface {
	*To
	apis.Convertible
}](name func(PT) string) func(func(any) error) (any, string, error) {
	return func(un func(any) error) (any, string, error) {
		var from From
		if err := un(&from); err != nil {
			return nil, "", err
		}
		var to To
		if err := PF(&from).ConvertTo(context.Background(), PT(&to)); err != nil {
			return nil, "", fmt.Errorf("converting to tekton.dev/v1: %w", err)
		}
		return PT(&to), name(PT(&to)), nil
	}
}
