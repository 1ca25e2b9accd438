//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// TestInterceptorRestartKeepsTrust: the generated interceptor keeps its CA
// in its Secret, so after its Pod is deleted the new Pod serves under the CA
// the EventListener already trusts. A signed push delivered as soon as the
// new Pod is Ready goes through the interceptor (every trigger ends with
// it) and starts the release run: no TLS failure, no minute-long wait for
// the EventListener to re-read the caBundle (a new CA per Pod, as before,
// failed here for about 64 s). The old Pod drains first: closing at once,
// it reset the EventListener's kept-alive connection (seen here).
func TestInterceptorRestartKeepsTrust(t *testing.T) {
	s := newStory(t, "interceptorca", "Codertocat/Interceptor-CA", storyRepo, "")
	ctx := context.Background()
	name := s.app + "-interceptor"
	caSecret := name + "-tls"

	checkNetworkPolicy(t, s.ns, name, s.app+"-listener")

	caBefore := secretKey(t, s.ns, caSecret, "ca.crt")
	bundleBefore := caBundle(t, "interceptorca."+s.app)
	if caBefore == "" || bundleBefore != caBefore {
		t.Fatalf("the kept CA (%d bytes) is not the published caBundle (%d bytes)", len(caBefore), len(bundleBefore))
	}

	old := interceptorPods(t, s.ns, name)
	if len(old) != 1 {
		t.Fatalf("%d interceptor Pods, want 1", len(old))
	}
	// The probes before trust failed TLS; none may after the restart.
	tlsFailures := strings.Count(s.sink.Log(2000), "x509")
	deleted := time.Now()
	if out, err := cp.Kubectl(ctx, nil, "delete", "pod", "-n", s.ns, old[0].Name, "--wait=false"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// The old Pod drains (it serves on for a few seconds with keep-alives
	// off) and goes; the delivery waits until the Service routes to the
	// new Pod only, so the new Pod, not the old one, must be trusted.
	var ready string
	err := cp.WaitFor(ctx, 3*time.Minute, func() (bool, error) {
		ready = ""
		for _, p := range interceptorPods(t, s.ns, name) {
			if p.Name == old[0].Name {
				return false, nil // still draining
			}
			for _, c := range p.Status.Conditions {
				if p.DeletionTimestamp == nil && c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
					ready = p.Name
				}
			}
		}
		if ready == "" {
			return false, nil
		}
		ips := serviceEndpoints(t, s.ns, name)
		return len(ips) == 1, nil
	})
	if err != nil {
		desc, _ := cp.Kubectl(ctx, nil, "describe", "pods", "-n", s.ns, "-l", "app.kubernetes.io/name="+name)
		t.Fatalf("no new interceptor Pod alone behind the Service: %v\n%s", err, desc)
	}
	t.Logf("interceptor Pod %s deleted, %s alone Ready behind the Service after %s", old[0].Name, ready, time.Since(deleted).Round(100*time.Millisecond))

	// Right away: a signed push of the branch head.
	before, _ := pipelineRuns(ctx, s.ns)
	seen := map[string]bool{}
	for _, r := range before {
		seen[r.Name] = true
	}
	delivered := time.Now()
	delivery := randomSecret(t)
	cp.GitHub.SetBranch(s.repo, "master", s.head)
	postGitHubAs(t, s.sink.URL, "push", delivery, pushPayload(t, s.repo, s.head, s.cloneURL), s.secret)
	run := waitNewRun(t, s.ns, s.app+"-release", seen)
	t.Logf("release run %s created %s after the delivery, %s after the old Pod was deleted",
		run, time.Since(delivered).Round(100*time.Millisecond), time.Since(deleted).Round(100*time.Millisecond))
	// The new Pod decided it (its log names the delivery), and the
	// EventListener logged no certificate error on the way.
	ilog, _ := cp.Kubectl(ctx, nil, "logs", "-n", s.ns, ready, "--tail=200")
	if !strings.Contains(string(ilog), delivery) {
		t.Errorf("the new interceptor Pod's log does not name delivery %s:\n%s", delivery, ilog)
	}
	if n := strings.Count(s.sink.Log(2000), "x509"); n > tlsFailures {
		t.Errorf("the EventListener logged %d TLS failures since the Pod was deleted:\n%s", n-tlsFailures, s.sink.Log(20))
	}
	if got := secretKey(t, s.ns, caSecret, "ca.crt"); got != caBefore {
		t.Error("the restart replaced the kept CA")
	}
	if got := caBundle(t, "interceptorca."+s.app); got != caBefore {
		t.Error("the restart changed the caBundle")
	}
	// The run itself is not under test: stop it, so it does not load the
	// node for the tests after this one.
	if out, err := cp.Kubectl(ctx, nil, "patch", "pipelinerun", run, "-n", s.ns, "--type=merge", "-p", `{"spec":{"status":"Cancelled"}}`); err != nil {
		t.Logf("cancel %s: %v\n%s", run, err, out)
	}
}

