package canary

import (
	"context"
	"fmt"
	"maps"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// TrackLabel tells the canary's pods from the stable ones. The canary's
// selector requires track=canary; give the stable Deployment's pods
// track=stable and put it in the stable Service's selector, or that Service
// sends part of the stable share to canary pods too.
const TrackLabel = "track"

// Annotation keys of the progress kept on the objects.
const (
	annoPrefix  = "canary.pipewright.dev/"
	annoImage   = annoPrefix + "image"
	annoPhase   = annoPrefix + "phase"
	annoStep    = annoPrefix + "step"
	annoWeight  = annoPrefix + "weight"
	annoFails   = annoPrefix + "failures"
	annoErrors  = annoPrefix + "errors"
	annoRolled  = annoPrefix + "rolled-back"
	annoRetry   = annoPrefix + "retry-reason"
	annoReason  = annoPrefix + "reason"
	annoUpdated = annoPrefix + "updated"
)

// Deployments is the Workload on a cluster: the stable Deployment <App>
// and the canary Deployment and Service <App>-canary beside it.
type Deployments struct {
	Client    kubernetes.Interface
	Namespace string
	App       string
	// Container whose image is replaced; empty means the first one.
	Container string
	// Deadline bounds each wait for a Deployment to be available.
	Deadline time.Duration
	Poll     time.Duration
}

// CanaryName is the canary Deployment's and Service's name.
func CanaryName(app string) string { return app + "-canary" }

func (d *Deployments) deployments() interface {
	Get(context.Context, string, metav1.GetOptions) (*appsv1.Deployment, error)
	Create(context.Context, *appsv1.Deployment, metav1.CreateOptions) (*appsv1.Deployment, error)
	Update(context.Context, *appsv1.Deployment, metav1.UpdateOptions) (*appsv1.Deployment, error)
	Delete(context.Context, string, metav1.DeleteOptions) error
} {
	return d.Client.AppsV1().Deployments(d.Namespace)
}

// DeployCanary copies the stable Deployment as <App>-canary with image and
// track=canary, creates the canary Service from the stable one, and waits
// for the canary to be available.
func (d *Deployments) DeployCanary(ctx context.Context, image string) error {
	stable, err := d.deployments().Get(ctx, d.App, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("stable deployment %s/%s: %w", d.Namespace, d.App, err)
	}
	want := stable.DeepCopy()
	want.ObjectMeta = metav1.ObjectMeta{
		Name:        CanaryName(d.App),
		Namespace:   d.Namespace,
		Labels:      withTrack(stable.Labels),
		Annotations: map[string]string{annoImage: image},
	}
	want.Status = appsv1.DeploymentStatus{}
	sel := stable.Spec.Selector.DeepCopy()
	sel.MatchLabels = withTrack(sel.MatchLabels)
	want.Spec.Selector = sel
	want.Spec.Template.Labels = withTrack(want.Spec.Template.Labels)
	if want.Spec.Replicas == nil || *want.Spec.Replicas < 1 {
		one := int32(1)
		want.Spec.Replicas = &one
	}
	if err := setImage(&want.Spec.Template.Spec, d.Container, image); err != nil {
		return fmt.Errorf("deployment %s: %w", d.App, err)
	}
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := d.deployments().Get(ctx, want.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			_, err = d.deployments().Create(ctx, want, metav1.CreateOptions{})
			return err
		}
		if err != nil {
			return err
		}
		cur.Labels, cur.Annotations = want.Labels, mergeMap(cur.Annotations, want.Annotations)
		cur.Spec.Replicas, cur.Spec.Template = want.Spec.Replicas, want.Spec.Template
		_, err = d.deployments().Update(ctx, cur, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("canary deployment %s: %w", want.Name, err)
	}
	if err := d.ensureService(ctx); err != nil {
		return err
	}
	return d.waitAvailable(ctx, want.Name)
}

func (d *Deployments) ensureService(ctx context.Context) error {
	svcs := d.Client.CoreV1().Services(d.Namespace)
	name := CanaryName(d.App)
	if _, err := svcs.Get(ctx, name, metav1.GetOptions{}); err == nil {
		return nil
	} else if !apierrors.IsNotFound(err) {
		return fmt.Errorf("canary service %s: %w", name, err)
	}
	stable, err := svcs.Get(ctx, d.App, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("stable service %s/%s (the canary service copies its ports): %w", d.Namespace, d.App, err)
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: d.Namespace, Labels: withTrack(stable.Labels)},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: withTrack(stable.Spec.Selector),
		},
	}
	for _, p := range stable.Spec.Ports {
		p.NodePort = 0
		svc.Spec.Ports = append(svc.Spec.Ports, p)
	}
	if _, err := svcs.Create(ctx, svc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("canary service %s: %w", name, err)
	}
	return nil
}

