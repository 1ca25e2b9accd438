package generator_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/pipewright/pipewright/generator/catalog"
	"github.com/pipewright/pipewright/generator/generatortest"
	"github.com/pipewright/pipewright/pkg/tekton"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
)

// With github.app, each pipeline reports one check run named after itself
// (github-check-run) and no commit status: in progress once clone has the
// commit, completed in finally with every task's outcome; test and lint
// keep their output under their own names for it. The README lists the
// App's Secret.
func TestGitHubAppPipelinesReportCheckRuns(t *testing.T) {
	tree := generatortest.Project(t, "  app: {id: 4242, installationID: 77}\ntools: {image: ghcr.io/acme/pipewright@sha256:"+strings.Repeat("ab", 32)+"}\n")
	for _, tc := range []struct {
		file, tasks string
		logs        map[string]string
	}{
		{"pipelines/hello-world-pull-request.yaml", "clone,test,lint,build-image", map[string]string{"test": "test", "lint": "lint"}},
		{"pipelines/hello-world-release.yaml", "clone,test,build-image,deploy", map[string]string{"test": "test"}},
	} {
		objs, err := tekton.Decode(tc.file, tree[tc.file])
		if err != nil {
			t.Fatal(err)
		}
		p := objs[0].Obj.(*v1.Pipeline)
		defaults := map[string]string{}
		for _, ps := range p.Spec.Params {
			if ps.Default != nil {
				defaults[ps.Name] = ps.Default.StringVal
			}
		}
		if defaults["github-app-id"] != "4242" || defaults["github-app-installation-id"] != "77" || defaults["github-app-key-secret"] != "github-app" {
			t.Errorf("%s: App params %v", tc.file, defaults)
		}
		reports := map[string]string{}
		for _, pt := range append(append([]v1.PipelineTask{}, p.Spec.Tasks...), p.Spec.Finally...) {
			if pt.TaskRef.Name == "github-set-status" {
				t.Errorf("%s: %s still sets a commit status", tc.file, pt.Name)
			}
			params := map[string]v1.ParamValue{}
			for _, prm := range pt.Params {
				params[prm.Name] = prm.Value
			}
			if want, ok := tc.logs[pt.Name]; ok && params[catalog.LogNameParam].StringVal != want {
				t.Errorf("%s: %s keeps its log as %q, want %q", tc.file, pt.Name, params[catalog.LogNameParam].StringVal, want)
			}
			if pt.TaskRef.Name != "github-check-run" {
				continue
			}
			if params["name"].StringVal != "$(context.pipeline.name)" || params["app-id"].StringVal != "$(params.github-app-id)" {
				t.Errorf("%s: %s params %v", tc.file, pt.Name, params)
			}
			var names []string
			for _, o := range params["tasks"].ArrayVal {
				name, status, _ := strings.Cut(o, "=")
				if status != "$(tasks."+name+".status)" && !(pt.Name == "set-pending" && o == "clone=Succeeded") {
					t.Errorf("%s: %s: %s", tc.file, pt.Name, o)
				}
				names = append(names, name)
			}
			reports[pt.Name] = params["state"].StringVal + ":" + strings.Join(names, ",")
		}
		want := map[string]string{"set-pending": "pending:clone", "report-success": "success:" + tc.tasks,
			"report-failure": "failure:" + tc.tasks, "report-clone-failure": "failure:" + tc.tasks}
		for k, v := range want {
			if reports[k] != v {
				t.Errorf("%s: %s reports %q, want %q", tc.file, k, reports[k], v)
			}
		}
	}
	if _, ok := tree["tasks/github-check-run.yaml"]; !ok {
		var names []string
		for f := range tree {
			if strings.HasPrefix(f, "tasks/") {
				names = append(names, f)
			}
		}
		t.Errorf("no github-check-run Task written; tasks: %v", names)
	}
	readme := string(tree["README.md"])
	if !strings.Contains(readme, "kubectl create secret generic github-app -n default --from-file=private-key.pem=") {
		t.Errorf("README does not say how to create the App's Secret")
	}
}

