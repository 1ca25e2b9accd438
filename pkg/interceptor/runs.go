package interceptor

import (
	"context"
	"fmt"
	"sort"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
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

// Exists lists at most one PipelineRun carrying every label of match.
func (c ClusterRuns) Exists(ctx context.Context, namespace string, match map[string]string) (bool, error) {
	for label, value := range match {
		if errs := validation.IsValidLabelValue(value); len(errs) > 0 {
			// Not a value a generated run can carry (a made-up delivery
			// header): the EventListener could not create the run either.
			return false, fmt.Errorf("%s %q is not a label value: %s", label, value, errs[0])
		}
	}
	sel := labels.SelectorFromSet(match).String()
	list, err := c.Client.Resource(PipelineRuns).Namespace(namespace).List(ctx, metav1.ListOptions{LabelSelector: sel, Limit: 1})
	if err != nil {
		return false, fmt.Errorf("list PipelineRuns in %s with %s: %w", namespace, sel, err)
	}
	return len(list.Items) > 0, nil
}

// CancelStatus is what Cancel sets spec.status to: Tekton stops the tasks
// and still runs finally, so the commit status says cancelled.
const CancelStatus = "CancelledRunFinally"

func (c ClusterRuns) list(ctx context.Context, namespace string, match map[string]string) ([]unstructured.Unstructured, error) {
	sel := labels.SelectorFromSet(match).String()
	list, err := c.Client.Resource(PipelineRuns).Namespace(namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return nil, fmt.Errorf("list PipelineRuns in %s with %s: %w", namespace, sel, err)
	}
	return list.Items, nil
}

// finished reports whether a run's Succeeded condition is True or False.
func finished(u unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Succeeded" && (m["status"] == "True" || m["status"] == "False") {
			return true
		}
	}
	return false
}

func (c ClusterRuns) Cancel(ctx context.Context, namespace string, match map[string]string) ([]string, error) {
	items, err := c.list(ctx, namespace, match)
	if err != nil {
		return nil, err
	}
	patch := []byte(`{"spec":{"status":"` + CancelStatus + `"}}`)
	var out []string
	for _, u := range items {
		if status, _, _ := unstructured.NestedString(u.Object, "spec", "status"); finished(u) || status != "" && status != "PipelineRunPending" {
			continue // done, or already being stopped
		}
		if _, err := c.Client.Resource(PipelineRuns).Namespace(namespace).Patch(ctx, u.GetName(), types.MergePatchType, patch, metav1.PatchOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return out, fmt.Errorf("cancel PipelineRun %s: %w", u.GetName(), err)
		}
		out = append(out, u.GetName())
	}
	sort.Strings(out)
	return out, nil
}

func (c ClusterRuns) Prune(ctx context.Context, namespace string, match map[string]string, keep int) ([]string, error) {
	items, err := c.list(ctx, namespace, match)
	if err != nil {
		return nil, err
	}
	var done []unstructured.Unstructured
	for _, u := range items {
		if finished(u) {
			done = append(done, u)
		}
	}
	// Newest first: by creation, then name.
	sort.Slice(done, func(i, j int) bool {
		ti, tj := done[i].GetCreationTimestamp(), done[j].GetCreationTimestamp()
		if !ti.Equal(&tj) {
			return tj.Before(&ti)
		}
		return done[i].GetName() > done[j].GetName()
	})
	var out []string
	for _, u := range done[min(keep, len(done)):] {
		// Background: the run's TaskRuns, Pods and claims go with it.
		policy := metav1.DeletePropagationBackground
		if err := c.Client.Resource(PipelineRuns).Namespace(namespace).Delete(ctx, u.GetName(), metav1.DeleteOptions{PropagationPolicy: &policy}); err != nil && !apierrors.IsNotFound(err) {
			return out, fmt.Errorf("delete PipelineRun %s: %w", u.GetName(), err)
		}
		out = append(out, u.GetName())
	}
	return out, nil
}
