//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
)

// canaryRepo is the hello service with the labels a canary needs (the
// stable track in the Pods and the Service's selector) and its HTTPRoute.
var canaryRepo = map[string]string{
	"go.mod":       storyRepo["go.mod"],
	"main.go":      storyRepo["main.go"],
	"main_test.go": storyRepo["main_test.go"],
	"k8s/app.yaml": appSpec{name: "hello-world", stable: true, grace: 1}.manifests() + `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: hello-world}
spec:
  rules:
  - backendRefs: [{name: hello-world, port: 80}]
`,
}

// TestCanaryStory is a team turning on canary releases: the project's
// first release rolls out as generated with the rolling strategy (the
// stable Deployment, Service and HTTPRoute come from the repository's
// manifests), then the project is regenerated with deploy.strategy canary
// and re-applied, and the next merge's release runs the generated
// canary-release deploy with the generated release service account's own
// token: canary Deployment and Service, HTTPRoute weights stepped, a real
// Prometheus asked at each step (it scrapes healthy figures the test
// serves; real traffic is another test), promoted, and the stable
// Deployment then runs the new digest and answers HTTP.
func TestCanaryStory(t *testing.T) {
	ctx := context.Background()
	installHTTPRoutes(t)
	prom := startPrometheus(t, serveHealthyMetrics(t, "hello-world"))
	// The manifests hold an HTTPRoute: the release may apply it.
	const resources = "  resources: [httproutes.gateway.networking.k8s.io]\n"
	s := newStory(t, "canary-story", "Codertocat/Hello-Canary", canaryRepo, "deploy:\n"+resources)
	digest1 := s.release(t, s.head)
	expectServing(t, s.ns, "hello-world", digest1, "hello from release 1")

	s.apply(t, fmt.Sprintf(`deploy:
  strategy: canary
  canary: {steps: [50, 100], interval: 2s, samples: 1, deadline: 3m, prometheus: %q}
`, prom)+resources)
	next := map[string]string{
		"main.go":      strings.ReplaceAll(canaryRepo["main.go"], "release 1", "release 2"),
		"main_test.go": strings.ReplaceAll(canaryRepo["main_test.go"], "release 1", "release 2"),
	}
	sha := s.commit(t, next, "release 2")
	run, runs := s.releaseRun(t, sha)
	if !run.Status.GetCondition("Succeeded").IsTrue() {
		t.Fatalf("canary release run %s: %s\n%s", run.Name, run.Status.GetCondition("Succeeded").GetMessage(), failedLogs(s.ns, runs))
	}
	deploy, ok := runs["deploy"]
	if !ok || deploy.Spec.TaskRef == nil || deploy.Spec.TaskRef.Name != "canary-release" {
		t.Fatalf("the release's deploy task is not canary-release: %+v", deploy.Spec.TaskRef)
	}
	if deploy.Spec.ServiceAccountName != "hello-world-release" {
		t.Errorf("the canary ran as %q, want the generated hello-world-release", deploy.Spec.ServiceAccountName)
	}
	if got := result(deploy, "outcome"); got != "promoted" {
		out, _ := cp.Kubectl(ctx, nil, "logs", "-n", s.ns, deploy.Status.PodName, "--all-containers")
		t.Fatalf("canary outcome = %q, want promoted\n%s", got, out)
	}
	digest2 := result(runs["build-image"], "IMAGE_DIGEST")
	var d appsv1.Deployment
	if err := cp.Get(ctx, s.ns, "deployment", "hello-world", &d); err != nil {
		t.Fatal(err)
	}
	if img := d.Spec.Template.Spec.Containers[0].Image; !strings.HasSuffix(img, "@"+digest2) {
		t.Errorf("stable Deployment runs %s after promotion, want the release's %s", img, digest2)
	}
	weights, err := cp.Kubectl(ctx, nil, "get", "httproute", "hello-world", "-n", s.ns, "-o", `jsonpath={range .spec.rules[0].backendRefs[*]}{.name}={.weight} {end}`)
	if err != nil || strings.TrimSpace(string(weights)) != "hello-world=100 hello-world-canary=0" {
		t.Errorf("HTTPRoute weights after promotion = %q (%v), want hello-world=100 hello-world-canary=0", weights, err)
	}
	if got := statesFor(sha, "pipewright/hello-world/canary"); strings.Join(got, ",") != "success" {
		t.Errorf("canary statuses for %s = %v, want success", sha, got)
	}
	expectServing(t, s.ns, "hello-world", digest2, "hello from release 2")
}
