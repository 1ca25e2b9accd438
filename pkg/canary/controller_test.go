package canary

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/util/retry"
)

// These tests run the flagger and argo-rollouts strategies against the API
// server with the real Flagger and Argo Rollouts CRDs (-tags e2e). Neither
// controller runs here: a stand-in goroutine plays it, noticing the new
// image the way the controller would and then writing the status
// subresource the way the controller does, step by step.

const prevImage = "registry.example/shop@sha256:0000000000000000000000000000000000000000000000000000000000000000"

// podHash is the stand-ins' template hash: one per image, as the
// controllers' hashes are one per pod template.
func podHash(image string) string {
	h := fnv.New32a()
	h.Write([]byte(image))
	return strconv.FormatUint(uint64(h.Sum32()), 36)
}

func createNamespace(t *testing.T, env kubeEnv, ns string) {
	t.Helper()
	_, err := env.kc.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

func deployment(ns, name, image string) *appsv1.Deployment {
	one := int32(1)
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: &one,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}},
			},
		},
	}
}

// writeStatus replaces the status of a custom resource through its status
// subresource, as a controller does.
func writeStatus(ctx context.Context, env kubeEnv, gvr schema.GroupVersionResource, ns, name string, status map[string]any) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		u, err := env.dc.Resource(gvr).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		u.Object["status"] = status
		_, err = env.dc.Resource(gvr).Namespace(ns).UpdateStatus(ctx, u, metav1.UpdateOptions{})
		return err
	})
}

// step is one status a stand-in controller writes, after wait.
type step struct {
	wait   time.Duration
	status func(image string, generation int64) map[string]any
}

// standIn runs a stand-in controller until the test ends: whenever
// changed(ctx) reports a revision it has not handled, it writes the steps'
// statuses in order. started is closed when it first acts.
func standIn(t *testing.T, changed func(context.Context) (image string, generation int64, ok bool), write func(context.Context, map[string]any) error, steps []step) (started <-chan struct{}) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	ch := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		sleep := func(d time.Duration) bool {
			select {
			case <-ctx.Done():
				return false
			case <-time.After(d):
				return true
			}
		}
		for sleep(50 * time.Millisecond) {
			image, gen, ok := changed(ctx)
			if !ok {
				continue
			}
			for i, s := range steps {
				if !sleep(s.wait) {
					return
				}
				if err := write(ctx, s.status(image, gen)); err != nil {
					if ctx.Err() == nil {
						t.Errorf("stand-in controller: writing status: %v", err)
					}
					return
				}
				if i == 0 {
					close(ch)
				}
			}
			return
		}
	}()
	return ch
}

// --- Flagger ---------------------------------------------------------------

// flaggerStatus is a Canary status as Flagger writes it (pkg/apis/flagger/
// v1beta1 CanaryStatus and its Promoted condition).
func flaggerStatus(phase string, weight, failed int, image, promoted, message string) map[string]any {
	cond := map[string]string{"Succeeded": "True", "Initialized": "True", "Failed": "False"}[phase]
	if cond == "" {
		cond = "Unknown"
	}
	now := time.Now().UTC().Format(time.RFC3339)
	return map[string]any{
		"phase": phase, "canaryWeight": int64(weight), "failedChecks": int64(failed), "iterations": int64(0),
		"lastAppliedSpec": podHash(image), "lastPromotedSpec": podHash(promoted),
		"lastTransitionTime": now,
		"conditions": []any{map[string]any{
			"type": "Promoted", "status": cond, "reason": phase, "message": message,
			"lastUpdateTime": now, "lastTransitionTime": now,
		}},
	}
}

