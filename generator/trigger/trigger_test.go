package trigger_test

import (
	"strings"
	"testing"

	"github.com/pipewright/pipewright/generator/generatortest"
	"github.com/pipewright/pipewright/pkg/tekton"
	triggersv1alpha1 "github.com/tektoncd/triggers/pkg/apis/triggers/v1alpha1"
	triggersv1 "github.com/tektoncd/triggers/pkg/apis/triggers/v1beta1"
)

// TestObjectsValidate decodes every generated triggers/ file strictly into
// the Triggers types and runs Triggers' SetDefaults and Validate on it.
func TestObjectsValidate(t *testing.T) {
	tool := "tools:\n  image: " + generatortest.ToolImage(t) + "\n"
	for name, extra := range map[string]string{
		"built-in":                       "",
		"owners, drafts, paths":          "  owners: [alice]\n  drafts: true\npaths:\n  - services/api/**\n",
		"ChatOps":                        tool,
		"ChatOps, owners, drafts, paths": "  owners: [alice]\n  drafts: true\npaths:\n  - services/api/**\n" + tool,
	} {
		chatops := strings.HasPrefix(name, "ChatOps")
		t.Run(name, func(t *testing.T) {
			tree := generatortest.Project(t, extra)
			triggers := map[string][]byte{}
			for p, b := range tree {
				if strings.HasPrefix(p, "triggers/") {
					triggers[p] = b
				}
			}
			objs, err := tekton.All(triggers)
			if err != nil {
				t.Fatal(err)
			}
			kinds := map[string]int{}
			for _, o := range objs {
				switch o.Obj.(type) {
				case *triggersv1.EventListener, *triggersv1.TriggerBinding, *triggersv1.TriggerTemplate, *triggersv1alpha1.ClusterInterceptor:
					kinds[o.Kind]++
				case nil:
					if !strings.HasPrefix(o.File, "triggers/rbac/") && !strings.HasPrefix(o.File, "triggers/interceptor/") {
						t.Errorf("%s: %s not decoded into a Triggers type", o.File, o.Kind)
					}
				}
			}
			// The ChatOps trigger, its binding and its interceptor need
			// the tool image the interceptor runs from.
			want := map[string]int{"EventListener": 1, "TriggerBinding": 2, "TriggerTemplate": 2, "ClusterInterceptor": 0}
			if chatops {
				want["TriggerBinding"], want["ClusterInterceptor"] = 3, 1
			}
			for k, n := range want {
				if kinds[k] != n {
					t.Errorf("%d %s, want %d", kinds[k], k, n)
				}
			}
			if !strings.Contains(string(tree["kustomization.yaml"]), "triggers/eventlistener.yaml") {
				t.Error("kustomization does not list the triggers")
			}
		})
	}
}

// TestStrictDecoding: an unknown field in a Triggers object is an error,
// and so is an invalid one (Triggers' Validate).
func TestStrictDecoding(t *testing.T) {
	unknown := "apiVersion: triggers.tekton.dev/v1beta1\nkind: TriggerBinding\nmetadata:\n  name: b\nspec:\n  parms: []\n"
	if _, err := tekton.All(map[string][]byte{"b.yaml": []byte(unknown)}); err == nil || !strings.Contains(err.Error(), "parms") {
		t.Errorf("unknown field: %v", err)
	}
	invalid := "apiVersion: triggers.tekton.dev/v1beta1\nkind: TriggerTemplate\nmetadata:\n  name: t\nspec:\n  resourcetemplates:\n    - apiVersion: tekton.dev/v1\n      kind: PipelineRun\n      metadata:\n        generateName: x-\n      spec:\n        params:\n          - name: a\n            value: $(tt.params.undeclared)\n"
	if _, err := tekton.All(map[string][]byte{"t.yaml": []byte(invalid)}); err == nil || !strings.Contains(err.Error(), "undeclared") {
		t.Errorf("undeclared param: %v", err)
	}
}
