//go:build !e2e

package canary

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	kubefake "k8s.io/client-go/kubernetes/fake"
)

// newKubeEnv without -tags e2e is client-go's fake clientsets. STOPGAP: they
// check no schema, no CRD, no generation bump and no RBAC, so passing here
// says only that the release logic drives the objects as intended; the real
// kube-apiserver run is `make canary-e2e` (kube_e2e_test.go).
func newKubeEnv(t *testing.T) kubeEnv {
	t.Helper()
	scheme := runtime.NewScheme()
	dc := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(scheme, map[schema.GroupVersionResource]string{
		HTTPRouteResource:    "HTTPRouteList",
		TrafficSplitResource: "TrafficSplitList",
	})
	return kubeEnv{kc: kubefake.NewClientset(), dc: dc}
}
