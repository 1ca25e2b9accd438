//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pipewright/pipewright/test/controlplane"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	appsv1 "k8s.io/api/apps/v1"
)

// TestCanaryReleaseTaskRun runs the catalog's canary-release Task on the
// node: the step runs pipewright from the tool image built from this
// checkout, as the run's own service account, creates the canary
// Deployment and Service beside the stable ones, shifts the HTTPRoute's
// weights (the real Gateway API CRD), asks a real Prometheus for the
// canary's success rate and p99 latency at each step, promotes, and removes
// the canary. No request flows through the route here (TestRealTraffic
// sends some through Traefik): Prometheus scrapes healthy figures the test
// serves for both tracks, as pkg/canary's tests do.
func TestCanaryReleaseTaskRun(t *testing.T) {
	ctx := context.Background()
	ns := "canary-run"
	namespace(t, ns)
	installHTTPRoutes(t)
	prom := startPrometheus(t, serveHealthyMetrics(t, "hello"))

	applyCatalog(t, ns)
	stable, canary := cp.Images().Base, cp.Images().Standins["golang"]
	objects := `apiVersion: v1
kind: ServiceAccount
metadata: {name: releaser}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: releaser}
rules:
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [""]
  resources: [services]
  verbs: [get, list, create, update, patch, delete]
- apiGroups: [gateway.networking.k8s.io]
  resources: [httproutes]
  verbs: [get, list, update, patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: releaser}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: releaser}
subjects: [{kind: ServiceAccount, name: releaser}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: hello}
spec:
  replicas: 1
  selector: {matchLabels: {app: hello, track: stable}}
  template:
    metadata: {labels: {app: hello, track: stable}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: hello
        image: ` + stable + `
        command: ["/bin/sleep", "3600"]
---
apiVersion: v1
kind: Service
metadata: {name: hello}
spec:
  selector: {app: hello, track: stable}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: hello}
spec:
  rules:
  - backendRefs: [{name: hello, port: 80}]
`
	if out, err := cp.Kubectl(ctx, []byte(objects), "apply", "-n", ns, "-f", "-"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if _, err := cp.Kubectl(ctx, nil, "rollout", "status", "deployment/hello", "-n", ns, "--timeout=2m"); err != nil {
		t.Fatal(err)
	}
	tr := `apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: release}
spec:
  taskRef: {name: canary-release}
  serviceAccountName: releaser
  params:
  - {name: pipewright-image, value: "` + cp.Images().Tool + `"}
  - {name: image, value: "` + canary + `"}
  - {name: app, value: hello}
  - {name: namespace, value: ` + ns + `}
  - {name: container, value: hello}
  - {name: prometheus, value: "` + prom + `"}
  - {name: steps, value: "50,100"}
  - {name: interval, value: 2s}
  - {name: samples, value: "1"}
  - {name: deadline, value: 2m}
  workspaces: [{name: output, emptyDir: {}}]
`
	if out, err := cp.Kubectl(ctx, []byte(tr), "apply", "-n", ns, "-f", "-"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var run v1.TaskRun
	err := cp.WaitFor(ctx, 5*time.Minute, func() (bool, error) {
		if err := cp.Get(ctx, ns, "taskrun", "release", &run); err != nil {
			return false, err
		}
		c := run.Status.GetCondition("Succeeded")
		return c != nil && !c.IsUnknown(), nil
	})
	logs := ""
	if run.Status.PodName != "" {
		out, _ := cp.Kubectl(ctx, nil, "logs", "-n", ns, run.Status.PodName, "-c", "step-release")
		logs = string(out)
	}
	if err != nil || !run.Status.GetCondition("Succeeded").IsTrue() {
		t.Fatalf("canary-release TaskRun: %v %s\n%s", err, run.Status.GetCondition("Succeeded").GetMessage(), logs)
	}
	if got := result(run, "outcome"); got != "promoted" {
		t.Errorf("outcome = %q, want promoted\n%s", got, logs)
	}
	if got := result(run, "final-weight"); got != "100" {
		t.Errorf("final-weight = %q, want 100", got)
	}
	var d appsv1.Deployment
	if err := cp.Get(ctx, ns, "deployment", "hello", &d); err != nil {
		t.Fatal(err)
	}
	if img := d.Spec.Template.Spec.Containers[0].Image; img != canary {
		t.Errorf("stable Deployment runs %s after promotion, want %s", img, canary)
	}
	// Promotion scales the canary to zero and sends every request to stable.
	var c appsv1.Deployment
	if err := cp.Get(ctx, ns, "deployment", "hello-canary", &c); err != nil {
		t.Fatal(err)
	}
	if c.Spec.Replicas == nil || *c.Spec.Replicas != 0 {
		t.Errorf("canary Deployment replicas = %v after promotion, want 0", c.Spec.Replicas)
	}
	weights, err := cp.Kubectl(ctx, nil, "get", "httproute", "hello", "-n", ns, "-o", `jsonpath={range .spec.rules[0].backendRefs[*]}{.name}={.weight} {end}`)
	if err != nil || strings.TrimSpace(string(weights)) != "hello=100 hello-canary=0" {
		t.Errorf("HTTPRoute weights after promotion = %q (%v), want hello=100 hello-canary=0", weights, err)
	}
	t.Logf("release log:\n%s", logs)
}

// installHTTPRoutes installs the Gateway API CRDs of the version the
// node's Gateway (Traefik) is built against, so that every test of the
// suite sees the same ones.
func installHTTPRoutes(t *testing.T) {
	t.Helper()
	if err := cp.InstallGatewayAPI(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// serveHealthyMetrics serves, on the node's address, Prometheus metrics of
// an app whose stable and canary tracks both answer every request with 200
// within 50 ms, at 10 requests per second, and returns host:port.
func serveHealthyMetrics(t *testing.T, app string) string {
	l, err := net.Listen("tcp", net.JoinHostPort(controlplane.NodeIP, "0"))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(time.Since(start).Seconds()*10) + 1
		for _, track := range []string{"stable", "canary"} {
			fmt.Fprintf(w, "http_requests_total{app=%q,track=%q,code=\"200\"} %d\n", app, track, n)
			for _, le := range []string{"0.05", "0.1", "+Inf"} {
				fmt.Fprintf(w, "http_request_duration_seconds_bucket{app=%q,track=%q,le=%q} %d\n", app, track, le, n)
			}
		}
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

// startPrometheus runs Debian's Prometheus on the node's address, scraping
// target every second, and returns its URL as Pods see it.
func startPrometheus(t *testing.T, target string) string {
	return runPrometheus(t, fmt.Sprintf("- job_name: app\n  static_configs: [{targets: [%q]}]\n", target)).URL
}

// promServer is a Prometheus the test runs; Stop ends it early (it ends
// with the test anyway).
type promServer struct {
	URL  string
	stop func()
}

func (p *promServer) Stop() { p.stop() }

// runPrometheus runs Debian's Prometheus on the node's address with the
// scrape configs given (YAML list items), scraping every second.
func runPrometheus(t *testing.T, scrapeConfigs string) *promServer {
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatalf("prometheus: %v (make e2e installs it with test/prometheus.sh)", err)
	}
	dir := t.TempDir()
	cfg := "global: {scrape_interval: 1s, evaluation_interval: 1s}\nscrape_configs:\n" + scrapeConfigs
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", net.JoinHostPort(controlplane.NodeIP, "0"))
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	logf, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			logf.Close()
		})
	}
	t.Cleanup(stop)
	url := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return &promServer{URL: url, stop: stop}
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "prometheus.log"))
			t.Fatalf("prometheus not ready at %s: %v\n%s", url, err, b)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