// seedFlagger creates what Flagger leaves after promoting oldImage: the
// target Deployment, its primary copy and a Succeeded Canary (or status).
func seedFlagger(t *testing.T, env kubeEnv, ns, targetImage string, status map[string]any) {
	t.Helper()
	ctx := context.Background()
	createNamespace(t, env, ns)
	for _, d := range []*appsv1.Deployment{deployment(ns, "shop", targetImage), deployment(ns, "shop-primary", oldImage)} {
		if _, err := env.kc.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	cd := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "flagger.app/v1beta1",
		"kind":       "Canary",
		"metadata":   map[string]any{"name": "shop", "namespace": ns},
		"spec": map[string]any{
			"provider":  "gatewayapi:v1",
			"targetRef": map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": "shop"},
			"service":   map[string]any{"port": int64(80)},
			"analysis": map[string]any{
				"interval": "1m", "threshold": int64(5), "maxWeight": int64(50), "stepWeight": int64(10),
				"metrics": []any{map[string]any{"name": "request-success-rate", "interval": "1m", "thresholdRange": map[string]any{"min": int64(99)}}},
			},
		},
	}}
	if _, err := env.dc.Resource(FlaggerCanaryResource).Namespace(ns).Create(ctx, cd, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := writeStatus(ctx, env, FlaggerCanaryResource, ns, "shop", status); err != nil {
		t.Fatal(err)
	}
}

// standInFlagger plays Flagger: when the target's image is not the one it
// last analysed, it writes steps; a step in phase Promoting also copies the
// image to the primary, as Flagger's promotion does.
func standInFlagger(t *testing.T, env kubeEnv, ns string, steps []step) <-chan struct{} {
	last := oldImage
	changed := func(ctx context.Context) (string, int64, bool) {
		d, err := env.kc.AppsV1().Deployments(ns).Get(ctx, "shop", metav1.GetOptions{})
		if err != nil || d.Spec.Template.Spec.Containers[0].Image == last {
			return "", 0, false
		}
		last = d.Spec.Template.Spec.Containers[0].Image
		return last, d.Generation, true
	}
	write := func(ctx context.Context, st map[string]any) error {
		if st["phase"] == "Promoting" {
			err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
				p, err := env.kc.AppsV1().Deployments(ns).Get(ctx, "shop-primary", metav1.GetOptions{})
				if err != nil {
					return err
				}
				p.Spec.Template.Spec.Containers[0].Image = last
				_, err = env.kc.AppsV1().Deployments(ns).Update(ctx, p, metav1.UpdateOptions{})
				return err
			})
			if err != nil {
				return err
			}
		}
		return writeStatus(ctx, env, FlaggerCanaryResource, ns, "shop", st)
	}
	return standIn(t, changed, write, steps)
}

func flaggerStep(wait time.Duration, phase string, weight, failed int, message string) step {
	return step{wait, func(image string, _ int64) map[string]any {
		promoted := oldImage
		if phase == "Succeeded" {
			promoted = image
		}
		return flaggerStatus(phase, weight, failed, image, promoted, message)
	}}
}

// What Flagger writes for a canary that passes and for one that fails
// (phases and messages as in Flagger's pkg/canary/status.go).
var (
	flaggerPromotes = []step{
		flaggerStep(300*time.Millisecond, "Progressing", 0, 0, "New revision detected, progressing canary analysis."),
		flaggerStep(300*time.Millisecond, "Progressing", 10, 0, "New revision detected, progressing canary analysis."),
		flaggerStep(300*time.Millisecond, "Progressing", 20, 0, "New revision detected, progressing canary analysis."),
		flaggerStep(300*time.Millisecond, "Promoting", 20, 0, "Canary analysis completed, starting primary rolling update."),
		flaggerStep(300*time.Millisecond, "Finalising", 0, 0, "Canary analysis completed, routing all traffic to primary."),
		flaggerStep(300*time.Millisecond, "Succeeded", 0, 0, "Canary analysis completed successfully, promotion finished."),
	}
	flaggerFails = []step{
		flaggerStep(300*time.Millisecond, "Progressing", 10, 0, "New revision detected, progressing canary analysis."),
		flaggerStep(300*time.Millisecond, "Progressing", 10, 1, "New revision detected, progressing canary analysis."),
		flaggerStep(300*time.Millisecond, "Progressing", 10, 5, "New revision detected, progressing canary analysis."),
		flaggerStep(300*time.Millisecond, "Failed", 0, 5, "Canary analysis failed, Deployment scaled to zero."),
	}
)