// With a canary deploy, the canary's decision is a check run of its own,
// <pipeline>/canary, titled with the analysis summary, and no commit status
// is left in the release pipeline.
func TestGitHubAppCanaryDecisionIsACheckRun(t *testing.T) {
	tree := generatortest.Project(t, "  app: {id: 4242}\ntools: {image: ghcr.io/acme/pipewright@sha256:"+strings.Repeat("ab", 32)+"}\ndeploy:\n  strategy: canary\n")
	const f = "pipelines/hello-world-release.yaml"
	objs, err := tekton.Decode(f, tree[f])
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, pt := range objs[0].Obj.(*v1.Pipeline).Spec.Finally {
		if pt.TaskRef.Name == "github-set-status" {
			t.Errorf("%s still sets a commit status", pt.Name)
		}
		if pt.Name != "report-canary-success" && pt.Name != "report-canary-failure" {
			continue
		}
		ps := map[string]v1.ParamValue{}
		for _, p := range pt.Params {
			ps[p.Name] = p.Value
		}
		got[pt.Name] = ps["name"].StringVal + " " + ps["state"].StringVal + " " + ps["title"].StringVal + " " + strings.Join(ps["tasks"].ArrayVal, ",")
	}
	for name, state := range map[string]string{"report-canary-success": "success", "report-canary-failure": "failure"} {
		want := "$(context.pipeline.name)/canary " + state + " $(tasks.deploy.results.summary) deploy=$(tasks.deploy.status)"
		if got[name] != want {
			t.Errorf("%s: %q, want %q", name, got[name], want)
		}
	}
	if _, ok := tree["tasks/github-set-status.yaml"]; ok {
		t.Errorf("github-set-status written though nothing uses it")
	}
}

// Every pack's lint and test Tasks keep their log for the check run: a
// pipeline that passes log-name to a Task that does not declare it is
// refused by the wiring check, so each pack generates with an App.
func TestGitHubAppEveryPack(t *testing.T) {
	const old = "  version: \"1.26\"\n  # Build pack: go, node, python, java or docker (Dockerfile only).\n  pack: go\n"
	app := "  app: {id: 4242}\ntools: {image: ghcr.io/acme/pipewright@sha256:" + strings.Repeat("ab", 32) + "}\n"
	for _, build := range []string{"  pack: go\n", "  pack: go\n  commands: make\n", "  pack: node\n", "  pack: bun\n", "  pack: python\n", "  pack: java\n"} {
		t.Run(strings.TrimSpace(build), func(t *testing.T) {
			tree := generatortest.ProjectWith(t, old, build, app)
			file := "pipelines/hello-world-pull-request.yaml"
			objs, err := tekton.Decode(file, tree[file])
			if err != nil {
				t.Fatal(err)
			}
			kept := 0
			for _, pt := range objs[0].Obj.(*v1.Pipeline).Spec.Tasks {
				for _, prm := range pt.Params {
					if prm.Name == catalog.LogNameParam && prm.Value.StringVal == pt.Name {
						kept++
					}
				}
			}
			if kept == 0 {
				t.Errorf("no task of %s keeps its log", file)
			}
		})
	}
}

// A monorepo's services share pipelines; with an App each service still
// reports its own check run, named by its status context and the kind, not
// after the shared pipeline (where two services' reports would overwrite
// each other on a commit that touches both).
func TestGitHubAppMonorepoCheckRunPerService(t *testing.T) {
	tree := generatortest.Project(t, "  app: {id: 4242}\ntools: {image: ghcr.io/acme/pipewright@sha256:"+strings.Repeat("ab", 32)+"}\n"+
		"services:\n  - name: api\n    context: services/api\n  - name: web\n    context: services/web\n")
	names := map[string]bool{}
	for file, data := range tree {
		if !strings.HasPrefix(file, "pipelines/") {
			continue
		}
		objs, err := tekton.Decode(file, data)
		if err != nil {
			t.Fatal(err)
		}
		p := objs[0].Obj.(*v1.Pipeline)
		declared := false
		for _, ps := range p.Spec.Params {
			declared = declared || ps.Name == "status-context" && ps.Default == nil
		}
		if !declared {
			t.Errorf("%s does not take status-context from each service", file)
		}
		for _, pt := range append(append([]v1.PipelineTask{}, p.Spec.Tasks...), p.Spec.Finally...) {
			for _, prm := range pt.Params {
				if pt.TaskRef != nil && pt.TaskRef.Name == "github-check-run" && prm.Name == "name" {
					names[prm.Value.StringVal] = true
				}
			}
		}
	}
	want := map[string]bool{"$(params.status-context)/pull-request": true, "$(params.status-context)/release": true}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("check run names %v, want %v", names, want)
	}
}
