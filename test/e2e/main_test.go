//go:build e2e

// Package e2e installs pipewright's output into a real control plane (etcd,
// kube-apiserver, Tekton Pipelines and Triggers, all upstream programs run by
// test/controlplane) and checks that the cluster accepts and acts on it. Run
// it with `make e2e`; it needs root, see test/controlplane.
package e2e

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/pipewright/pipewright/test/controlplane"
)

// cp is shared by every test: starting it takes most of the suite's time.
// Tests isolate themselves by namespace.
var cp *controlplane.ControlPlane

func TestMain(m *testing.M) {
	opts := controlplane.Options{Pipelines: true, Triggers: true, Node: true}
	os.Exit(controlplane.RunTests(m, opts, func(c *controlplane.ControlPlane) { cp = c }))
}

// repoRoot is the checkout this test was compiled from.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// namespace creates ns for t and deletes it when t ends. A finished
// test's Pods (EventListeners, interceptors, apps, and the exited step
// containers the kubelet relists every second) would otherwise run through
// the rest of the suite: in a CI run they added up until the 2-core
// machine's API server timed out its own node's lease updates and the
// suite ran out of time. The deletion is not waited for: the namespace
// controller finishes it while the next test runs.
func namespace(t *testing.T, ns string) {
	t.Helper()
	ctx := context.Background()
	if err := cp.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if out, err := cp.Kubectl(ctx, nil, "delete", "namespace", ns, "--wait=false"); err != nil {
			t.Logf("delete namespace %s: %v\n%s", ns, err, out)
		}
	})
}