func interceptorPods(t *testing.T, ns, name string) []corev1.Pod {
	t.Helper()
	var pods corev1.PodList
	out, err := cp.Kubectl(context.Background(), nil, "get", "pods", "-n", ns, "-l", "app.kubernetes.io/name="+name, "-o", "json")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if err := json.Unmarshal(out, &pods); err != nil {
		t.Fatal(err)
	}
	return pods.Items
}

// secretKey is the decoded value of key in Secret name.
func secretKey(t *testing.T, ns, name, key string) string {
	t.Helper()
	var s corev1.Secret
	if err := cp.Get(context.Background(), ns, "secret", name, &s); err != nil {
		t.Fatalf("Secret %s/%s: %v", ns, name, err)
	}
	return string(s.Data[key])
}

// caBundle is the decoded caBundle of ClusterInterceptor name.
func caBundle(t *testing.T, name string) string {
	t.Helper()
	var ci struct {
		Spec struct {
			ClientConfig struct {
				CABundle []byte `json:"caBundle"`
			} `json:"clientConfig"`
		} `json:"spec"`
	}
	out, err := cp.Kubectl(context.Background(), nil, "get", "clusterinterceptors.triggers.tekton.dev", name, "-o", "json")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if err := json.Unmarshal(out, &ci); err != nil {
		t.Fatal(err)
	}
	return string(ci.Spec.ClientConfig.CABundle)
}

// checkNetworkPolicy: the API server accepted the generated NetworkPolicy,
// it selects the interceptor's Pod, and it admits the EventListener Pod the
// Triggers controller made, by the labels that Pod really carries. (The
// node's bridge CNI does not enforce NetworkPolicy, so no traffic is
// refused here.)
func checkNetworkPolicy(t *testing.T, ns, interceptorName, listener string) {
	t.Helper()
	ctx := context.Background()
	var np networkingv1.NetworkPolicy
	if err := cp.Get(ctx, ns, "networkpolicy", interceptorName, &np); err != nil {
		t.Fatalf("NetworkPolicy %s: %v", interceptorName, err)
	}
	sel := func(ls *metav1.LabelSelector) labels.Selector {
		s, err := metav1.LabelSelectorAsSelector(ls)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	pods := interceptorPods(t, ns, interceptorName)
	if len(pods) == 0 || !sel(&np.Spec.PodSelector).Matches(labels.Set(pods[0].Labels)) {
		t.Errorf("the NetworkPolicy does not select the interceptor's Pod")
	}
	var all corev1.PodList
	if err := cp.Get(ctx, ns, "pods", "", &all); err != nil {
		t.Fatal(err)
	}
	if len(np.Spec.Ingress) != 1 || len(np.Spec.Ingress[0].From) != 1 || np.Spec.Ingress[0].From[0].PodSelector == nil {
		t.Fatalf("ingress %+v", np.Spec.Ingress)
	}
	from := sel(np.Spec.Ingress[0].From[0].PodSelector)
	admitted := 0
	for _, p := range all.Items {
		if from.Matches(labels.Set(p.Labels)) {
			admitted++
			if p.Labels["eventlistener"] != listener {
				t.Errorf("Pod %s (%v) is admitted, not an EventListener Pod", p.Name, p.Labels)
			}
		}
	}
	if admitted == 0 {
		t.Errorf("no Pod in %s is admitted by %v; Pods: %v", ns, from, podLabels(all.Items))
	}
}

func podLabels(pods []corev1.Pod) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, p := range pods {
		out[p.Name] = p.Labels
	}
	return out
}

// serviceEndpoints are the ready addresses of Service name's EndpointSlices.
func serviceEndpoints(t *testing.T, ns, name string) []string {
	t.Helper()
	var slices struct {
		Items []struct {
			Endpoints []struct {
				Addresses  []string `json:"addresses"`
				Conditions struct {
					Ready *bool `json:"ready"`
				} `json:"conditions"`
			} `json:"endpoints"`
		} `json:"items"`
	}
	out, err := cp.Kubectl(context.Background(), nil, "get", "endpointslices", "-n", ns, "-l", "kubernetes.io/service-name="+name, "-o", "json")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if err := json.Unmarshal(out, &slices); err != nil {
		t.Fatal(err)
	}
	var ips []string
	for _, sl := range slices.Items {
		for _, e := range sl.Endpoints {
			if e.Conditions.Ready == nil || *e.Conditions.Ready {
				ips = append(ips, e.Addresses...)
			}
		}
	}
	return ips
}
