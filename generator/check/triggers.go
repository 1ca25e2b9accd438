package check

import (
	triggersv1alpha1 "github.com/tektoncd/triggers/pkg/apis/triggers/v1alpha1"
	triggersv1 "github.com/tektoncd/triggers/pkg/apis/triggers/v1beta1"
)

// Triggers kinds pipewright generates, decoded strictly like Tekton's.
func init() {
	const beta = "triggers.tekton.dev/v1beta1"
	Register(beta, "EventListener", named(func(t *triggersv1.EventListener) string { return t.Name }))
	Register(beta, "Trigger", named(func(t *triggersv1.Trigger) string { return t.Name }))
	Register(beta, "TriggerBinding", named(func(t *triggersv1.TriggerBinding) string { return t.Name }))
	Register(beta, "ClusterTriggerBinding", named(func(t *triggersv1.ClusterTriggerBinding) string { return t.Name }))
	Register(beta, "TriggerTemplate", named(func(t *triggersv1.TriggerTemplate) string { return t.Name }))
	Register("triggers.tekton.dev/v1alpha1", "ClusterInterceptor", named(func(t *triggersv1alpha1.ClusterInterceptor) string { return t.Name }))
}

func named[T any](name func(*T) string) Decoder {
	return func(b []byte) (any, string, error) {
		t, err := strict[T](b)
		if err != nil {
			return nil, "", err
		}
		return t, name(t), nil
	}
}
