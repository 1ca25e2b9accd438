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
	namespace(t, ns)
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

// TestClaimDefaults shows on the node the two facts the generated runs are
// built around, with Tekton at its default feature flags: a step running
// as uid 65532 cannot write a freshly provisioned claim without fsGroup (and
// can with it), and a TaskRun may not bind two claims (coschedule:
// workspaces).
func TestClaimDefaults(t *testing.T) {
	ctx := context.Background()
	ns := "claims"
	namespace(t, ns)
	base := cp.Images().Base
	taskRun := func(name, podTemplate string) string {
		return `apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: ` + name + `}
spec:
  taskSpec:
    workspaces: [{name: data}]
    steps:
    - name: write
      image: ` + base + `
      securityContext: {runAsUser: 65532, runAsNonRoot: true, allowPrivilegeEscalation: false}
      script: |
        #!/bin/sh
        set -e
        touch "$(workspaces.data.path)/written"
` + podTemplate + `  workspaces:
  - name: data
    volumeClaimTemplate:
      spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 10Mi}}}
`
	}
	runs := taskRun("no-fsgroup", "") + "---\n" + taskRun("fsgroup", "  podTemplate:\n    securityContext: {fsGroup: 65532}\n")
	runs += `---
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: two-claims}
spec:
  pipelineSpec:
    workspaces: [{name: a}, {name: b}]
    tasks:
    - name: both
      workspaces: [{name: a, workspace: a}, {name: b, workspace: b}]
      taskSpec:
        workspaces: [{name: a}, {name: b}]
        steps: [{name: run, image: "` + base + `", script: "#!/bin/sh\ntrue\n"}]
  workspaces:
  - name: a
    volumeClaimTemplate: {spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 10Mi}}}}
  - name: b
    volumeClaimTemplate: {spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 10Mi}}}}
`
	if out, err := cp.Kubectl(ctx, []byte(runs), "apply", "-n", ns, "-f", "-"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	done := func(kind, name string) (status, message string) {
		var obj struct {
			Status struct {
				Conditions []struct{ Type, Status, Message string } `json:"conditions"`
			} `json:"status"`
		}
		err := cp.WaitFor(ctx, 3*time.Minute, func() (bool, error) {
			if err := cp.Get(ctx, ns, kind, name, &obj); err != nil {
				return false, err
			}
			for _, c := range obj.Status.Conditions {
				if c.Type == "Succeeded" && c.Status != "Unknown" {
					status, message = c.Status, c.Message
					return true, nil
				}
			}
			return false, nil
		})
		if err != nil {
			t.Fatalf("%s %s did not finish: %v", kind, name, err)
		}
		return status, message
	}
	if st, msg := done("taskrun", "no-fsgroup"); st != "False" {
		t.Errorf("a uid 65532 step wrote a fresh claim without fsGroup (status %s %s); the provisioner must hand out root-owned 0755 volumes", st, msg)
	}
	if st, msg := done("taskrun", "fsgroup"); st != "True" {
		t.Errorf("with fsGroup 65532 the step could not write the claim: %s", msg)
	}
	if st, _ := done("pipelinerun", "two-claims"); st != "False" {
		t.Errorf("a PipelineRun whose task binds two claims succeeded; want it refused under coschedule: workspaces")
	}
	if st, msg := done("taskrun", "two-claims-both"); st != "False" || !strings.Contains(msg, "more than one PersistentVolumeClaim") {
		t.Errorf("the TaskRun binding two claims: status %s %q, want Tekton's refusal (more than one PersistentVolumeClaim is bound)", st, msg)
	}
}
