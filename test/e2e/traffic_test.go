//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pipewright/pipewright/pkg/canary"
	"github.com/pipewright/pipewright/test/controlplane"
	"github.com/pipewright/pipewright/test/loadgen"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"
)

// The demo app's repository as the git server holds it: examples/go (its
// module and its command), with a version in its greeting, and manifests
// whose Deployment and Service are the stable track of a canary.
const (
	trafficOwner = "Codertocat"
	trafficRepo  = "traffic-demo"
	trafficApp   = "hello-world"
	// failEvery: the failing version answers 500 to every third request.
	failEvery = 3
	// trafficRate is the users' requests per second through the Gateway.
	trafficRate = 20
)

var trafficManifests = appSpec{name: "hello-world", stable: true, grace: 5, container: `        # The Gateway learns that a Pod is going a moment after it is told
        # to go; serving on for that moment is what keeps users from
        # errors, behind any proxy.
        lifecycle: {preStop: {sleep: {seconds: 3}}}
        # A TCP check: an HTTP one would count among the requests a
        # failing version fails.
        readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
`}.manifests()

// demoMain is examples/go's command answering version instead of its
// greeting; with failing, every third request gets a 500.
func demoMain(t *testing.T, version string, failing bool) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(), "examples", "go", "cmd", "hello", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	const handler = `http.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "Hello, World!") })`
	if !strings.Contains(src, handler) {
		t.Fatalf("examples/go/cmd/hello/main.go no longer has the handler line %s", handler)
	}
	if !failing {
		return strings.Replace(src, handler, strings.Replace(handler, "Hello, World!", version, 1), 1)
	}
	src = strings.Replace(src, "\t\"net/http\"\n", "\t\"net/http\"\n\t\"sync/atomic\"\n", 1)
	return strings.Replace(src, handler, fmt.Sprintf(`var n atomic.Int64
	http.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		if n.Add(1)%%%d == 0 {
			w.WriteHeader(http.StatusInternalServerError)
		}
		fmt.Fprintln(w, %q)
	})`, failEvery, version), 1)
}

// trafficBuild is the demo's build and image config.
func trafficBuild() string {
	return fmt.Sprintf(`build:
  pack: go
  test: {params: {race: "false", junit-report: ""}}
image: {repository: %s/codertocat/traffic-demo, builder: go-image, package: ./cmd/hello}
`, cp.Registry())
}

// traefikScrape is Prometheus' job for Traefik's metrics. The canary's
// analysis reads http_requests_total and
// http_request_duration_seconds_bucket labelled app and track (see
// canary.DefaultMetrics); Traefik counts per service, named
// <namespace>-<Service>-http-<port>@kubernetesgateway for an HTTPRoute's
// backend. The relabelling names Traefik's per-service series the way the
// analysis reads them: <app>-canary's backend is track canary of app <app>,
// any other backend of the namespace track stable.
func traefikScrape(target, ns string) string {
	svc := ns + `-(.+)-http-[0-9]+@kubernetesgateway`
	canarySvc := ns + `-(.+)-canary-http-[0-9]+@kubernetesgateway`
	return fmt.Sprintf(`- job_name: traefik
  static_configs: [{targets: [%q]}]
  metric_relabel_configs:
  - {source_labels: [service], regex: %q, target_label: track, replacement: canary}
  - {source_labels: [service], regex: %q, target_label: app, replacement: "$1"}
  - {source_labels: [track, service], regex: %q, target_label: app, replacement: "$1"}
  - {source_labels: [track, service], regex: %q, target_label: track, replacement: stable}
  - {source_labels: [__name__], regex: traefik_service_requests_total, target_label: __name__, replacement: http_requests_total}
  - {source_labels: [__name__], regex: traefik_service_request_duration_seconds_bucket, target_label: __name__, replacement: http_request_duration_seconds_bucket}
`, target, canarySvc, canarySvc, ";"+svc, ";"+svc)
}

// weightPoint is the canary's weight on the route from At on.
type weightPoint struct {
	At     time.Time
	Canary int
}

// weightRecorder polls the HTTPRoute and keeps every change of the
// canary's weight: what the release did to traffic, as the cluster saw it.
type weightRecorder struct {
	mu     sync.Mutex
	points []weightPoint
	stop   func()
}