func TestFlaggerRelease(t *testing.T) {
	env := newKubeEnv(t)
	succeededOld := flaggerStatus("Succeeded", 0, 0, oldImage, oldImage, "Canary analysis completed successfully, promotion finished.")
	failedPrev := flaggerStatus("Failed", 0, 5, prevImage, oldImage, "Canary analysis failed, Deployment scaled to zero.")
	for _, tc := range []struct {
		name        string
		ns          string
		targetImage string         // the target's image before the release
		status      map[string]any // the Canary's status before the release
		steps       []step         // the stand-in Flagger's; nil: it never acts
		deadline    time.Duration
		outcome     Phase
		final       int
		weights     []string
		reason      string
		firstPhase  string // the first status seen, which must be stale
	}{
		{"promoted", "flagger-ok", oldImage, succeededOld, flaggerPromotes, time.Minute, Promoted, 100, []string{"10%", "20%"}, "promotion finished", "Succeeded"},
		{"failed", "flagger-fail", oldImage, succeededOld, flaggerFails, time.Minute, RolledBack, 10, []string{"10%"}, "Flagger: Canary analysis failed, Deployment scaled to zero. (failed checks 5)", "Succeeded"},
		// The controller never acts: no verdict is no promotion.
		{"timeout", "flagger-timeout", oldImage, succeededOld, nil, 1500 * time.Millisecond, TimedOut, 0, nil, "no verdict from Flagger within 1.5s; last status: Succeeded", "Succeeded"},
		// The previous release failed; that Failed must not be this one's.
		{"stale failure", "flagger-stale", oldImage, failedPrev, append([]step{{wait: time.Second, status: flaggerPromotes[0].status}}, flaggerPromotes[1:]...), time.Minute, Promoted, 100, []string{"10%", "20%"}, "promotion finished", "Failed"},
		// Someone set the image before pipewright ran, so no baseline was
		// recorded: the stale Succeeded must still not count until the
		// primary runs the image.
		{"image set by someone else", "flagger-unknown", newImage, succeededOld, append([]step{{wait: time.Second, status: flaggerPromotes[0].status}}, flaggerPromotes[1:]...), time.Minute, Promoted, 100, []string{"10%", "20%"}, "promotion finished", "Succeeded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			seedFlagger(t, env, tc.ns, tc.targetImage, tc.status)
			if tc.steps != nil {
				standInFlagger(t, env, tc.ns, tc.steps)
			}
			var progress bytes.Buffer
			res, err := follow(ctx, env, tc.ns, StrategyFlagger, tc.deadline, &progress)
			t.Logf("progress:\n%s", progress.String())
			if err != nil {
				t.Fatal(err)
			}
			checkFollowed(t, res, tc.outcome, tc.final, tc.weights, tc.reason, tc.firstPhase)
			if res.Resumed != (tc.targetImage == newImage) {
				t.Errorf("resumed %v", res.Resumed)
			}
			target, err := env.kc.AppsV1().Deployments(tc.ns).Get(ctx, "shop", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := target.Spec.Template.Spec.Containers[0].Image; got != newImage {
				t.Errorf("target image %s, want the new one", got)
			}
			if tc.targetImage != newImage {
				// The baseline is kept for a re-run: the status before the image was set.
				if a := target.Annotations; a[annoImage] != newImage || a[annoFlaggerBaseline] != tc.status["lastAppliedSpec"] {
					t.Errorf("target annotations %v", a)
				}
			}
			if tc.outcome == TimedOut {
				return
			}
			// A re-run with the same image finds the verdict and writes nothing.
			before := target.ResourceVersion
			progress.Reset()
			again, err := follow(ctx, env, tc.ns, StrategyFlagger, time.Second, &progress)
			if err != nil || again.Outcome != tc.outcome || !again.Resumed {
				t.Fatalf("re-run: %+v, %v\n%s", again, err, progress.String())
			}
			if after, _ := env.kc.AppsV1().Deployments(tc.ns).Get(ctx, "shop", metav1.GetOptions{}); after.ResourceVersion != before {
				t.Error("the re-run wrote the target")
			}
		})
	}
}

// checkFollowed asserts what a Follow reports.
// follow hands the release of newImage in ns to the strategy's controller,
// as `pipewright canary --strategy` does, polling every 50ms.
func follow(ctx context.Context, env kubeEnv, ns, strategy string, deadline time.Duration, progress *bytes.Buffer) (*Result, error) {
	cfg := Config{App: "shop", Namespace: ns, Image: newImage, Progress: progress}
	return Follow(ctx, cfg, ControllerFor(env.kc, env.dc, cfg, Cluster{Strategy: strategy}), deadline, 50*time.Millisecond)
}

