package lint

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// wiring follows Tekton's resolution rules (tekton.PipelineWiring): an
// ignored param is a warning at the param, a missing one an error at the
// pipeline task, and what Tekton propagates into an embedded taskSpec
// (pipeline params, workspaces), or a matrix gives, is no finding. The
// document starts after a "--- # comment" separator, which splits like any.
func TestWiringFindings(t *testing.T) {
	const digest = "x@sha256:0000000000000000000000000000000000000000000000000000000000000000"
	src := `--- # the Task
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: build
spec:
  params:
  - name: package
  workspaces:
  - name: source
  steps:
  - name: build
    image: ` + digest + `
    script: echo $(params.package) $(workspaces.source.path)
--- # the Pipeline
apiVersion: tekton.dev/v1
kind: Pipeline
metadata:
  name: p
spec:
  params:
  - name: greeting
  workspaces:
  - name: ws
  - name: source
  tasks:
  - name: typo
    taskRef: {name: build}
    params:
    - name: pakage
      value: x
    workspaces: [{name: source, workspace: ws}]
  - name: matrix
    taskRef: {name: build}
    matrix:
      params: [{name: package, value: [a, b]}]
    workspaces: [{name: source, workspace: ws}]
  - name: embedded
    params: [{name: greeting, value: hi}]
    workspaces: [{name: cache, workspace: ws}]
    taskSpec:
      workspaces: [{name: source}]
      steps:
      - name: s
        image: ` + digest + `
        script: echo $(params.greeting) $(workspaces.source.path) $(workspaces.cache.path)
`
	var got []string
	for _, f := range Lint([]Input{{Path: "p.yaml", Data: []byte(src)}}, nil) {
		if f.Rule == "wiring" {
			got = append(got, f.String())
		}
	}
	want := []string{
		`p.yaml:27:5: error wiring: pipeline task "typo" (task build): does not pass param "package", which task build requires`,
		`p.yaml:30:7: warning wiring: pipeline task "typo" (task build): passes param "pakage", which task build does not declare (it declares: package); Tekton ignores it`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("wiring findings (-want +got):\n%s\nall:\n%s", d, strings.Join(got, "\n"))
	}
}
