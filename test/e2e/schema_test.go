//go:build e2e

package e2e

import (
	"context"
	"strings"
	"testing"
)

// TestAPIServerRejects checks that bad objects are refused by the cluster
// itself: the CRD schemas in the API server and Tekton's admission webhooks.
func TestAPIServerRejects(t *testing.T) {
	ctx := context.Background()
	ns := "rejects"
	namespace(t, ns)
	for _, tc := range []struct {
		name string
		task string // spec of a Task
		want []string
	}{{
		// kubectl asks for strict field validation (its default); the API
		// server checks the field against the CRD's structural schema.
		name: "unknown field",
		task: `steps: [{name: s, image: alpine, script: "true", imagePullPolicyy: Always}]`,
		want: []string{"Error from server", `unknown field "spec.steps[0].imagePullPolicyy"`},
	}, {
		// The schema makes claims a map keyed by name. Go's types (and so
		// Tekton's webhooks) see just a list; only the schema refuses.
		name: "schema constraint",
		task: `steps: [{name: s, image: alpine, script: "true", computeResources: {claims: [{name: a}, {name: a}]}}]`,
		// kubectl prints the server's 422 Invalid status this way.
		want: []string{`The Task "bad" is invalid: spec.steps[0].computeResources.claims[1]: Duplicate value`},
	}, {
		// A list for a string. Tekton's mutating webhook decodes the object
		// into its Go types and refuses it; kube-apiserver calls mutating
		// webhooks before it checks the schema, so it gets there first.
		name: "wrong type (webhook)",
		task: `steps: [{name: s, image: alpine, script: "true", workingDir: [a, b]}]`,
		want: []string{"Error from server", `admission webhook "webhook.pipeline.tekton.dev" denied the request`, "cannot unmarshal array into Go struct field Step.spec.steps.workingDir of type string"},
	}, {
		// Valid against the schema, but Tekton's own validation refuses it.
		name: "tekton validation",
		task: `steps: [{name: s, image: alpine, script: "true", command: [sh]}]`,
		want: []string{"Error from server", `admission webhook "validation.webhook.pipeline.tekton.dev" denied the request`, "script cannot be used with command"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			obj := "apiVersion: tekton.dev/v1\nkind: Task\nmetadata: {name: bad}\nspec:\n  " + tc.task + "\n"
			// create sends the object as written (apply would drop nulls).
			out, err := cp.Kubectl(ctx, []byte(obj), "create", "-n", ns, "-f", "-")
			if err == nil {
				t.Fatalf("the API server accepted %s:\n%s", obj, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %q:\n%v", w, err)
				}
			}
		})
	}
	if out, err := cp.Kubectl(ctx, nil, "get", "tasks", "-n", ns, "-o", "name"); err != nil || len(strings.TrimSpace(string(out))) != 0 {
		t.Errorf("after the rejections the namespace holds %q (err %v), want nothing", out, err)
	}
}