func checkFollowed(t *testing.T, res *Result, outcome Phase, final int, weights []string, reason, firstPhase string) {
	t.Helper()
	if res.Outcome != outcome {
		t.Fatalf("outcome %s (%s), want %s", res.Outcome, res.Reason, outcome)
	}
	if res.FinalWeight != final {
		t.Errorf("final weight %d, want %d", res.FinalWeight, final)
	}
	if got := res.weightsSeen(); !reflect.DeepEqual(got, weights) {
		t.Errorf("weights seen %v, want %v", got, weights)
	}
	if !strings.Contains(res.Reason, reason) {
		t.Errorf("reason %q, want it to contain %q", res.Reason, reason)
	}
	if len(res.Timeline) == 0 || !res.Timeline[0].Stale || res.Timeline[0].Phase != firstPhase || res.Timeline[0].Verdict != "" {
		t.Errorf("first status seen %+v, want the previous revision's %s, stale and no verdict", res.Timeline[0], firstPhase)
	}
	sum := res.Summary()
	want := map[Phase]string{Promoted: "promoted ", RolledBack: "rolled back ", TimedOut: "timed out: "}[outcome]
	if !strings.HasPrefix(sum, want) || !strings.Contains(sum, newImage) {
		t.Errorf("summary %q", sum)
	}
	md := res.Markdown()
	if !strings.Contains(md, fmt.Sprintf("outcome: **%s** (final canary weight %d%%)", outcome, final)) || !strings.Contains(md, "| time | phase | canary weight | detail |") {
		t.Errorf("report:\n%s", md)
	}
}

// --- Argo Rollouts -----------------------------------------------------------

// argoStatus is a Rollout status as Argo Rollouts writes it (pkg/apis/
// rollouts/v1alpha1 RolloutStatus): the revision of image at step index, with
// stableImage's revision stable. weight < 0 leaves out status.canary.weights
// (a canary without traffic routing).
func argoStatus(generation int64, image, stableImage, phase, message string, index, weight int, abort bool) map[string]any {
	st := map[string]any{
		"observedGeneration": strconv.FormatInt(generation, 10),
		"currentPodHash":     podHash(image),
		"stableRS":           podHash(stableImage),
		"currentStepIndex":   int64(index),
		"currentStepHash":    "steps",
		"phase":              phase,
		"message":            message,
		"replicas":           int64(2), "updatedReplicas": int64(2), "readyReplicas": int64(2), "availableReplicas": int64(2),
		"selector": "app=shop",
	}
	if abort {
		st["abort"] = true
		st["abortedAt"] = time.Now().UTC().Format(time.RFC3339)
	}
	if weight >= 0 {
		st["canary"] = map[string]any{"weights": map[string]any{
			"canary": map[string]any{"weight": int64(weight), "podTemplateHash": podHash(image), "serviceName": "shop-canary"},
			"stable": map[string]any{"weight": int64(100 - weight), "podTemplateHash": podHash(stableImage), "serviceName": "shop-stable"},
		}}
	}
	return st
}

// seedRollout creates a Rollout of oldImage with four canary steps and the
// given status; routed adds SMI traffic routing, so Argo reports weights.
func seedRollout(t *testing.T, env kubeEnv, ns string, routed bool, status func(generation int64) map[string]any) {
	t.Helper()
	ctx := context.Background()
	createNamespace(t, env, ns)
	canary := map[string]any{"steps": []any{
		map[string]any{"setWeight": int64(20)},
		map[string]any{"pause": map[string]any{"duration": "1m"}},
		map[string]any{"setWeight": int64(50)},
		map[string]any{"pause": map[string]any{}},
	}}
	if routed {
		canary["canaryService"], canary["stableService"] = "shop-canary", "shop-stable"
		canary["trafficRouting"] = map[string]any{"smi": map[string]any{"rootService": "shop"}}
	}
	ro := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1",
		"kind":       "Rollout",
		"metadata":   map[string]any{"name": "shop", "namespace": ns},
		"spec": map[string]any{
			"replicas": int64(2),
			"selector": map[string]any{"matchLabels": map[string]any{"app": "shop"}},
			"template": map[string]any{
				"metadata": map[string]any{"labels": map[string]any{"app": "shop"}},
				"spec": map[string]any{"containers": []any{map[string]any{
					"name": "app", "image": oldImage,
					"ports": []any{map[string]any{"containerPort": int64(8080)}},
				}}},
			},
			"strategy": map[string]any{"canary": canary},
		},
	}}
	created, err := env.dc.Resource(ArgoRolloutResource).Namespace(ns).Create(ctx, ro, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := writeStatus(ctx, env, ArgoRolloutResource, ns, "shop", status(created.GetGeneration())); err != nil {
		t.Fatal(err)
	}
}

