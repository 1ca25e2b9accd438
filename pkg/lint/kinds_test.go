package lint

import (
	"testing"

	"github.com/pipewright/pipewright/pkg/tekton"
)

// Lint's kind table keeps its own decoders (lenient past wrong types,
// v1alpha1 Triggers validated as written) but reads every kind the rest of
// pipewright reads.
func TestKindsCoverTekton(t *testing.T) {
	for _, k := range tekton.Kinds {
		if _, ok := kinds[k.APIVersion+"/"+k.Kind]; !ok {
			t.Errorf("lint does not read %s/%s, which tekton.Kinds lists", k.APIVersion, k.Kind)
		}
	}
}

// Go template text inside a quoted or block scalar is data (a param's
// description, a script's own templating): the object is linted. A template
// action in the YAML itself makes the document a template, skipped.
func TestGoTemplateOnlyInYAML(t *testing.T) {
	const data = `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: report
spec:
  params:
    - name: query
      description: 'PromQL over {{ .Canary }} and {{ .Stable }}'
  steps:
    - name: run
      image: alpine:latest
      script: |
        echo '{{ .Values.not_ours }}'
---
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: chart-{{ .Release.Name }}
spec:
  steps:
    - name: run
      image: alpine
`
	rep := LintReport([]Input{{Path: "t.yaml", Data: []byte(data)}}, nil)
	var skipped, latest []int
	for _, f := range rep.Findings {
		switch f.Rule {
		case "skipped":
			skipped = append(skipped, f.Line)
		case "latest-tag":
			latest = append(latest, f.Line)
		}
	}
	if len(skipped) != 1 || skipped[0] != 15 {
		t.Errorf("skipped at lines %v, want [15] (the templated name)", skipped)
	}
	if len(latest) != 1 || latest[0] != 11 {
		t.Errorf("latest-tag at lines %v, want [11]: the first Task is linted", latest)
	}
}