// PromoteStable sets image on the stable Deployment and waits for it.
func (d *Deployments) PromoteStable(ctx context.Context, image string) error {
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := d.deployments().Get(ctx, d.App, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if err := setImage(&cur.Spec.Template.Spec, d.Container, image); err != nil {
			return err
		}
		_, err = d.deployments().Update(ctx, cur, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("stable deployment %s: %w", d.App, err)
	}
	return d.waitAvailable(ctx, d.App)
}

// ScaleDownCanary sets the canary's replicas to zero.
func (d *Deployments) ScaleDownCanary(ctx context.Context) error {
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := d.deployments().Get(ctx, CanaryName(d.App), metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		var zero int32
		cur.Spec.Replicas = &zero
		_, err = d.deployments().Update(ctx, cur, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("scaling down %s: %w", CanaryName(d.App), err)
	}
	return nil
}

// RemoveCanary deletes the canary Deployment (and so its pods). The canary
// Service stays, without endpoints, so the route's reference stays valid.
func (d *Deployments) RemoveCanary(ctx context.Context) error {
	err := d.deployments().Delete(ctx, CanaryName(d.App), metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("removing %s: %w", CanaryName(d.App), err)
	}
	return nil
}

// waitAvailable waits until the Deployment's controller has rolled out its
// current spec and every replica is available.
func (d *Deployments) waitAvailable(ctx context.Context, name string) error {
	deadline := d.Deadline
	if deadline == 0 {
		deadline = DefaultDeadline
	}
	poll := d.Poll
	if poll == 0 {
		poll = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	last := "not read yet"
	for {
		dep, err := d.deployments().Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			ok, why := available(dep)
			if ok {
				return nil
			}
			last = why
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("deployment %s not available within %s: %s", name, deadline, last)
		case <-time.After(poll):
		}
	}
}

func available(d *appsv1.Deployment) (bool, string) {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	s := d.Status
	switch {
	case s.ObservedGeneration < d.Generation:
		return false, fmt.Sprintf("generation %d not yet observed (at %d)", d.Generation, s.ObservedGeneration)
	case s.UpdatedReplicas < want:
		return false, fmt.Sprintf("%d/%d replicas updated", s.UpdatedReplicas, want)
	case s.Replicas > s.UpdatedReplicas:
		return false, fmt.Sprintf("%d old replicas still running", s.Replicas-s.UpdatedReplicas)
	case s.AvailableReplicas < want:
		return false, fmt.Sprintf("%d/%d replicas available", s.AvailableReplicas, want)
	}
	return true, ""
}

func setImage(spec *corev1.PodSpec, container, image string) error {
	i, err := containerIndex(spec, container)
	if err != nil {
		return err
	}
	spec.Containers[i].Image = image
	return nil
}

// containerIndex finds the container whose image a release replaces: the
// named one, or the first.
func containerIndex(spec *corev1.PodSpec, container string) (int, error) {
	if len(spec.Containers) == 0 {
		return 0, fmt.Errorf("the pod template has no containers")
	}
	if container == "" {
		return 0, nil
	}
	for i := range spec.Containers {
		if spec.Containers[i].Name == container {
			return i, nil
		}
	}
	return 0, fmt.Errorf("no container %q in the pod template (hint: --container)", container)
}

func withTrack(m map[string]string) map[string]string {
	out := maps.Clone(m)
	if out == nil {
		out = map[string]string{}
	}
	out[TrackLabel] = "canary"
	return out
}

func mergeMap(a, b map[string]string) map[string]string {
	out := maps.Clone(a)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, b)
	return out
}
