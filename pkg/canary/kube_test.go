package canary

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

// kubeEnv is an API server to run releases against: the real kube-apiserver
// with -tags e2e (kube_e2e_test.go), client-go's fake clientsets otherwise
// (kube_fake_test.go, a stopgap that proves no API server behaviour).
type kubeEnv struct {
	kc         kubernetes.Interface
	dc         dynamic.Interface
	real       bool
	kubeconfig string // the real API server's, for other processes
}

// seed creates the app as a team would have it before its first canary: the
// stable Deployment (track=stable) and Service, and an HTTPRoute to it.
func seed(t *testing.T, env kubeEnv, ns, app, image string) {
	t.Helper()
	ctx := context.Background()
	if _, err := env.kc.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	replicas := int32(2)
	labels := map[string]string{"app": app, TrackLabel: "stable"}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: app, Namespace: ns, Labels: map[string]string{"app": app}},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": app, TrackLabel: "stable"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "app", Image: image,
					Ports: []corev1.ContainerPort{{ContainerPort: 8080}},
				}}},
			},
		},
	}
	if _, err := env.kc.AppsV1().Deployments(ns).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: app, Namespace: ns},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": app, TrackLabel: "stable"},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80}},
		},
	}
	if _, err := env.kc.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	route := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "gateway.networking.k8s.io/v1",
		"kind":       "HTTPRoute",
		"metadata":   map[string]any{"name": app, "namespace": ns},
		"spec": map[string]any{
			"parentRefs": []any{map[string]any{"name": "gateway", "namespace": "infra"}},
			"hostnames":  []any{app + ".example.com"},
			"rules": []any{map[string]any{
				"backendRefs": []any{map[string]any{"name": app, "port": int64(80)}},
			}},
		},
	}}
	if _, err := env.dc.Resource(HTTPRouteResource).Namespace(ns).Create(ctx, route, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// standInKubelet plays the controller-manager and kubelet, which this API
// server does not run: it writes each Deployment's status as if all its
// replicas were up, except for Deployments named in stuck. Without it no
// Deployment would ever become available.
func standInKubelet(t *testing.T, env kubeEnv, ns string, stuck ...string) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			list, err := env.kc.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
			if err == nil {
				for _, d := range list.Items {
					if contains(stuck, d.Name) {
						continue
					}
					want := int32(1)
					if d.Spec.Replicas != nil {
						want = *d.Spec.Replicas
					}
					s := appsv1.DeploymentStatus{
						ObservedGeneration: d.Generation, Replicas: want, UpdatedReplicas: want,
						ReadyReplicas: want, AvailableReplicas: want,
					}
					if reflect.DeepEqual(d.Status, s) {
						continue
					}
					d.Status = s
					_, _ = env.kc.AppsV1().Deployments(ns).UpdateStatus(ctx, &d, metav1.UpdateOptions{})
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// weigher is a Router whose weights can be read back from the API server.
type weigher interface {
	Router
	Weights(ctx context.Context) (stable, canary int, err error)
	Store() Store
}

// recordingRouter passes weights on and remembers them, and, for a weigher,
// the stable/canary weights the API server holds right after each write.
type recordingRouter struct {
	Router
	mu      sync.Mutex
	weights []int
	stored  []string
}

func (r *recordingRouter) SetWeight(ctx context.Context, w int) error {
	r.mu.Lock()
	r.weights = append(r.weights, w)
	r.mu.Unlock()
	if err := r.Router.SetWeight(ctx, w); err != nil {
		return err
	}
	if wr, ok := r.Router.(weigher); ok {
		s, c, err := wr.Weights(ctx)
		r.mu.Lock()
		r.stored = append(r.stored, fmt.Sprintf("%d/%d", s, c))
		if err != nil {
			r.stored[len(r.stored)-1] = err.Error()
		}
		r.mu.Unlock()
	}
	return nil
}

// followRoute makes the test app's load follow the route's weights as
// stored in the API server: the data plane a Gateway implementation or a
// mesh would be.
func followRoute(t *testing.T, route weigher, app *testApp) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			if _, c, err := route.Weights(ctx); err == nil && c >= 0 {
				app.weight.Store(int32(c))
			}
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
}

const (
	oldImage = "registry.example/shop@sha256:1111111111111111111111111111111111111111111111111111111111111111"
	newImage = "registry.example/shop@sha256:2222222222222222222222222222222222222222222222222222222222222222"
)

// TestKubeRelease runs whole releases with the objects on the API server and
// the analysis against a real Prometheus scraping the app, whose traffic
// split follows the route's weights: a Gateway API HTTPRoute (the default)
// or an SMI TrafficSplit, which the release creates.
func TestKubeRelease(t *testing.T) {
	env := newKubeEnv(t)
	if testing.Short() {
		t.Skip("runs Prometheus")
	}
	for _, tc := range []struct {
		name    string
		ns      string
		router  string
		canary  behaviour
		outcome Phase
		weights []int
		stored  []string // stable/canary on the API server after each write
	}{
		{"good", "canary-good", "httproute", behaviour{}, Promoted, []int{50, 100, 0}, []string{"50/50", "0/100", "100/0"}},
		{"bad", "canary-bad", "httproute", behaviour{FailShare: 0.3}, RolledBack, []int{50, 0}, []string{"50/50", "100/0"}},
		{"smi-good", "canary-smi-good", "smi", behaviour{}, Promoted, []int{50, 100, 0}, []string{"50/50", "0/100", "100/0"}},
		{"smi-bad", "canary-smi-bad", "smi", behaviour{FailShare: 0.3}, RolledBack, []int{50, 0}, []string{"50/50", "100/0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			seed(t, env, tc.ns, "shop", oldImage)
			standInKubelet(t, env, tc.ns)
			app := startApp(t, "shop", tc.canary)
			promURL := startPrometheus(t, app.Stable, app.Canary)
			app.drive(t, 100)
			waitScraped(t, promURL)

			var progress bytes.Buffer
			cfg := releaseConfig("shop", promURL, &progress)
			cfg.Namespace, cfg.Image = tc.ns, newImage
			w, r, s, err := Objects(env.kc, env.dc, cfg, Cluster{Router: tc.router, Deadline: 10 * time.Second, Poll: 100 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			if tc.router == "smi" {
				// The release creates the TrafficSplit on its first write.
				if _, err := env.dc.Resource(TrafficSplitResource).Namespace(tc.ns).Get(ctx, "shop", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
					t.Fatalf("a TrafficSplit before the release: %v", err)
				}
			}
			followRoute(t, r.(weigher), app)
			rec := &recordingRouter{Router: r}
			res, err := Run(ctx, cfg, w, rec, s)
			t.Logf("progress:\n%s", progress.String())
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != tc.outcome {
				t.Fatalf("outcome %s (%s), want %s", res.Outcome, res.Reason, tc.outcome)
			}
			if !reflect.DeepEqual(rec.weights, tc.weights) {
				t.Errorf("weights %v, want %v", rec.weights, tc.weights)
			}
			if !reflect.DeepEqual(rec.stored, tc.stored) {
				t.Errorf("weights on the API server after each write %v, want %v", rec.stored, tc.stored)
			}
			checkFinalObjects(t, env, tc.ns, tc.router, tc.outcome)
		})
	}
}

// checkFinalObjects asserts what a promoted or rolled-back release leaves.
func checkFinalObjects(t *testing.T, env kubeEnv, ns, router string, outcome Phase) {
	t.Helper()
	ctx := context.Background()
	var route weigher = &HTTPRoute{Dynamic: env.dc, Namespace: ns, Name: "shop", Stable: "shop", CanaryTarget: "shop-canary"}
	if router == "smi" {
		route = &TrafficSplit{Dynamic: env.dc, Namespace: ns, Name: "shop", Root: "shop", Stable: "shop", CanaryTarget: "shop-canary"}
		ts, err := env.dc.Resource(TrafficSplitResource).Namespace(ns).Get(ctx, "shop", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		apex, _, _ := unstructured.NestedString(ts.Object, "spec", "service")
		backends, _, _ := unstructured.NestedSlice(ts.Object, "spec", "backends")
		if ts.GetAPIVersion() != "split.smi-spec.io/v1alpha2" || apex != "shop" || len(backends) != 2 {
			t.Errorf("trafficsplit %s: apex service %q, backends %v", ts.GetAPIVersion(), apex, backends)
		}
	}
	stableW, canaryW, err := route.Weights(ctx)
	if err != nil || stableW != 100 || canaryW != 0 {
		t.Errorf("route weights stable %d canary %d (%v), want 100/0", stableW, canaryW, err)
	}
	st, err := route.Store().Load(ctx)
	if err != nil || st.Phase != outcome || st.Image != newImage {
		t.Errorf("route annotations: %+v (%v), want phase %s for the new image", st, err, outcome)
	}
	stable, err := env.kc.AppsV1().Deployments(ns).Get(ctx, "shop", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	canary, cerr := env.kc.AppsV1().Deployments(ns).Get(ctx, "shop-canary", metav1.GetOptions{})
	switch outcome {
	case Promoted:
		if got := stable.Spec.Template.Spec.Containers[0].Image; got != newImage {
			t.Errorf("stable image %s, want the new one", got)
		}
		if cerr != nil {
			t.Fatalf("canary deployment: %v", cerr)
		}
		if *canary.Spec.Replicas != 0 {
			t.Errorf("canary replicas %d, want 0", *canary.Spec.Replicas)
		}
		if canary.Spec.Selector.MatchLabels[TrackLabel] != "canary" || canary.Spec.Template.Labels[TrackLabel] != "canary" {
			t.Errorf("canary selector/labels lack track=canary: %v / %v", canary.Spec.Selector.MatchLabels, canary.Spec.Template.Labels)
		}
	case RolledBack:
		if got := stable.Spec.Template.Spec.Containers[0].Image; got != oldImage {
			t.Errorf("stable image %s, want the old one", got)
		}
		if !apierrors.IsNotFound(cerr) {
			t.Errorf("canary deployment still there after a rollback (%v)", cerr)
		}
		if !strings.Contains(st.Reason, "failure limit reached") {
			t.Errorf("reason annotation %q", st.Reason)
		}
	}
	svc, err := env.kc.CoreV1().Services(ns).Get(ctx, "shop-canary", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("canary service: %v", err)
	}
	if svc.Spec.Selector[TrackLabel] != "canary" || svc.Spec.Ports[0].Port != 80 {
		t.Errorf("canary service selector %v ports %v", svc.Spec.Selector, svc.Spec.Ports)
	}
}

// TestKubeCanaryNeverAvailable: a canary whose pods never come up is rolled
// back when its deadline passes, before it gets any traffic.
func TestKubeCanaryNeverAvailable(t *testing.T) {
	env := newKubeEnv(t)
	if testing.Short() {
		t.Skip("runs Prometheus (the preflight)")
	}
	ns := "canary-stuck"
	seed(t, env, ns, "shop", oldImage)
	standInKubelet(t, env, ns, "shop-canary")
	_, promURL := scrapedShop(t, 50)
	var progress bytes.Buffer
	cfg := releaseConfig("shop", promURL, &progress)
	cfg.Namespace, cfg.Image = ns, newImage
	w, r, s, err := Objects(env.kc, env.dc, cfg, Cluster{Deadline: time.Second, Poll: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recordingRouter{Router: r}
	res, err := Run(context.Background(), cfg, w, rec, s)
	t.Logf("progress:\n%s", progress.String())
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != RolledBack || !strings.Contains(res.Reason, "deployment shop-canary not available within 1s") {
		t.Fatalf("outcome %s, reason %q", res.Outcome, res.Reason)
	}
	if !reflect.DeepEqual(rec.weights, []int{0}) || res.FinalWeight != 0 {
		t.Errorf("weights %v final %d, want only [0] and 0", rec.weights, res.FinalWeight)
	}
}

// TestKubeResume: a release that crashed at step 2 continues there on the
// next run instead of starting over.
func TestKubeResume(t *testing.T) {
	env := newKubeEnv(t)
	if testing.Short() {
		t.Skip("runs Prometheus")
	}
	ns := "canary-resume"
	ctx := context.Background()
	seed(t, env, ns, "shop", oldImage)
	standInKubelet(t, env, ns)
	app, promURL := scrapedShop(t, 100)
	var progress bytes.Buffer
	cfg := releaseConfig("shop", promURL, &progress)
	cfg.Namespace, cfg.Image = ns, newImage
	w, r, s, err := Objects(env.kc, env.dc, cfg, Cluster{Deadline: 10 * time.Second, Poll: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	followRoute(t, r.(weigher), app)
	// What a run that died during step 2 leaves behind.
	if err := r.SetWeight(ctx, 50); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, State{Image: newImage, Phase: Progressing, Step: 1, Weight: 100, Failures: 1}); err != nil {
		t.Fatal(err)
	}
	rec := &recordingRouter{Router: r}
	res, err := Run(ctx, cfg, w, rec, s)
	t.Logf("progress:\n%s", progress.String())
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != Promoted || !res.Resumed {
		t.Fatalf("outcome %s resumed %v (%s)", res.Outcome, res.Resumed, res.Reason)
	}
	if !reflect.DeepEqual(rec.weights, []int{100, 0}) {
		t.Errorf("weights %v, want [100 0]: the run must continue at step 2", rec.weights)
	}
	if !strings.Contains(progress.String(), "resuming "+newImage+" at step 2/2 (100%), 1 failure(s) so far") {
		t.Error("no resume line in the progress")
	}
	checkFinalObjects(t, env, ns, "httproute", Promoted)
	// A third run finds the release done.
	rec.weights = nil
	res, err = Run(ctx, cfg, w, rec, s)
	if err != nil || res.Outcome != Promoted || len(rec.weights) != 0 {
		t.Errorf("re-run after promotion: %v, %v, weights %v", res, err, rec.weights)
	}
}

// TestKubeRolledBackDigest: a digest that was rolled back is not released
// again, even after another release used the route, unless a retry reason
// is given, which is kept on the route; the list lives in the route's
// annotations, so every later run sees it.
func TestKubeRolledBackDigest(t *testing.T) {
	env := newKubeEnv(t)
	if testing.Short() {
		t.Skip("runs Prometheus")
	}
	ns := "canary-rolled-back"
	ctx := context.Background()
	seed(t, env, ns, "shop", oldImage)
	standInKubelet(t, env, ns)
	app := startApp(t, "shop", behaviour{FailShare: 0.3})
	promURL := startPrometheus(t, app.Stable, app.Canary)
	app.drive(t, 100)
	waitScraped(t, promURL)
	var progress bytes.Buffer
	release := func(image, retry string) (*Result, *recordingRouter, Store) {
		t.Helper()
		cfg := releaseConfig("shop", promURL, &progress)
		cfg.Namespace, cfg.Image, cfg.FailureLimit, cfg.RetryReason = ns, image, 1, retry
		w, r, s, err := Objects(env.kc, env.dc, cfg, Cluster{Deadline: 10 * time.Second, Poll: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		followRoute(t, r.(weigher), app)
		rec := &recordingRouter{Router: r}
		res, err := Run(ctx, cfg, w, rec, s)
		if err != nil {
			t.Fatalf("%v\n%s", err, progress.String())
		}
		return res, rec, s
	}
	third := "registry.example/shop@sha256:" + strings.Repeat("33", 32)
	for _, img := range []string{newImage, third} {
		if res, _, _ := release(img, ""); res.Outcome != RolledBack {
			t.Fatalf("%s: outcome %s (%s), want rolled back\n%s", img, res.Outcome, res.Reason, progress.String())
		}
	}
	res, rec, s := release(newImage, "")
	if res.Outcome != Refused || !strings.Contains(res.Reason, "sha256:2222") || !strings.Contains(res.Reason, "--retry-reason") {
		t.Fatalf("re-release of a rolled-back digest: outcome %s (%s), want refused", res.Outcome, res.Reason)
	}
	if len(rec.weights) != 0 {
		t.Errorf("refused, yet weights %v", rec.weights)
	}
	st, err := s.Load(ctx)
	if err != nil || st.Image != third || !reflect.DeepEqual(st.RolledBack, []string{digestOf(newImage), digestOf(third)}) {
		t.Fatalf("state %+v, %v: want the third release's, both digests rolled back", st, err)
	}

	res, rec, s = release(newImage, "the payment client's timeout is fixed upstream")
	if res.Outcome != RolledBack || res.RetryReason == "" || len(rec.weights) == 0 {
		t.Fatalf("retry: outcome %s (%s), weights %v", res.Outcome, res.Reason, rec.weights)
	}
	if !strings.Contains(res.Markdown(), "because: the payment client's timeout is fixed upstream") ||
		!strings.Contains(progress.String(), "releasing sha256:2222") {
		t.Errorf("the retry's reason is not in the report or the progress:\n%s", res.Markdown())
	}
	st, err = s.Load(ctx)
	if err != nil || st.RetryReason != "the payment client's timeout is fixed upstream" ||
		!reflect.DeepEqual(st.RolledBack, []string{digestOf(third), digestOf(newImage)}) {
		t.Errorf("state after the retry %+v, %v", st, err)
	}
}
