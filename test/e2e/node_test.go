//go:build e2e

package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// TestPodRunsInContainer runs a Pod on the node and reads what its process
// printed through `kubectl logs` (API server → kubelet → containerd's log):
// the process ran in its own container, with the hostname and PID namespace
// containerd gave it and a Pod IP from the CNI bridge.
func TestPodRunsInContainer(t *testing.T) {
	ctx := context.Background()
	ns := "node-pod"
	if err := cp.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	pod := `apiVersion: v1
kind: Pod
metadata: {name: hello}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: ` + cp.Images().Base + `
    command: ["/bin/sh", "-c", "echo hello from $(hostname) pid $$$$"]
`
	if out, err := cp.Kubectl(ctx, []byte(pod), "apply", "-n", ns, "-f", "-"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var p corev1.Pod
	err := cp.WaitFor(ctx, 2*time.Minute, func() (bool, error) {
		if err := cp.Get(ctx, ns, "pod", "hello", &p); err != nil {
			return false, err
		}
		return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed, nil
	})
	if err != nil || p.Status.Phase != corev1.PodSucceeded {
		desc, _ := cp.Kubectl(ctx, nil, "describe", "pod", "hello", "-n", ns)
		t.Fatalf("pod did not succeed (phase %s): %v\n%s", p.Status.Phase, err, desc)
	}
	logs, err := cp.Kubectl(ctx, nil, "logs", "hello", "-n", ns)
	if err != nil {
		t.Fatal(err)
	}
	// PID 1 of its own PID namespace, the Pod's name as hostname.
	if want := "hello from hello pid 1"; !strings.Contains(string(logs), want) {
		t.Errorf("logs = %q, want them to contain %q", logs, want)
	}
	if !strings.HasPrefix(p.Status.PodIP, "10.244.0.") {
		t.Errorf("pod IP %q is not from the CNI bridge's range", p.Status.PodIP)
	}
}