// standInArgo plays the Argo Rollouts controller: when metadata.generation
// passes the observedGeneration of its status, it writes steps for the new
// template's image.
func standInArgo(t *testing.T, env kubeEnv, ns string, steps []step) <-chan struct{} {
	changed := func(ctx context.Context) (string, int64, bool) {
		ro, err := env.dc.Resource(ArgoRolloutResource).Namespace(ns).Get(ctx, "shop", metav1.GetOptions{})
		if err != nil {
			return "", 0, false
		}
		obs, _, _ := unstructured.NestedString(ro.Object, "status", "observedGeneration")
		if n, err := strconv.ParseInt(obs, 10, 64); err != nil || n >= ro.GetGeneration() {
			return "", 0, false
		}
		cs, _, _ := unstructured.NestedSlice(ro.Object, "spec", "template", "spec", "containers")
		image, _ := cs[0].(map[string]any)["image"].(string)
		return image, ro.GetGeneration(), true
	}
	write := func(ctx context.Context, st map[string]any) error {
		return writeStatus(ctx, env, ArgoRolloutResource, ns, "shop", st)
	}
	return standIn(t, changed, write, steps)
}

func argoStep(wait time.Duration, phase, message string, index, weight int, abort, stable bool) step {
	return step{wait, func(image string, gen int64) map[string]any {
		stableImage := oldImage
		if stable {
			stableImage = image
		}
		return argoStatus(gen, image, stableImage, phase, message, index, weight, abort)
	}}
}