func recordWeights(t *testing.T, ns, route, canaryService string) *weightRecorder {
	cfg, err := clientcmd.BuildConfigFromFlags("", cp.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	dc, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	r := &weightRecorder{stop: func() { cancel(); <-done }}
	go func() {
		defer close(done)
		last := -1
		for {
			u, err := dc.Resource(canary.HTTPRouteResource).Namespace(ns).Get(ctx, route, metav1.GetOptions{})
			if err == nil {
				if w := canaryWeight(u, canaryService); w != last {
					r.mu.Lock()
					r.points = append(r.points, weightPoint{At: time.Now(), Canary: w})
					r.mu.Unlock()
					last = w
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(r.stop)
	return r
}

// canaryWeight is the canary backend's weight in the route's first rule
// (0 without one).
func canaryWeight(u *unstructured.Unstructured, canaryService string) int {
	rules, _, _ := unstructured.NestedSlice(u.Object, "spec", "rules")
	if len(rules) == 0 {
		return 0
	}
	refs, _, _ := unstructured.NestedSlice(rules[0].(map[string]any), "backendRefs")
	for _, r := range refs {
		ref, _ := r.(map[string]any)
		if ref["name"] == canaryService {
			w, _, _ := unstructured.NestedInt64(ref, "weight")
			return int(w)
		}
	}
	return 0
}

// at is the canary's weight at time x.
func (r *weightRecorder) at(x time.Time) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := 0
	for _, p := range r.points {
		if p.At.After(x) {
			break
		}
		w = p.Canary
	}
	return w
}

// between lists the changes in [from, to).
func (r *weightRecorder) between(from, to time.Time) []weightPoint {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []weightPoint
	for _, p := range r.points {
		if !p.At.Before(from) && p.At.Before(to) {
			out = append(out, p)
		}
	}
	return out
}

// releaseFigures is what one release did, for the closing note.
type releaseFigures struct {
	Name     string
	Outcome  string
	Summary  string
	Weights  []weightPoint
	Exposure time.Duration // first canary weight > 0 until back to 0 or promoted
	Decision time.Duration // the deploy Task: canary start to decision carried out
	Users    loadgen.Summary
	// ExpectedFailures is the failing version's share times the weight it
	// had when each request was sent, summed over the requests.
	ExpectedFailures float64
}

func (f releaseFigures) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s after %s in the deploy Task; canary exposed to users for %s\n", f.Name, f.Outcome, f.Decision.Round(100*time.Millisecond), f.Exposure.Round(100*time.Millisecond))
	fmt.Fprintf(&b, "  summary: %s\n  weights:", f.Summary)
	if len(f.Weights) > 0 {
		t0 := f.Weights[0].At
		for _, p := range f.Weights {
			fmt.Fprintf(&b, " +%.1fs→%d%%", p.At.Sub(t0).Seconds(), p.Canary)
		}
	}
	fmt.Fprintf(&b, "\n  users saw: %s", f.Users)
	if f.ExpectedFailures > 0 {
		fmt.Fprintf(&b, " (expected from the failing share × weight: %.1f)", f.ExpectedFailures)
	}
	return b.String()
}

// TestRealTraffic releases the demo app (examples/go) through real traffic:
// Traefik, built from its module and run as a Pod, is the Gateway; a load
// generator in the test sends steady requests through it; Prometheus scrapes
// Traefik's per-service metrics; and the generated release pipeline
// (go-image, deploy.strategy canary) shifts the HTTPRoute's weights:
//
//  1. release 1 goes out with a rolling deploy, the way a project starts;
//  2. a good release 2 is promoted: stable runs its digest, users saw no errors;
//  3. release 3 fails one request in three: rolled back by itself, GitHub gets
//     the failure canary status with the figures, and the errors users saw
//     stay within its share times its weight;
//  4. release 4 loses Prometheus mid-release: never promoted.
func TestRealTraffic(t *testing.T) {
	ctx := context.Background()
	ns := "traffic"
	gw, err := cp.StartTraefik(ctx)
	if err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(repoRoot(), "examples", "go", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	// Release 1: a rolling deploy.
	s := startStory(t, &story{ns: ns, app: trafficApp, repo: trafficOwner + "/" + trafficRepo, build: trafficBuild()}, map[string]string{
		"go.mod":            string(gomod),
		"cmd/hello/main.go": demoMain(t, "release 1", false),
		"k8s/app.yaml":      trafficManifests,
	}, "deploy:\n  strategy: rolling\n")
	prom := runPrometheus(t, traefikScrape(gw.Metrics, ns))
	push := func(sha string) { s.push(t, sha) }
	sha := s.head
	digest1 := trafficRelease(t, ns, push, sha, true).digest
	expectServing(t, ns, trafficApp, digest1, "release 1")

	// The platform's part: the route from the Gateway to the stable Service.
	route := fmt.Sprintf(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: %s, namespace: %s}
spec:
  parentRefs: [{name: %s, namespace: %s}]
  rules:
  - backendRefs: [{name: %s, port: 80}]
`, trafficApp, ns, controlplane.Gateway, controlplane.GatewayNamespace, trafficApp)
	if out, err := cp.Kubectl(ctx, []byte(route), "apply", "-f", "-"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var body string
	err = cp.WaitFor(ctx, time.Minute, func() (bool, error) {
		body, err = httpGet(gw.URL + "/")
		return err == nil && strings.TrimSpace(body) == "release 1", nil
	})
	if err != nil {
		logs, _ := cp.Kubectl(ctx, nil, "logs", "-n", controlplane.GatewayNamespace, "deployment/traefik", "--tail=30")
		t.Fatalf("the Gateway does not answer with release 1 (last %q): %v\ntraefik:\n%s", body, err, logs)
	}

	// From here on users send 20 requests a second through the Gateway.
	// A patient user (5s): on a busy 2-core machine the sandbox's own
	// scheduling delays reach seconds, which is not what is measured here;
	// requests left without an answer are counted and shown apart from the
	// errors the Gateway served.
	// They reach Traefik's Pod directly, as a cloud load balancer would.
	users, err := loadgen.Start(ctx, loadgen.Config{URL: gw.PodURL + "/", Rate: trafficRate, Timeout: 5 * time.Second, MaxInFlight: 150})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(users.Stop)
	weights := recordWeights(t, ns, trafficApp, canary.CanaryName(trafficApp))
	expectStableData(t, prom.URL)

	// Switch the project to canary releases.
	s.apply(t, "deploy:\n"+fmt.Sprintf(`  strategy: canary
  canary:
    steps: [20, 50, 100]
    interval: 5s
    samples: 2
    failureLimit: 2
    # A busy 2-core machine's p99 is not the app's: keep the bound loose,
    # the success rate is what these releases judge.
    latencyP99: 2s
    prometheus: %s
    deadline: 3m
`, prom.URL))
	var figures []releaseFigures
	defer func() {
		var b strings.Builder
		for _, f := range figures {
			b.WriteString(f.String() + "\n")
		}
		t.Logf("real-traffic releases:\n%s", b.String())
	}()
	measure := func(name string, r trafficResult, failShare float64) releaseFigures {
		f := releaseFigures{Name: name, Outcome: r.outcome, Summary: r.summary, Decision: r.decision}
		f.Weights = weights.between(r.started, r.finished)
		var first, last time.Time
		for _, p := range f.Weights {
			if p.Canary > 0 && first.IsZero() {
				first = p.At
			}
			if !first.IsZero() {
				last = p.At
			}
		}
		if !first.IsZero() {
			f.Exposure = last.Sub(first)
		}
		sent := users.Outcomes(r.started, r.finished)
		f.Users = loadgen.Summarize(sent)
		for _, o := range sent {
			f.ExpectedFailures += failShare * float64(weights.at(o.At)) / 100
		}
		figures = append(figures, f)
		t.Logf("%s: the canary step's log:\n%s", name, r.logs)
		return f
	}

	// Release 2, good: promoted, stable runs it, users saw no errors.
	sha2, err := cp.Git.Commit(trafficOwner, trafficRepo, map[string]string{"cmd/hello/main.go": demoMain(t, "release 2", false)}, "release 2")
	if err != nil {
		t.Fatal(err)
	}
	r2 := trafficRelease(t, ns, push, sha2, true)
	f2 := measure("release 2 (good)", r2, 0)
	if r2.outcome != "promoted" {
		t.Fatalf("release 2: outcome %q, want promoted\n%s", r2.outcome, r2.logs)
	}
	expectServing(t, ns, trafficApp, r2.digest, "release 2")
	expectStableOnly(t, ns)
	if got := statesFor(sha2, "pipewright/"+trafficApp+"/canary"); strings.Join(got, ",") != "success" {
		t.Errorf("canary statuses for release 2 = %v, want success", got)
	}
	if f2.Users.ByVersion["release 2"][200] == 0 {
		t.Errorf("no user was answered by release 2 during its canary: %s", f2.Users)
	}
	// A request cut by a Pod going away during the promotion is possible;
	// more than one in a hundred is not.
	if f2.Users.Served5xx > f2.Users.Total/100 {
		t.Errorf("users were served %d errors during a good release: %s", f2.Users.Served5xx, f2.Users)
	}

	// Release 3 fails one request in three: rolled back by itself.
	sha3, err := cp.Git.Commit(trafficOwner, trafficRepo, map[string]string{"cmd/hello/main.go": demoMain(t, "release 3", true)}, "release 3")
	if err != nil {
		t.Fatal(err)
	}
	r3 := trafficRelease(t, ns, push, sha3, false)
	f3 := measure("release 3 (fails 1 in 3)", r3, 1.0/failEvery)
	if r3.outcome != "rolled-back" {
		t.Fatalf("release 3: outcome %q, want rolled-back\n%s", r3.outcome, r3.logs)
	}
	expectServing(t, ns, trafficApp, r2.digest, "release 2")
	expectStableOnly(t, ns)
	expectCanaryStatus(t, sha3, "failure")
	bad := f3.Users.ByVersion["release 3"][500]
	if bad == 0 {
		t.Errorf("no user got an error from release 3: its failures never met real traffic (%s)", f3.Users)
	}
	// Users' errors: the failing version's share times its weight, with
	// room for chance (a binomial count's 3 standard deviations) and for
	// the moment Traefik takes to apply a route change (the weights are
	// read from the route, before Traefik acts on them): two seconds of
	// traffic at the highest weight.
	maxWeight := 0
	for _, p := range f3.Weights {
		maxWeight = max(maxWeight, p.Canary)
	}
	lag := 2 * trafficRate * float64(maxWeight) / 100 / failEvery
	if limit := f3.ExpectedFailures + 3*math.Sqrt(f3.ExpectedFailures) + lag + 1; float64(f3.Users.Served5xx) > limit {
		t.Errorf("users were served %d errors during release 3, more than its share × weight allows (%.1f): %s", f3.Users.Served5xx, limit, f3.Users)
	}

	// Release 4 loses Prometheus mid-release: never promoted.
	sha4, err := cp.Git.Commit(trafficOwner, trafficRepo, map[string]string{"cmd/hello/main.go": demoMain(t, "release 4", false)}, "release 4")
	if err != nil {
		t.Fatal(err)
	}
	r4 := trafficReleaseWith(t, ns, push, sha4, false, func(run string) {
		// Once the canary takes traffic, Prometheus goes away.
		err := cp.WaitFor(ctx, 15*time.Minute, func() (bool, error) {
			if weights.at(time.Now()) > 0 {
				return true, nil
			}
			var pr v1.PipelineRun
			if err := cp.Get(ctx, ns, "pipelinerun", run, &pr); err != nil {
				return false, err
			}
			if c := pr.Status.GetCondition("Succeeded"); c != nil && !c.IsUnknown() {
				return false, fmt.Errorf("the run ended first: %s", c.GetMessage())
			}
			return false, nil
		})
		if err != nil {
			t.Errorf("release 4 never shifted traffic: %v", err)
		}
		prom.Stop()
	})
	f4 := measure("release 4 (Prometheus stopped)", r4, 0)
	if r4.outcome == "promoted" {
		t.Fatalf("release 4 was promoted without Prometheus\n%s", r4.logs)
	}
	expectServing(t, ns, trafficApp, r2.digest, "release 2")
	expectStableOnly(t, ns)
	expectCanaryStatus(t, sha4, "failure")
	if f4.Users.Served5xx > f4.Users.Total/100 {
		t.Errorf("users were served %d errors while release 4 was held back: %s", f4.Users.Served5xx, f4.Users)
	}
}

type trafficResult struct {
	digest, outcome, summary, logs string
	started, finished              time.Time
	decision                       time.Duration
}

func trafficRelease(t *testing.T, ns string, push func(string), sha string, mustSucceed bool) trafficResult {
	return trafficReleaseWith(t, ns, push, sha, mustSucceed, nil)
}

// trafficReleaseWith pushes sha, runs during (if any) while the release
// runs, and waits for the release run.
func trafficReleaseWith(t *testing.T, ns string, push func(string), sha string, mustSucceed bool, during func(run string)) trafficResult {
	t.Helper()
	seen := map[string]bool{}
	before, _ := pipelineRuns(context.Background(), ns)
	for _, r := range before {
		seen[r.Name] = true
	}
	res := trafficResult{started: time.Now()}
	push(sha)
	name := waitNewRun(t, ns, trafficApp+"-release", seen)
	if during != nil {
		during(name)
	}
	run := waitPipelineRun(t, ns, name, 20*time.Minute)
	res.finished = time.Now()
	runs := taskRuns(t, ns, name)
	reportRuns(t, runs)
	ok := run.Status.GetCondition("Succeeded").IsTrue()
	if mustSucceed && !ok {
		t.Fatalf("release run %s: %s\n%s", name, run.Status.GetCondition("Succeeded").GetMessage(), failedLogs(ns, runs))
	}
	res.digest = result(runs["build-image"], "IMAGE_DIGEST")
	if !strings.HasPrefix(res.digest, "sha256:") {
		t.Fatalf("release run %s pushed no digest\n%s", name, failedLogs(ns, runs))
	}
	if got := result(runs["clone"], "commit"); got != sha {
		t.Errorf("release run cloned %s, want %s", got, sha)
	}
	if d, ok := runs["deploy"]; ok {
		res.outcome, res.summary = result(d, "outcome"), result(d, "summary")
		if d.Status.StartTime != nil && d.Status.CompletionTime != nil {
			res.decision = d.Status.CompletionTime.Sub(d.Status.StartTime.Time)
		}
		if d.Status.PodName != "" {
			out, _ := cp.Kubectl(context.Background(), nil, "logs", "-n", ns, d.Status.PodName, "-c", "step-release")
			res.logs = string(out)
		}
	}
	if !ok && res.outcome == "" {
		t.Fatalf("release run %s failed before a canary decision: %s\n%s", name, run.Status.GetCondition("Succeeded").GetMessage(), failedLogs(ns, runs))
	}
	return res
}

// expectStableOnly checks the route sends everything to stable and the
// canary runs no Pod.
func expectStableOnly(t *testing.T, ns string) {
	t.Helper()
	ctx := context.Background()
	out, err := cp.Kubectl(ctx, nil, "get", "httproute", trafficApp, "-n", ns, "-o", `jsonpath={range .spec.rules[0].backendRefs[*]}{.name}={.weight} {end}`)
	got := strings.TrimSpace(string(out))
	if err != nil || (got != trafficApp+"=100 "+canary.CanaryName(trafficApp)+"=0" && got != trafficApp+"=100") {
		t.Errorf("route weights = %q (%v), want all on %s", got, err, trafficApp)
	}
	err = cp.WaitFor(ctx, time.Minute, func() (bool, error) {
		var d appsv1.Deployment
		if err := cp.Get(ctx, ns, "deployment", canary.CanaryName(trafficApp), &d); err != nil {
			return strings.Contains(err.Error(), "NotFound"), nil
		}
		return d.Status.Replicas == 0, nil
	})
	if err != nil {
		t.Errorf("the canary Deployment still runs Pods: %v", err)
	}
}

// expectCanaryStatus checks GitHub got state for sha's canary context, with
// the figures the decision was taken on.
func expectCanaryStatus(t *testing.T, sha, state string) {
	t.Helper()
	var got []string
	for _, r := range cp.GitHub.Requests() {
		if r.Method != "POST" || !strings.HasSuffix(r.Path, "/statuses/"+sha) {
			continue
		}
		body, _ := r.Body.(map[string]any)
		if body["context"] == "pipewright/"+trafficApp+"/canary" {
			got = append(got, fmt.Sprintf("%v: %v", body["state"], body["description"]))
		}
	}
	if len(got) != 1 || !strings.HasPrefix(got[0], state+": ") || len(got[0]) < len(state)+12 {
		t.Errorf("canary statuses for %s = %q, want one %s with the figures", sha, got, state)
	} else {
		t.Logf("GitHub canary status for %s: %s", sha[:8], got[0])
	}
}

// expectStableData waits until Prometheus has the stable track's success
// rate from Traefik's metrics, as the analysis will ask for it.
func expectStableData(t *testing.T, promURL string) {
	t.Helper()
	p := &canary.Prometheus{URL: promURL, Timeout: 5 * time.Second}
	q := fmt.Sprintf(`sum(rate(http_requests_total{app=%q,track="stable"}[1m]))`, trafficApp)
	var v float64
	var err error
	werr := cp.WaitFor(context.Background(), time.Minute, func() (bool, error) {
		v, err = p.Query(context.Background(), q)
		return err == nil && v > 0, nil
	})
	if werr != nil {
		t.Fatalf("Prometheus has no stable request rate from Traefik (%s: %v, %v)", q, v, err)
	}
	t.Logf("Prometheus: the stable track serves %.1f requests/s through Traefik", v)
}
