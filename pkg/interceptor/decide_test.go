package interceptor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pipewright/pipewright/pkg/github"
	"github.com/pipewright/pipewright/pkg/github/githubtest"
	"github.com/pipewright/pipewright/pkg/interceptor"
	triggersv1 "github.com/tektoncd/triggers/pkg/apis/triggers/v1beta1"
	"google.golang.org/grpc/codes"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
)

const (
	repo    = "Codertocat/Hello-World"
	head    = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
	delivID = "72d3162e-cc78-11e3-81ab-4c9367dc0958"
)

func request(event, repository, body, ns string) *triggersv1.InterceptorRequest {
	return &triggersv1.InterceptorRequest{
		Body:              body,
		Header:            map[string][]string{"X-Github-Event": {event}, "X-Github-Delivery": {delivID}},
		InterceptorParams: map[string]any{"repository": repository, "defaultBranch": "master"},
		Context:           &triggersv1.TriggerContext{TriggerID: "namespaces/" + ns + "/triggers/release", EventID: "e1"},
	}
}

func pushBody(repository, after string) string {
	b, _ := json.Marshal(map[string]any{"ref": "refs/heads/master", "after": after, "repository": map[string]any{"full_name": repository}})
	return string(b)
}

func client(t testing.TB, api string) *github.Client {
	t.Helper()
	gh, err := github.New(github.Options{APIURL: api, Token: "test-token", Retry: &github.Retry{Backoff: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return gh
}

// The interceptor is no oracle: a request naming a repository it was not
// started for, or from a trigger in another namespace, is refused before
// GitHub is asked, and every decision is logged with the delivery id.
func TestAnswersOnlyForItsRepository(t *testing.T) {
	gh := githubtest.New(t)
	gh.AddRepo(repo)
	gh.AddRepo("acme/private")
	gh.SetBranch(repo, "master", head)
	gh.SetBranch("acme/private", "master", head)
	var log bytes.Buffer
	i := &interceptor.Interceptor{GitHub: client(t, gh.URL), Repositories: []string{repo}, Namespace: "ci",
		Log: slog.New(slog.NewJSONHandler(&log, nil))}
	for _, c := range []struct {
		name string
		req  *triggersv1.InterceptorRequest
		code codes.Code
		want string
	}{
		{"another repository", request("push", "acme/private", pushBody("acme/private", head), "ci"), codes.PermissionDenied, "does not serve acme/private"},
		{"another namespace", request("push", repo, pushBody(repo, head), "other"), codes.PermissionDenied, `namespace "other"`},
		{"body of another repository", request("push", repo, pushBody("acme/private", head), "ci"), codes.FailedPrecondition, "delivery for acme/private"},
	} {
		resp := i.Process(context.Background(), c.req)
		if resp.Continue || resp.Status.Code != c.code || !strings.Contains(resp.Status.Message, c.want) {
			t.Errorf("%s: %+v, want %v %q", c.name, resp, c.code, c.want)
		}
	}
	if n := len(gh.Requests()); n != 0 {
		t.Errorf("%d GitHub requests for refused deliveries", n)
	}
	// The configured repository, any case: the branch head is asked.
	if resp := i.Process(context.Background(), request("push", strings.ToLower(repo), pushBody(repo, head), "ci")); !resp.Continue {
		t.Errorf("own repository: %+v", resp.Status)
	}
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d log lines, want one per decision:\n%s", len(lines), log.String())
	}
	for _, l := range lines {
		var e map[string]any
		if err := json.Unmarshal([]byte(l), &e); err != nil || e["delivery"] != delivID || e["event"] != "push" || e["continue"] == nil {
			t.Errorf("log line %s: %v", l, err)
		}
	}
	if !strings.Contains(lines[0], `"reason":"this interceptor does not serve acme/private"`) {
		t.Errorf("refusal logged without its reason: %s", lines[0])
	}
}

// A hung GitHub is not waited on past the decision timeout: Triggers gets
// an answer (Unavailable) before its EventListener gives up.
func TestBoundedByTimeout(t *testing.T) {
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	defer hung.Close()
	i := &interceptor.Interceptor{GitHub: client(t, hung.URL), Repositories: []string{repo}, Timeout: 200 * time.Millisecond}
	body, _ := json.Marshal(request("push", repo, pushBody(repo, head), "ci"))
	rec := httptest.NewRecorder()
	start := time.Now()
	i.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body)))
	took := time.Since(start)
	var resp triggersv1.InterceptorResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatal(err)
	}
	if resp.Continue || resp.Status.Code != codes.Unavailable {
		t.Errorf("answer %+v, want Unavailable", resp)
	}
	if took > 2*time.Second {
		t.Errorf("answered after %v, want about the 200ms timeout", took)
	}
}