func TestArgoRolloutsRelease(t *testing.T) {
	env := newKubeEnv(t)
	healthyOld := func(gen int64) map[string]any {
		return argoStatus(gen, oldImage, oldImage, "Healthy", "", 4, -1, false)
	}
	abortedPrev := func(gen int64) map[string]any {
		return argoStatus(gen, prevImage, oldImage, "Degraded", "RolloutAborted: Rollout aborted update to revision 2", 1, -1, true)
	}
	// With traffic routing (weights in the status) and without (weights
	// from the steps' setWeight).
	promotes := func(routed bool) []step {
		w := func(n int) int {
			if routed {
				return n
			}
			return -1
		}
		return []step{
			argoStep(300*time.Millisecond, "Progressing", "more replicas need to be updated", 0, w(0), false, false),
			argoStep(300*time.Millisecond, "Paused", "CanaryPauseStep", 1, w(20), false, false),
			argoStep(300*time.Millisecond, "Paused", "CanaryPauseStep", 3, w(50), false, false),
			argoStep(300*time.Millisecond, "Progressing", "waiting for all steps to complete", 4, w(100), false, false),
			argoStep(300*time.Millisecond, "Healthy", "", 4, w(0), false, true),
		}
	}
	fails := []step{
		argoStep(300*time.Millisecond, "Progressing", "more replicas need to be updated", 0, -1, false, false),
		argoStep(300*time.Millisecond, "Paused", "CanaryPauseStep", 1, -1, false, false),
		argoStep(300*time.Millisecond, "Degraded", `RolloutAborted: Rollout aborted update to revision 2: Metric "success-rate" assessed Failed due to failed (3) > failureLimit (2)`, 1, -1, true, false),
	}
	for _, tc := range []struct {
		name       string
		ns         string
		routed     bool
		status     func(int64) map[string]any
		steps      []step
		deadline   time.Duration
		outcome    Phase
		final      int
		weights    []string
		reason     string
		firstPhase string
	}{
		{"promoted", "argo-ok", true, healthyOld, promotes(true), time.Minute, Promoted, 100, []string{"20%", "50%", "100%"}, "", "Healthy"},
		{"promoted without routing", "argo-ok-steps", false, healthyOld, promotes(false), time.Minute, Promoted, 100, []string{"20%", "50%", "100%"}, "", "Healthy"},
		{"aborted", "argo-abort", false, healthyOld, fails, time.Minute, RolledBack, 20, []string{"20%"}, `Argo Rollouts: step 2/4. RolloutAborted: Rollout aborted update to revision 2: Metric "success-rate" assessed Failed`, "Healthy"},
		{"timeout", "argo-timeout", false, healthyOld, nil, 1500 * time.Millisecond, TimedOut, 0, nil, "no verdict from Argo Rollouts within 1.5s; last status: Healthy: observedGeneration 1 < generation 2", "Healthy"},
		// The previous update was aborted; that abort must not be this one's.
		{"stale abort", "argo-stale", true, abortedPrev, append([]step{{wait: time.Second, status: promotes(true)[0].status}}, promotes(true)[1:]...), time.Minute, Promoted, 100, []string{"20%", "50%", "100%"}, "", "Degraded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			seedRollout(t, env, tc.ns, tc.routed, tc.status)
			if tc.steps != nil {
				standInArgo(t, env, tc.ns, tc.steps)
			}
			var progress bytes.Buffer
			res, err := follow(ctx, env, tc.ns, StrategyArgoRollouts, tc.deadline, &progress)
			t.Logf("progress:\n%s", progress.String())
			if err != nil {
				t.Fatal(err)
			}
			checkFollowed(t, res, tc.outcome, tc.final, tc.weights, tc.reason, tc.firstPhase)
			ro, err := env.dc.Resource(ArgoRolloutResource).Namespace(tc.ns).Get(ctx, "shop", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			cs, _, _ := unstructured.NestedSlice(ro.Object, "spec", "template", "spec", "containers")
			if img := cs[0].(map[string]any)["image"]; img != newImage || ro.GetGeneration() != 2 {
				t.Errorf("rollout image %v generation %d, want the new image at generation 2", img, ro.GetGeneration())
			}
			if tc.outcome == TimedOut {
				return
			}
			progress.Reset()
			again, err := follow(ctx, env, tc.ns, StrategyArgoRollouts, time.Second, &progress)
			if err != nil || again.Outcome != tc.outcome || !again.Resumed {
				t.Fatalf("re-run: %+v, %v\n%s", again, err, progress.String())
			}
			if after, _ := env.dc.Resource(ArgoRolloutResource).Namespace(tc.ns).Get(ctx, "shop", metav1.GetOptions{}); after.GetGeneration() != 2 {
				t.Error("the re-run changed the rollout's spec")
			}
		})
	}
}

// TestControllerErrors: what keeps a verdict from being read is an error,
// not an outcome.
func TestControllerErrors(t *testing.T) {
	env := newKubeEnv(t)
	ctx := context.Background()
	createNamespace(t, env, "ctl-errors")
	cfg := Config{App: "shop", Namespace: "ctl-errors", Image: newImage}
	for _, tc := range []struct {
		strategy string
		want     string
	}{
		{StrategyFlagger, "canaries.flagger.app ctl-errors/shop: "},
		{StrategyArgoRollouts, "rollouts.argoproj.io ctl-errors/shop: "},
	} {
		_, err := Follow(ctx, cfg, ControllerFor(env.kc, env.dc, cfg, Cluster{Strategy: tc.strategy}), time.Second, 50*time.Millisecond)
		if err == nil || !apierrors.IsNotFound(err) || !strings.HasPrefix(err.Error(), tc.want) || !strings.Contains(err.Error(), "hint: --object") {
			t.Errorf("%s without its object: %v", tc.strategy, err)
		}
	}
	// Another release replacing the image while this one waits.
	seedRollout(t, env, "ctl-errors", false, func(gen int64) map[string]any {
		return argoStatus(gen, oldImage, oldImage, "Healthy", "", 4, -1, false)
	})
	a := &ArgoRollout{Dynamic: env.dc, Namespace: "ctl-errors", Rollout: "shop"}
	if _, err := a.Start(ctx, newImage); err != nil {
		t.Fatal(err)
	}
	b := &ArgoRollout{Dynamic: env.dc, Namespace: "ctl-errors", Rollout: "shop"}
	if _, err := b.Start(ctx, prevImage); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Observe(ctx); err == nil || !strings.Contains(err.Error(), "another release replaced this one") {
		t.Errorf("observe after the image was replaced: %v", err)
	}
}
