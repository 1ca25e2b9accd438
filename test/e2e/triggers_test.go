//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
)

// webhooks is the folder of real GitHub payloads shared by the project's
// tests.
var webhooks = filepath.Join(repoRoot(), "test", "testdata", "github-webhooks")

// minimalListener is a small EventListener of the test's own: the github
// ClusterInterceptor checks the signature and event type, and a trigger
// makes a PipelineRun carrying the PR's head sha. The generated
// EventListener gets the same treatment in its own test.
const minimalListener = `
apiVersion: v1
kind: ServiceAccount
metadata: {name: listener}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: listener}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: tekton-triggers-eventlistener-roles}
subjects: [{kind: ServiceAccount, name: listener, namespace: NAMESPACE}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: NAMESPACE-listener}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: tekton-triggers-eventlistener-clusterroles}
subjects: [{kind: ServiceAccount, name: listener, namespace: NAMESPACE}]
---
apiVersion: v1
kind: Secret
metadata: {name: github-webhook}
stringData: {secret: SECRET}
---
apiVersion: tekton.dev/v1
kind: Pipeline
metadata: {name: hello}
spec:
  params: [{name: revision}]
  tasks:
  - name: say
    params: [{name: revision, value: $(params.revision)}]
    taskSpec:
      params: [{name: revision}]
      steps:
      - name: say
        image: busybox
        env: [{name: REVISION, value: $(params.revision)}]
        script: echo "$REVISION"
---
apiVersion: triggers.tekton.dev/v1beta1
kind: TriggerBinding
metadata: {name: pull-request}
spec:
  params: [{name: revision, value: $(body.pull_request.head.sha)}]
---
apiVersion: triggers.tekton.dev/v1beta1
kind: TriggerTemplate
metadata: {name: hello}
spec:
  params: [{name: revision}]
  resourcetemplates:
  - apiVersion: tekton.dev/v1
    kind: PipelineRun
    metadata: {generateName: hello-}
    spec:
      pipelineRef: {name: hello}
      params: [{name: revision, value: $(tt.params.revision)}]
---
apiVersion: triggers.tekton.dev/v1beta1
kind: EventListener
metadata: {name: github}
spec:
  serviceAccountName: listener
  triggers:
  - name: pull-request
    interceptors:
    - ref: {name: github, kind: ClusterInterceptor}
      params:
      - {name: secretRef, value: {secretName: github-webhook, secretKey: secret}}
      - {name: eventTypes, value: [pull_request]}
    bindings: [{ref: pull-request}]
    template: {ref: hello}
`

// TestEventListenerSinkCreatesPipelineRun runs a real EventListener sink and
// posts real GitHub pull_request payloads to it through its Service.
func TestEventListenerSinkCreatesPipelineRun(t *testing.T) {
	ctx := context.Background()
	ns := "listener"
	namespace(t, ns)
	secret := randomSecret(t)
	objs := bytes.ReplaceAll([]byte(minimalListener), []byte("NAMESPACE"), []byte(ns))
	objs = bytes.ReplaceAll(objs, []byte("SECRET"), []byte(secret))
	if out, err := cp.Kubectl(ctx, objs, "apply", "-n", ns, "-f", "-"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	sink, err := cp.StartEventListener(ctx, ns, "github")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sink.Stop)

	body := readPayload(t, "pull_request.opened.json")
	var pr struct {
		PullRequest struct {
			Head struct {
				SHA string `json:"sha"`
			} `json:"head"`
		} `json:"pull_request"`
	}
	if err := json.Unmarshal(body, &pr); err != nil {
		t.Fatal(err)
	}
	// Same event, another head sha, signed with the wrong secret: it must
	// never become a PipelineRun.
	forged := bytes.ReplaceAll(body, []byte(pr.PullRequest.Head.SHA), []byte("0000000000000000000000000000000000000bad"))
	refusedBefore := interceptorRefusals(t, "payload signature check failed")
	postGitHub(t, sink.URL, "pull_request", forged, "not-the-secret")
	postGitHub(t, sink.URL, "pull_request", body, secret)

	var runs []v1.PipelineRun
	err = cp.WaitFor(ctx, time.Minute, func() (bool, error) {
		runs, err = pipelineRuns(ctx, ns)
		return len(runs) > 0, err
	})
	if err != nil {
		t.Fatalf("no PipelineRun from the signed pull_request: %v\nsink log:\n%s", err, sink.Log(30))
	}
	// The sink handles deliveries asynchronously; once the github
	// interceptor has answered the forged one, the sink is done with it.
	err = cp.WaitFor(ctx, 30*time.Second, func() (bool, error) {
		return interceptorRefusals(t, "payload signature check failed") > refusedBefore, nil
	})
	if err != nil {
		t.Fatalf("the github interceptor never refused the forged delivery: %v\nsink log:\n%s", err, sink.Log(30))
	}
	runs, err = pipelineRuns(ctx, ns)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 {
		t.Fatalf("%d PipelineRuns, want 1 (the forged delivery must be refused)", len(runs))
	}
	got := ""
	for _, p := range runs[0].Spec.Params {
		if p.Name == "revision" {
			got = p.Value.StringVal
		}
	}
	if got != pr.PullRequest.Head.SHA {
		t.Errorf("PipelineRun %s has revision %q, want the PR head %s", runs[0].Name, got, pr.PullRequest.Head.SHA)
	}
}

// interceptorRefusals counts the core interceptors' answers that stopped a
// trigger with message.
func interceptorRefusals(t *testing.T, message string) int {
	t.Helper()
	log, err := cp.Log("tekton-pipelines_tekton-triggers-core-interceptors")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(log, "Continue:false Status:{Code:FailedPrecondition Message:"+message+"}")
}

func readPayload(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(webhooks, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func randomSecret(t *testing.T) string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// postGitHub delivers body as GitHub would: event header, delivery id and
// an HMAC-SHA256 signature with secret. It checks the sink accepted it for
// processing (202); what the triggers then do is asynchronous.
func postGitHub(t *testing.T, url, event string, body []byte, secret string) {
	t.Helper()
	postGitHubAs(t, url, event, randomSecret(t), body, secret)
}

// postGitHubAs is postGitHub with the delivery id given.
func postGitHubAs(t *testing.T, url, event, delivery string, body []byte, secret string) {
	t.Helper()
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", delivery)
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST %s: %s: %s", url, resp.Status, b)
	}
}

func pipelineRuns(ctx context.Context, ns string) ([]v1.PipelineRun, error) {
	var list struct {
		Items []v1.PipelineRun `json:"items"`
	}
	out, err := cp.Kubectl(ctx, nil, "get", "pipelineruns.tekton.dev", "-n", ns, "-o", "json")
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(out, &list); err != nil {
		return nil, fmt.Errorf("pipelineruns in %s: %w", ns, err)
	}
	return list.Items, nil
}
