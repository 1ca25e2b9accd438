//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The node's costs, for `make bench-node` (figures in bench-node.txt):
// a Pod from create to Succeeded, and a one-step TaskRun from create to
// Succeeded, each running `true`, against the same command on the host.

func BenchmarkBareCommand(b *testing.B) {
	for b.Loop() {
		if err := exec.Command("/bin/sh", "-c", "true").Run(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPodStart(b *testing.B) {
	ctx := context.Background()
	ns := "bench-pod"
	if err := cp.CreateNamespace(ctx, ns); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		i++
		pod := fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: p%d}
spec:
  restartPolicy: Never
  containers: [{name: main, image: %q, command: ["/bin/sh", "-c", "true"]}]
`, i, cp.Images().Base)
		if out, err := cp.Kubectl(ctx, []byte(pod), "create", "-n", ns, "-f", "-"); err != nil {
			b.Fatalf("%v\n%s", err, out)
		}
		waitJSONPath(b, ns, fmt.Sprintf("pod/p%d", i), "{.status.phase}", "Succeeded")
	}
}

func BenchmarkTaskRunOneStep(b *testing.B) {
	ctx := context.Background()
	ns := "bench-taskrun"
	if err := cp.CreateNamespace(ctx, ns); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		i++
		tr := fmt.Sprintf(`apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: t%d}
spec:
  taskSpec:
    steps: [{name: run, image: %q, script: "#!/bin/sh\ntrue\n"}]
`, i, cp.Images().Base)
		if out, err := cp.Kubectl(ctx, []byte(tr), "create", "-n", ns, "-f", "-"); err != nil {
			b.Fatalf("%v\n%s", err, out)
		}
		waitJSONPath(b, ns, fmt.Sprintf("taskrun/t%d", i), `{.status.conditions[?(@.type=="Succeeded")].status}`, "True")
	}
}

// waitJSONPath polls every 50 ms until the object's jsonpath is want.
func waitJSONPath(b *testing.B, ns, obj, path, want string) {
	b.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		out, err := cp.Kubectl(ctx, nil, "get", obj, "-n", ns, "-o", "jsonpath="+path)
		if err == nil && strings.TrimSpace(string(out)) == want {
			return
		}
		if s := strings.TrimSpace(string(out)); s == "Failed" || s == "False" {
			b.Fatalf("%s: %s", obj, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.Fatalf("%s: %s never became %s", obj, path, want)
}
