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

// The routing APIs, read and written as unstructured objects so that no
// mesh's Go module is needed.
var (
	HTTPRouteResource    = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "httproutes"}
	TrafficSplitResource = schema.GroupVersionResource{Group: "split.smi-spec.io", Version: "v1alpha2", Resource: "trafficsplits"}
)

// object is one namespaced object of a dynamic resource.
type object struct {
	Dynamic   dynamic.Interface
	Resource  schema.GroupVersionResource
	Namespace string
	Name      string
}

func (o object) String() string {
	return fmt.Sprintf("%s %s/%s", o.Resource.Resource, o.Namespace, o.Name)
}

func (o object) client() dynamic.ResourceInterface {
	return o.Dynamic.Resource(o.Resource).Namespace(o.Namespace)
}

// update applies change to the current object, retrying on conflicts.
func (o object) update(ctx context.Context, change func(*unstructured.Unstructured) error) error {
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		u, err := o.client().Get(ctx, o.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if err := change(u); err != nil {
			return err
		}
		_, err = o.client().Update(ctx, u, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: %w", o, err)
	}
	return nil
}

// HTTPRoute shifts traffic with the backendRef weights of a Gateway API
// HTTPRoute: every rule that sends traffic to the stable Service gets a
// backendRef to the canary Service beside it (same port), and the two
// share the rule's traffic by weight.
type HTTPRoute struct {
	Dynamic              dynamic.Interface
	Namespace, Name      string
	Stable, CanaryTarget string // Service names
}

func (h *HTTPRoute) object() object {
	return object{Dynamic: h.Dynamic, Resource: HTTPRouteResource, Namespace: h.Namespace, Name: h.Name}
}

// SetWeight sets the canary's weight in percent.
func (h *HTTPRoute) SetWeight(ctx context.Context, weight int) error {
	return h.object().update(ctx, func(u *unstructured.Unstructured) error {
		rules, _, err := unstructured.NestedSlice(u.Object, "spec", "rules")
		if err != nil {
			return fmt.Errorf("spec.rules: %w", err)
		}
		found := false
		for i, r := range rules {
			rule, ok := r.(map[string]any)
			if !ok {
				continue
			}
			refs, _, _ := unstructured.NestedSlice(rule, "backendRefs")
			stable, canary := -1, -1
			for j, r := range refs {
				ref, _ := r.(map[string]any)
				if !isServiceRef(ref) {
					continue
				}
				switch ref["name"] {
				case h.Stable:
					stable = j
				case h.CanaryTarget:
					canary = j
				}
			}
			if stable < 0 {
				continue
			}
			found = true
			if canary < 0 {
				ref := map[string]any{"name": h.CanaryTarget}
				for _, k := range []string{"group", "kind", "port"} {
					if v, ok := refs[stable].(map[string]any)[k]; ok {
						ref[k] = v
					}
				}
				refs = append(refs, ref)
				canary = len(refs) - 1
			}
			refs[stable].(map[string]any)["weight"] = int64(100 - weight)
			refs[canary].(map[string]any)["weight"] = int64(weight)
			rule["backendRefs"] = refs
			rules[i] = rule
		}
		if !found {
			return fmt.Errorf("no rule has a backendRef to Service %q (hint: --stable-service names the stable version's Service)", h.Stable)
		}
		return unstructured.SetNestedSlice(u.Object, rules, "spec", "rules")
	})
}

func isServiceRef(ref map[string]any) bool {
	if ref == nil {
		return false
	}
	g, _ := ref["group"].(string)
	k, _ := ref["kind"].(string)
	return g == "" && (k == "" || k == "Service")
}

// Weights returns the stable and canary weights of the first rule routing
// to the stable Service (for reports and tests); -1 for a missing ref.
func (h *HTTPRoute) Weights(ctx context.Context) (stable, canary int, err error) {
	u, err := h.object().client().Get(ctx, h.Name, metav1.GetOptions{})
	if err != nil {
		return 0, 0, err
	}
	rules, _, _ := unstructured.NestedSlice(u.Object, "spec", "rules")
	for _, r := range rules {
		rule, _ := r.(map[string]any)
		refs, _, _ := unstructured.NestedSlice(rule, "backendRefs")
		stable, canary = -1, -1
		for _, r := range refs {
			ref, _ := r.(map[string]any)
			w, ok := ref["weight"].(int64)
			if !ok {
				w = 1 // the Gateway API default
			}
			switch ref["name"] {
			case h.Stable:
				stable = int(w)
			case h.CanaryTarget:
				canary = int(w)
			}
		}
		if stable >= 0 {
			return stable, canary, nil
		}
	}
	return -1, -1, fmt.Errorf("httproute %s: no rule routes to %s", h.Name, h.Stable)
}

// Store keeps the progress in annotations on the route.
func (h *HTTPRoute) Store() Store { return annotationStore{h.object(), nil} }

// TrafficSplit shifts traffic with an SMI TrafficSplit (split.smi-spec.io
// v1alpha2) whose root service is Root, created if missing.
type TrafficSplit struct {
	Dynamic              dynamic.Interface
	Namespace, Name      string
	Root                 string // the apex Service clients call
	Stable, CanaryTarget string
}

func (t *TrafficSplit) object() object {
	return object{Dynamic: t.Dynamic, Resource: TrafficSplitResource, Namespace: t.Namespace, Name: t.Name}
}

func (t *TrafficSplit) ensure(ctx context.Context) error {
	o := t.object()
	_, err := o.client().Get(ctx, t.Name, metav1.GetOptions{})
	if !apierrors.IsNotFound(err) {
		return err
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": TrafficSplitResource.GroupVersion().String(),
		"kind":       "TrafficSplit",
		"metadata":   map[string]any{"name": t.Name, "namespace": t.Namespace},
		"spec": map[string]any{
			"service":  t.Root,
			"backends": t.backends(0),
		},
	}}
	_, err = o.client().Create(ctx, u, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

func (t *TrafficSplit) backends(weight int) []any {
	return []any{
		map[string]any{"service": t.Stable, "weight": int64(100 - weight)},
		map[string]any{"service": t.CanaryTarget, "weight": int64(weight)},
	}
}

// SetWeight sets the canary's weight in percent.
func (t *TrafficSplit) SetWeight(ctx context.Context, weight int) error {
	if err := t.ensure(ctx); err != nil {
		return fmt.Errorf("%s: %w", t.object(), err)
	}
	return t.object().update(ctx, func(u *unstructured.Unstructured) error {
		return unstructured.SetNestedSlice(u.Object, t.backends(weight), "spec", "backends")
	})
}

// Weights returns the stable and canary backends' weights (for reports and
// tests); -1 for a missing backend.
func (t *TrafficSplit) Weights(ctx context.Context) (stable, canary int, err error) {
	u, err := t.object().client().Get(ctx, t.Name, metav1.GetOptions{})
	if err != nil {
		return 0, 0, err
	}
	backends, _, err := unstructured.NestedSlice(u.Object, "spec", "backends")
	if err != nil {
		return 0, 0, fmt.Errorf("%s: spec.backends: %w", t.object(), err)
	}
	stable, canary = -1, -1
	for _, b := range backends {
		b, _ := b.(map[string]any)
		w, ok := number(b["weight"])
		if !ok {
			continue
		}
		switch b["service"] {
		case t.Stable:
			stable = w
		case t.CanaryTarget:
			canary = w
		}
	}
	if stable < 0 {
		return -1, -1, fmt.Errorf("%s: no backend is the stable service %s", t.object(), t.Stable)
	}
	return stable, canary, nil
}

// Store keeps the progress in annotations on the TrafficSplit.
func (t *TrafficSplit) Store() Store { return annotationStore{t.object(), t.ensure} }

// annotationStore keeps State in annotations, so a re-run finds it on the
// cluster and anyone can read it with kubectl.
type annotationStore struct {
	o      object
	ensure func(context.Context) error // creates the object if it may be missing
}

func (s annotationStore) Load(ctx context.Context) (State, error) {
	u, err := s.o.client().Get(ctx, s.o.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) && s.ensure != nil {
		return State{}, nil
	}
	if err != nil {
		return State{}, fmt.Errorf("%s: %w", s.o, err)
	}
	a := u.GetAnnotations()
	st := State{Image: a[annoImage], Phase: Phase(a[annoPhase]), Reason: a[annoReason], RetryReason: a[annoRetry]}
	if v := a[annoRolled]; v != "" {
		st.RolledBack = strings.Split(v, ",")
	}
	for key, into := range map[string]*int{annoStep: &st.Step, annoWeight: &st.Weight, annoFails: &st.Failures, annoErrors: &st.Errors} {
		if v, ok := a[key]; ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				return State{}, fmt.Errorf("%s: annotation %s=%q: %w", s.o, key, v, err)
			}
			*into = n
		}
	}
	return st, nil
}

func (s annotationStore) Save(ctx context.Context, st State) error {
	if s.ensure != nil {
		if err := s.ensure(ctx); err != nil {
			return fmt.Errorf("%s: %w", s.o, err)
		}
	}
	return s.o.update(ctx, func(u *unstructured.Unstructured) error {
		a := u.GetAnnotations()
		if a == nil {
			a = map[string]string{}
		}
		a[annoImage] = st.Image
		a[annoPhase] = string(st.Phase)
		a[annoStep] = strconv.Itoa(st.Step)
		a[annoWeight] = strconv.Itoa(st.Weight)
		a[annoFails] = strconv.Itoa(st.Failures)
		a[annoErrors] = strconv.Itoa(st.Errors)
		a[annoUpdated] = time.Now().UTC().Format(time.RFC3339)
		for key, v := range map[string]string{annoReason: st.Reason, annoRetry: st.RetryReason, annoRolled: strings.Join(st.RolledBack, ",")} {
			if v != "" {
				a[key] = v
			} else {
				delete(a, key)
			}
		}
		u.SetAnnotations(a)
		return nil
	})
}
