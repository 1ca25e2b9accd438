//go:build e2e

// Package e2e installs pipewright's output into a real control plane (etcd,
// kube-apiserver, Tekton Pipelines and Triggers, all upstream programs run by
// test/controlplane) and checks that the cluster accepts and acts on it. Run
// it with `make e2e`; it needs root, see test/controlplane.
package e2e

import (
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