// ClusterRuns finds runs by label in the namespace, and refuses a value no
// label can hold (a made-up delivery header) instead of listing.
func TestClusterRuns(t *testing.T) {
	run := &unstructured.Unstructured{}
	run.SetAPIVersion("tekton.dev/v1")
	run.SetKind("PipelineRun")
	run.SetNamespace("ci")
	run.SetName("r1")
	run.SetLabels(map[string]string{interceptor.DeliveryLabel: delivID})
	scheme := runtime.NewScheme()
	dc := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(scheme,
		map[schema.GroupVersionResource]string{interceptor.PipelineRuns: "PipelineRunList"}, run)
	runs := interceptor.ClusterRuns{Client: dc}
	for _, c := range []struct {
		ns, value string
		want      bool
	}{{"ci", delivID, true}, {"ci", "72d3162e-0000-11e3-81ab-4c9367dc0958", false}, {"other", delivID, false}} {
		got, err := runs.Exists(context.Background(), c.ns, map[string]string{interceptor.DeliveryLabel: c.value})
		if err != nil || got != c.want {
			t.Errorf("Exists(%s, %s) = %v, %v; want %v", c.ns, c.value, got, err, c.want)
		}
	}
	if _, err := runs.Exists(context.Background(), "ci", map[string]string{interceptor.DeliveryLabel: "x,y=z"}); err == nil {
		t.Error("a value no label can hold was listed")
	}
}

func pipelineRun(name string, created time.Time, labels map[string]string, succeeded string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("tekton.dev/v1")
	u.SetKind("PipelineRun")
	u.SetNamespace("ci")
	u.SetName(name)
	u.SetLabels(labels)
	u.SetCreationTimestamp(metav1.NewTime(created))
	if succeeded != "" {
		unstructured.SetNestedSlice(u.Object, []any{map[string]any{"type": "Succeeded", "status": succeeded}}, "status", "conditions")
	}
	return u
}

// ClusterRuns cancels the unfinished runs of a selection with
// CancelledRunFinally, and prunes the finished ones but the newest.
func TestClusterRunsCancelAndPrune(t *testing.T) {
	pr := func(n string) map[string]string {
		return map[string]string{interceptor.KindLabel: "pull-request", interceptor.PullRequestLabel: n}
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	dc := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{interceptor.PipelineRuns: "PipelineRunList"},
		pipelineRun("running-2", t0, pr("2"), "Unknown"),
		pipelineRun("pending-2", t0, pr("2"), ""),
		pipelineRun("done-2", t0.Add(time.Minute), pr("2"), "True"),
		pipelineRun("failed-2", t0.Add(2*time.Minute), pr("2"), "False"),
		pipelineRun("running-3", t0, pr("3"), "Unknown"),
	)
	runs := interceptor.ClusterRuns{Client: dc}
	ctx := context.Background()
	got, err := runs.Cancel(ctx, "ci", pr("2"))
	if err != nil || strings.Join(got, ",") != "pending-2,running-2" {
		t.Fatalf("Cancel = %v, %v; want pending-2 and running-2", got, err)
	}
	for name, want := range map[string]string{"running-2": interceptor.CancelStatus, "pending-2": interceptor.CancelStatus, "done-2": "", "running-3": ""} {
		u, err := dc.Resource(interceptor.PipelineRuns).Namespace("ci").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if s, _, _ := unstructured.NestedString(u.Object, "spec", "status"); s != want {
			t.Errorf("%s: spec.status %q, want %q", name, s, want)
		}
	}
	if got, _ := runs.Cancel(ctx, "ci", pr("2")); len(got) != 0 {
		t.Errorf("cancelled again: %v", got)
	}
	pruned, err := runs.Prune(ctx, "ci", map[string]string{interceptor.KindLabel: "pull-request"}, 1)
	if err != nil || strings.Join(pruned, ",") != "done-2" {
		t.Errorf("Prune = %v, %v; want the older finished run done-2", pruned, err)
	}
}
