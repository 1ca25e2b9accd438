//go:build !e2e

package canary

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	kubefake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// newKubeEnv without -tags e2e is client-go's fake clientsets. STOPGAP: they
// check no schema, no CRD, no generation bump and no RBAC, so passing here
// says only that the release logic drives the objects as intended; the real
// kube-apiserver run is `make canary-e2e` (kube_e2e_test.go).
func newKubeEnv(t *testing.T) kubeEnv {
	t.Helper()
	scheme := runtime.NewScheme()
	dc := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(scheme, map[schema.GroupVersionResource]string{
		HTTPRouteResource:     "HTTPRouteList",
		TrafficSplitResource:  "TrafficSplitList",
		FlaggerCanaryResource: "CanaryList",
		ArgoRolloutResource:   "RolloutList",
	})
	emulateStatusSubresource(dc, FlaggerCanaryResource, ArgoRolloutResource)
	return kubeEnv{kc: kubefake.NewClientset(), dc: dc}
}

// emulateStatusSubresource makes the fake dynamic client treat resources the
// way the API server treats a CRD with a status subresource, which the
// controller tests rely on: create sets generation 1 and drops the status,
// an update keeps the stored status and raises the generation when the spec
// changed, and an update of "status" changes the status only. The fake
// tracker alone replaces whole objects and never sets a generation.
func emulateStatusSubresource(dc *dynamicfake.FakeDynamicClient, gvrs ...schema.GroupVersionResource) {
	for _, gvr := range gvrs {
		dc.PrependReactor("create", gvr.Resource, func(action k8stesting.Action) (bool, runtime.Object, error) {
			if action.GetResource() != gvr {
				return false, nil, nil
			}
			u := action.(k8stesting.CreateAction).GetObject().(*unstructured.Unstructured).DeepCopy()
			u.SetGeneration(1)
			delete(u.Object, "status")
			return true, u, dc.Tracker().Create(gvr, u, u.GetNamespace())
		})
		dc.PrependReactor("update", gvr.Resource, func(action k8stesting.Action) (bool, runtime.Object, error) {
			if action.GetResource() != gvr {
				return false, nil, nil
			}
			ua := action.(k8stesting.UpdateAction)
			in := ua.GetObject().(*unstructured.Unstructured)
			stored, err := dc.Tracker().Get(gvr, in.GetNamespace(), in.GetName())
			if err != nil {
				return true, nil, err
			}
			cur := stored.(*unstructured.Unstructured)
			// keep copies the status of from, or its absence, into to.
			keep := func(to, from *unstructured.Unstructured) {
				delete(to.Object, "status")
				if st, ok := from.Object["status"]; ok {
					to.Object["status"] = runtime.DeepCopyJSONValue(st)
				}
			}
			var out *unstructured.Unstructured
			if ua.GetSubresource() == "status" {
				out = cur.DeepCopy()
				keep(out, in)
			} else {
				out = in.DeepCopy()
				keep(out, cur)
				out.SetGeneration(cur.GetGeneration())
				if !equality.Semantic.DeepEqual(in.Object["spec"], cur.Object["spec"]) {
					out.SetGeneration(cur.GetGeneration() + 1)
				}
			}
			return true, out, dc.Tracker().Update(gvr, out, out.GetNamespace())
		})
	}
}
