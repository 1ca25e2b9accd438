//go:build e2e

package canary

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/pipewright/pipewright/test/controlplane"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"
)

// With -tags e2e every test of the package runs inside the control-plane
// sandbox (test/controlplane): a real etcd and kube-apiserver, no Tekton,
// with the Gateway API's HTTPRoute CRD applied. Prometheus and the test app
// run on the sandbox's loopback.
var realEnv kubeEnv

func TestMain(m *testing.M) { os.Exit(runE2E(m)) }

func runE2E(m *testing.M) int {
	sb, err := controlplane.Isolate()
	if err != nil {
		fmt.Fprintln(os.Stderr, "canary e2e:", err)
		return 1
	}
	defer sb.Close()
	ctx := context.Background()
	cp, err := controlplane.Start(ctx, sb, controlplane.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "canary e2e: starting the control plane:", err)
		return 1
	}
	code := 1
	defer func() {
		if err := cp.Stop(code != 0); err != nil {
			fmt.Fprintln(os.Stderr, "canary e2e: stopping the control plane:", err)
		}
	}()
	if err := setUpRealEnv(ctx, cp.Kubeconfig); err != nil {
		fmt.Fprintln(os.Stderr, "canary e2e:", err)
		fmt.Fprintln(os.Stderr, cp.Logs(15))
		return code
	}
	code = m.Run()
	return code
}

func setUpRealEnv(ctx context.Context, kubeconfig string) error {
	rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	kc, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return err
	}
	dc, err := dynamic.NewForConfig(rc)
	if err != nil {
		return err
	}
	// The upstream CRD, created (not client-side applied: it is larger than
	// the last-applied annotation may be).
	b, err := os.ReadFile("testdata/gateway.networking.k8s.io_httproutes.yaml")
	if err != nil {
		return err
	}
	var crd unstructured.Unstructured
	if err := yaml.Unmarshal(b, &crd.Object); err != nil {
		return fmt.Errorf("HTTPRoute CRD: %w", err)
	}
	crds := dc.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"})
	if _, err := crds.Create(ctx, &crd, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating the HTTPRoute CRD: %w", err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		// Established, and served: a list answers.
		_, err := dc.Resource(HTTPRouteResource).Namespace("default").List(ctx, metav1.ListOptions{})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("HTTPRoute CRD not served after 1m: %w", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	realEnv = kubeEnv{kc: kc, dc: dc, real: true}
	return nil
}

func newKubeEnv(t *testing.T) kubeEnv {
	t.Helper()
	return realEnv
}
