//go:build e2e

package e2e

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pipewright/pipewright/generator/catalog"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	corev1 "k8s.io/api/core/v1"
)

// TestGitCloneTaskRunMakesPod runs the catalog's git-clone Task: Tekton's
// webhook accepts the TaskRun and Tekton's controller turns it into a Pod
// whose spec carries the Task's pinned image, the param as an env var and
// the workspace as a volume. No kubelet (or scheduler) runs here, so the Pod
// stays Pending and nothing is cloned; the Pod spec is what is checked.
func TestGitCloneTaskRunMakesPod(t *testing.T) {
	ctx := context.Background()
	ns := "taskrun"
	namespace(t, ns)
	entry, err := catalog.Get("git-clone")
	if err != nil {
		t.Fatal(err)
	}
	task := entry.Task()
	if out, err := cp.Kubectl(ctx, nil, "apply", "-n", ns, "-f", filepath.Join(repoRoot(), entry.Path())); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	const url = "https://github.com/pipewright/example.git"
	tr := `apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: clone}
spec:
  taskRef: {name: git-clone}
  params: [{name: url, value: "` + url + `"}]
  workspaces: [{name: output, emptyDir: {}}]
`
	if out, err := cp.Kubectl(ctx, []byte(tr), "apply", "-n", ns, "-f", "-"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}

	var run v1.TaskRun
	err = cp.WaitFor(ctx, time.Minute, func() (bool, error) {
		if err := cp.Get(ctx, ns, "taskrun", "clone", &run); err != nil {
			return false, err
		}
		return run.Status.PodName != "", nil
	})
	if err != nil {
		t.Fatalf("Tekton's controller made no Pod for the TaskRun (status %+v): %v", run.Status.Conditions, err)
	}
	var pod corev1.Pod
	if err := cp.Get(ctx, ns, "pod", run.Status.PodName, &pod); err != nil {
		t.Fatal(err)
	}
	if pod.Status.Phase != corev1.PodPending {
		t.Errorf("pod phase %s, want Pending (no kubelet runs here)", pod.Status.Phase)
	}

	step := task.Spec.Steps[0]
	var c *corev1.Container
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == "step-"+step.Name {
			c = &pod.Spec.Containers[i]
		}
	}
	if c == nil {
		t.Fatalf("pod has no container step-%s: %+v", step.Name, pod.Spec.Containers)
	}
	if c.Image != step.Image || !strings.Contains(c.Image, "@sha256:") {
		t.Errorf("step image %q, want the catalog's digest-pinned %q", c.Image, step.Image)
	}
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	if got := env[catalog.ParamEnv("url")]; got != url {
		t.Errorf("env %s=%q, want %q", catalog.ParamEnv("url"), got, url)
	}
	wsPath := env["WORKSPACE_OUTPUT_PATH"]
	if wsPath == "" {
		t.Fatalf("no WORKSPACE_OUTPUT_PATH in %v", env)
	}
	var volume string
	for _, m := range c.VolumeMounts {
		if m.MountPath == wsPath {
			volume = m.Name
		}
	}
	if volume == "" {
		t.Fatalf("nothing mounted at the workspace path %s: %+v", wsPath, c.VolumeMounts)
	}
	found := false
	for _, v := range pod.Spec.Volumes {
		if v.Name == volume {
			found = true
			if v.EmptyDir == nil {
				t.Errorf("workspace volume %s is %+v, want the TaskRun's emptyDir", volume, v.VolumeSource)
			}
		}
	}
	if !found {
		t.Errorf("pod has no volume %s for the workspace", volume)
	}
}
