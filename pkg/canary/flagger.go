package canary

import (
	"context"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// FlaggerCanaryResource is Flagger's Canary, read as an unstructured object
// so that Flagger's Go module is not needed.
var FlaggerCanaryResource = schema.GroupVersionResource{Group: "flagger.app", Version: "v1beta1", Resource: "canaries"}

// annoFlaggerBaseline keeps, on the target Deployment, the Canary's
// status.lastAppliedSpec from before pipewright set the image, so that a
// re-run still tells the new revision's status from the old one's.
const annoFlaggerBaseline = annoPrefix + "flagger-last-applied-spec"

// FlaggerCanary is a release run by Flagger: the new image goes on the
// Deployment the Canary's spec.targetRef names, and Flagger's status on the
// Canary is the verdict.
//
// Flagger's status.lastAppliedSpec is a hash of the target's pod template
// that Flagger writes when it takes up a new revision. A phase is only taken
// as this release's once that hash differs from the one before the image
// was set; until then Succeeded or Failed is the previous release's.
type FlaggerCanary struct {
	Dynamic   dynamic.Interface
	Client    kubernetes.Interface
	Namespace string
	Canary    string // the Canary's name
	Container string // in the target's pod template; empty: the first

	target   string // the target Deployment
	image    string
	baseline string // lastAppliedSpec before the image was set
	// known is false when the target already ran the image and pipewright
	// had not set it: the baseline is lost, so a promotion is only believed
	// when the primary runs the image and a failure only when it is newer
	// than this run.
	known   bool
	started time.Time
}

func (f *FlaggerCanary) Name() string { return "Flagger" }

func (f *FlaggerCanary) Object() string {
	return fmt.Sprintf("%s %s/%s", FlaggerCanaryResource.GroupResource(), f.Namespace, f.Canary)
}

func (f *FlaggerCanary) get(ctx context.Context) (*unstructured.Unstructured, error) {
	u, err := f.Dynamic.Resource(FlaggerCanaryResource).Namespace(f.Namespace).Get(ctx, f.Canary, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("%s: %w (hint: --object names the Flagger Canary; default: --app)", f.Object(), err)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Object(), err)
	}
	return u, nil
}

// Start sets the image on the Canary's target Deployment.
func (f *FlaggerCanary) Start(ctx context.Context, image string) (bool, error) {
	f.image, f.started = image, time.Now().Truncate(time.Second)
	cd, err := f.get(ctx)
	if err != nil {
		return false, err
	}
	kind, _, _ := unstructured.NestedString(cd.Object, "spec", "targetRef", "kind")
	name, _, _ := unstructured.NestedString(cd.Object, "spec", "targetRef", "name")
	if kind != "Deployment" || name == "" {
		return false, fmt.Errorf("%s: spec.targetRef is %s %q; pipewright sets the image on a Deployment target only", f.Object(), kind, name)
	}
	f.target = name
	baseline, _, _ := unstructured.NestedString(cd.Object, "status", "lastAppliedSpec")
	resumed := false
	deps := f.Client.AppsV1().Deployments(f.Namespace)
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		dep, err := deps.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		i, err := containerIndex(&dep.Spec.Template.Spec, f.Container)
		if err != nil {
			return err
		}
		if dep.Spec.Template.Spec.Containers[i].Image == image {
			resumed = true
			f.baseline, f.known = dep.Annotations[annoFlaggerBaseline], false
			if dep.Annotations[annoImage] == image {
				_, f.known = dep.Annotations[annoFlaggerBaseline]
			}
			return nil
		}
		dep.Spec.Template.Spec.Containers[i].Image = image
		dep.Annotations = mergeMap(dep.Annotations, map[string]string{annoImage: image, annoFlaggerBaseline: baseline})
		f.baseline, f.known = baseline, true
		_, err = deps.Update(ctx, dep, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return false, fmt.Errorf("%s: target deployment %s: %w", f.Object(), name, err)
	}
	return resumed, nil
}

// Observe reads the Canary's status.
func (f *FlaggerCanary) Observe(ctx context.Context) (Observation, error) {
	cd, err := f.get(ctx)
	if err != nil {
		return Observation{}, err
	}
	st, _, _ := unstructured.NestedMap(cd.Object, "status")
	phase, _ := st["phase"].(string)
	o := Observation{At: time.Now(), Phase: phase, Weight: -1}
	if w, ok := number(st["canaryWeight"]); ok {
		o.Weight = w
	}
	failed, _ := number(st["failedChecks"])
	if conds, ok := st["conditions"].([]any); ok {
		for _, c := range conds {
			c, _ := c.(map[string]any)
			if c["type"] == "Promoted" {
				o.Detail, _ = c["message"].(string)
			}
		}
	}
	if failed > 0 {
		o.Detail = strings.TrimSpace(fmt.Sprintf("%s (failed checks %d)", o.Detail, failed))
	}
	applied, _ := st["lastAppliedSpec"].(string)

	// The target must still carry this release's image; another release
	// started meanwhile makes any verdict not ours.
	dep, err := f.Client.AppsV1().Deployments(f.Namespace).Get(ctx, f.target, metav1.GetOptions{})
	if err != nil {
		return o, fmt.Errorf("%s: target deployment %s: %w", f.Object(), f.target, err)
	}
	if img := imageOf(dep, f.Container); img != f.image {
		return o, fmt.Errorf("%s: target deployment %s now runs %s, not %s: another release replaced this one", f.Object(), f.target, img, f.image)
	}

	if f.known {
		o.Stale = applied == f.baseline
	}
	if o.Stale {
		return o, nil
	}
	switch phase {
	case "Succeeded", "Initialized":
		if phase == "Initialized" {
			o.Detail += " (a first deployment: Flagger promotes it without analysis)"
		}
		if !f.known {
			// Without the baseline, the primary running the image is the
			// evidence that this revision is the promoted one.
			primary, err := f.Client.AppsV1().Deployments(f.Namespace).Get(ctx, f.target+"-primary", metav1.GetOptions{})
			if err != nil && !apierrors.IsNotFound(err) {
				return o, fmt.Errorf("%s: primary deployment: %w", f.Object(), err)
			}
			if err != nil || imageOf(primary, f.Container) != f.image {
				o.Stale = true
				return o, nil
			}
		}
		o.Verdict = Promoted
	case "Failed":
		if !f.known && !f.failedSince(st) {
			o.Stale = true
			return o, nil
		}
		o.Verdict = RolledBack
	case "Terminating", "Terminated":
		return o, fmt.Errorf("%s is being deleted (phase %s)", f.Object(), phase)
	}
	return o, nil
}

// failedSince: the status changed after this run started.
func (f *FlaggerCanary) failedSince(st map[string]any) bool {
	s, _ := st["lastTransitionTime"].(string)
	t, err := time.Parse(time.RFC3339, s)
	return err == nil && !t.Before(f.started)
}

func imageOf(d *appsv1.Deployment, container string) string {
	i, err := containerIndex(&d.Spec.Template.Spec, container)
	if err != nil {
		return ""
	}
	return d.Spec.Template.Spec.Containers[i].Image
}
