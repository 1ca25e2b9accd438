package canary

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/util/retry"
)

// ArgoRolloutResource is Argo Rollouts' Rollout, read as an unstructured
// object so that Argo's Go module is not needed.
var ArgoRolloutResource = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "rollouts"}

// ArgoRollout is a release run by Argo Rollouts: the new image goes into the
// Rollout's spec.template, and the Rollout's status is the verdict.
//
// Changing the template raises metadata.generation; a status whose
// observedGeneration is older is the previous release's. Of a current one,
// status.abort is a rollback, and phase Healthy with stableRS equal to
// currentPodHash (the new template's hash) is the promotion.
type ArgoRollout struct {
	Dynamic   dynamic.Interface
	Namespace string
	Rollout   string // the Rollout's name
	Container string // in spec.template; empty: the first

	image string
}

func (a *ArgoRollout) Name() string { return "Argo Rollouts" }

func (a *ArgoRollout) Object() string {
	return fmt.Sprintf("%s %s/%s", ArgoRolloutResource.GroupResource(), a.Namespace, a.Rollout)
}

func (a *ArgoRollout) client() dynamic.ResourceInterface {
	return a.Dynamic.Resource(ArgoRolloutResource).Namespace(a.Namespace)
}

func (a *ArgoRollout) get(ctx context.Context) (*unstructured.Unstructured, error) {
	u, err := a.client().Get(ctx, a.Rollout, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("%s: %w (hint: --object names the Rollout; default: --app)", a.Object(), err)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.Object(), err)
	}
	return u, nil
}

// containers returns spec.template.spec.containers and the index of the
// container whose image a release replaces.
func (a *ArgoRollout) containers(ro *unstructured.Unstructured) ([]any, int, error) {
	cs, found, err := unstructured.NestedSlice(ro.Object, "spec", "template", "spec", "containers")
	if err != nil {
		return nil, 0, fmt.Errorf("%s: spec.template.spec.containers: %w", a.Object(), err)
	}
	if !found {
		if _, ref, _ := unstructured.NestedMap(ro.Object, "spec", "workloadRef"); ref {
			return nil, 0, fmt.Errorf("%s takes its pod template from spec.workloadRef; pipewright sets the image in spec.template only", a.Object())
		}
		return nil, 0, fmt.Errorf("%s: no spec.template.spec.containers", a.Object())
	}
	for i, c := range cs {
		c, _ := c.(map[string]any)
		if a.Container == "" || c["name"] == a.Container {
			return cs, i, nil
		}
	}
	return nil, 0, fmt.Errorf("%s: no container %q in spec.template (hint: --container)", a.Object(), a.Container)
}

// Start sets the image in the Rollout's pod template.
func (a *ArgoRollout) Start(ctx context.Context, image string) (bool, error) {
	a.image = image
	resumed := false
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		ro, err := a.get(ctx)
		if err != nil {
			return err
		}
		cs, i, err := a.containers(ro)
		if err != nil {
			return err
		}
		c := cs[i].(map[string]any)
		if c["image"] == image {
			resumed = true
			return nil
		}
		c["image"] = image
		if err := unstructured.SetNestedSlice(ro.Object, cs, "spec", "template", "spec", "containers"); err != nil {
			return err
		}
		if _, err := a.client().Update(ctx, ro, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("%s: setting the image: %w", a.Object(), err)
		}
		return nil
	})
	return resumed, err
}

// Observe reads the Rollout's status.
func (a *ArgoRollout) Observe(ctx context.Context) (Observation, error) {
	ro, err := a.get(ctx)
	if err != nil {
		return Observation{}, err
	}
	st, _, _ := unstructured.NestedMap(ro.Object, "status")
	phase, _ := st["phase"].(string)
	o := Observation{At: time.Now(), Phase: phase, Weight: -1}
	o.Detail, _ = st["message"].(string)

	cs, i, err := a.containers(ro)
	if err != nil {
		return o, err
	}
	if img, _ := cs[i].(map[string]any)["image"].(string); img != a.image {
		return o, fmt.Errorf("%s now has image %s, not %s: another release replaced this one", a.Object(), img, a.image)
	}

	// A status the controller wrote before it saw the new template says
	// nothing about it. Argo Rollouts before v0.10 kept a hash here, not a
	// number; its own clients take such a status as observed, and so does
	// this.
	gen := ro.GetGeneration()
	if obs, err := strconv.ParseInt(fmt.Sprint(st["observedGeneration"]), 10, 64); err == nil && obs < gen {
		o.Stale = true
		o.Detail = strings.TrimSpace(fmt.Sprintf("observedGeneration %d < generation %d. %s", obs, gen, o.Detail))
		return o, nil
	} else if st["observedGeneration"] == nil {
		o.Stale = true
		o.Detail = "the controller has not written a status yet"
		return o, nil
	}

	abort, _ := st["abort"].(bool)
	stable, _ := st["stableRS"].(string)
	current, _ := st["currentPodHash"].(string)
	steps, _, _ := unstructured.NestedSlice(ro.Object, "spec", "strategy", "canary", "steps")
	stepIndex, hasStep := number(st["currentStepIndex"])
	if hasStep && len(steps) > 0 {
		o.Detail = strings.TrimSpace(fmt.Sprintf("step %d/%d. %s", min(stepIndex+1, len(steps)), len(steps), o.Detail))
	}
	o.Weight = argoWeight(ro, st, steps, stepIndex, abort)

	switch {
	case abort:
		o.Verdict = RolledBack
		if o.Detail == "" {
			o.Detail = "the update was aborted"
		}
	case phase == "Healthy" && stable != "" && stable == current:
		o.Verdict, o.Weight = Promoted, 100
	case phase == "Degraded" && strings.HasPrefix(o.Detail, "InvalidSpec"):
		// Argo Rollouts will not act on the release at all.
		return o, fmt.Errorf("%s: %s", a.Object(), o.Detail)
	}
	return o, nil
}

// argoWeight is the canary's weight as Argo Rollouts reports it (with
// traffic routing) or as its steps set it (the setWeight of the current
// step or the last one before it; all steps done: the maximum).
func argoWeight(ro *unstructured.Unstructured, st map[string]any, steps []any, index int, abort bool) int {
	if w, found, _ := unstructured.NestedFieldNoCopy(st, "canary", "weights", "canary", "weight"); found {
		if n, ok := number(w); ok {
			return n
		}
	}
	if _, canary, _ := unstructured.NestedMap(ro.Object, "spec", "strategy", "canary"); !canary || len(steps) == 0 {
		return -1
	}
	if abort {
		return 0
	}
	if index >= len(steps) {
		if m, found, _ := unstructured.NestedFieldNoCopy(ro.Object, "spec", "strategy", "canary", "trafficRouting", "maxTrafficWeight"); found {
			if n, ok := number(m); ok {
				return n
			}
		}
		return 100
	}
	for i := index; i >= 0; i-- {
		s, _ := steps[i].(map[string]any)
		if n, ok := number(s["setWeight"]); ok {
			return n
		}
	}
	return 0
}
