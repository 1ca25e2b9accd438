//go:build e2e

package e2e

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipewright/pipewright/generator/generatortest"
)

// TestProgressiveProjectInstalls generates the built-in example with
// go-image and a canary deploy, applies it with kubectl apply -k through
// Tekton's admission webhooks, then runs the generated canary-release Task
// and checks the Pod Tekton's controller made from it: the step runs the
// tool image the config pinned, with the flags the Task passes. No kubelet
// runs here, so the Pod stays Pending.
func TestProgressiveProjectInstalls(t *testing.T) {
	ctx := context.Background()
	const ns = "progressive"
	if out, err := cp.Kubectl(ctx, nil, "create", "namespace", ns); err != nil && !strings.Contains(string(out), "AlreadyExists") {
		t.Fatalf("create namespace: %v\n%s", err, out)
	}
	tool := generatortest.ToolImage(t)
	tree := generatortest.ProjectWith(t, "  namespace: default\n", "  namespace: "+ns+"\n",
		"tools:\n  image: "+tool+"\ndeploy:\n  strategy: canary\n")
	dir := filepath.Join(t.TempDir(), "tekton")
	if err := tree.Write(dir); err != nil {
		t.Fatal(err)
	}
	if out, err := cp.Kubectl(ctx, nil, "apply", "-k", dir); err != nil {
		t.Fatalf("kubectl apply -k of the canary project was rejected:\n%v\n%s", err, out)
	}
	for _, want := range []string{"tasks.tekton.dev/canary-release", "pipelines.tekton.dev/hello-world-release", "roles.rbac.authorization.k8s.io/hello-world-deployer"} {
		if _, err := cp.Kubectl(ctx, nil, "get", want, "-n", ns); err != nil {
			t.Errorf("kubectl get %s: %v", want, err)
		}
	}

	run := `apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  generateName: canary-release-
spec:
  taskRef: {name: canary-release}
  serviceAccountName: hello-world-release
  params:
    - {name: pipewright-image, value: "` + tool + `"}
    - {name: image, value: "ghcr.io/codertocat/hello-world@sha256:` + strings.Repeat("0", 64) + `"}
    - {name: app, value: hello-world}
    - {name: namespace, value: ` + ns + `}
  workspaces:
    - {name: output, emptyDir: {}}
`
	out, err := cp.Kubectl(ctx, []byte(run), "create", "-n", ns, "-f", "-", "-o", "name")
	if err != nil {
		t.Fatalf("create TaskRun: %v\n%s", err, out)
	}
	name := strings.TrimPrefix(strings.TrimSpace(string(out)), "taskrun.tekton.dev/")
	pod := firstPod(t, ns, "taskrun/"+name, "tekton.dev/taskRun="+name)
	release := stepContainer(t, pod, "release")
	if release.Image != tool {
		t.Errorf("release step image %q, want the pinned tool image %s", release.Image, tool)
	}
	args := strings.Join(release.Args, " ")
	for _, want := range []string{"/app/pipewright", "canary", "--app=hello-world", "--namespace=" + ns, "--fail-on-rollback=false", "--steps=10,25,50,100"} {
		if !strings.Contains(args, want) {
			t.Errorf("release step args lack %q: %s", want, args)
		}
	}
}
