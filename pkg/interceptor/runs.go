package interceptor

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/dynamic"
)

// PipelineRuns is Tekton's PipelineRun resource.
var PipelineRuns = schema.GroupVersionResource{Group: "tekton.dev", Version: "v1", Resource: "pipelineruns"}

// ClusterRuns looks PipelineRuns up in the cluster: what survives the
// interceptor's restarts, and what every replica sees.
type ClusterRuns struct {
	Client dynamic.Interface
}

// Exists lists at most one PipelineRun carrying label=value.
func (c ClusterRuns) Exists(ctx context.Context, namespace, label, value string) (bool, error) {
	if errs := validation.IsValidLabelValue(value); len(errs) > 0 {
		// Not a value a generated run can carry (a made-up delivery
		// header): the EventListener could not create the run either.
		return false, fmt.Errorf("%s %q is not a label value: %s", label, value, errs[0])
	}
	sel := labels.SelectorFromSet(labels.Set{label: value}).String()
	list, err := c.Client.Resource(PipelineRuns).Namespace(namespace).List(ctx, metav1.ListOptions{LabelSelector: sel, Limit: 1})
	if err != nil {
		return false, fmt.Errorf("list PipelineRuns in %s with %s: %w", namespace, sel, err)
	}
	return len(list.Items) > 0, nil
}
