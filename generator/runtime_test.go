package generator_test

// Tests for what the generated YAML does at run time, on a real node with
// Tekton at its default configuration: one claim per TaskRun, fsGroup,
// no two tasks writing one folder at once, statuses on the cloned commit,
// and a README that names every Secret to create.

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/pipewright/pipewright/generator"
	"github.com/pipewright/pipewright/generator/buildpack"
	"github.com/pipewright/pipewright/generator/builtin"
	"github.com/pipewright/pipewright/generator/catalog"
	"github.com/pipewright/pipewright/generator/config"
	"github.com/pipewright/pipewright/generator/generatortest"
	"github.com/pipewright/pipewright/generator/pipeline"
	"github.com/pipewright/pipewright/generator/render"
	"github.com/pipewright/pipewright/pkg/tekton"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	"github.com/tektoncd/pipeline/pkg/workspace"
	triggersv1 "github.com/tektoncd/triggers/pkg/apis/triggers/v1beta1"
	corev1 "k8s.io/api/core/v1"
)

// variants are generated projects: every example (one per pack), and the
// built-in one with the options that change the pipelines' shape.
func variants(t *testing.T) map[string]render.Tree {
	t.Helper()
	out := map[string]render.Tree{}
	for _, ex := range examples {
		tree, err := generator.Project(load(t, filepath.Join("..", "examples", ex, "pipewright.yaml")))
		if err != nil {
			t.Fatal(err)
		}
		out[ex] = tree
	}
	out["go-image, canary, prTag"] = generatortest.ProjectWith(t, "  repository: ghcr.io/codertocat/hello-world\n",
		"  repository: ghcr.io/codertocat/hello-world\n  builder: go-image\n  prTag: true\n",
		"deploy:\n  strategy: canary\ntools:\n  image: "+generatortest.ToolImage(t)+"\n")
	out["no lint, no deploy"] = generatortest.ProjectWith(t, "  pack: go\n", "  pack: go\n  lint:\n    disabled: true\n", "deploy:\n  disabled: true\n")
	out["node, tasks from cluster"] = generatortest.ProjectWith(t, "  version: \"1.26\"\n  # Build pack: go, node, python, java or docker (Dockerfile only).\n  pack: go\n", "  pack: node\n", "tasks:\n  from: cluster\n")
	return out
}

// runs are a tree's PipelineRuns: runs/*.yaml and the TriggerTemplates'
// resource templates, by where they are.
func runs(t *testing.T, tree render.Tree) map[string]*v1.PipelineRun {
	t.Helper()
	out := map[string]*v1.PipelineRun{}
	for _, p := range tree.Paths() {
		if !strings.HasSuffix(p, ".yaml") {
			continue
		}
		objs, err := tekton.Decode(p, tree[p])
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			switch x := o.Obj.(type) {
			case *v1.PipelineRun:
				out[p] = x
			case *triggersv1.TriggerTemplate:
				for i, rt := range x.Spec.ResourceTemplates {
					var pr v1.PipelineRun
					if err := json.Unmarshal(rt.Raw, &pr); err != nil {
						t.Fatalf("%s: resource template %d: %v", p, i, err)
					}
					if pr.Kind == "PipelineRun" {
						out[fmt.Sprintf("%s[%d]", p, i)] = &pr
					}
				}
			}
		}
	}
	return out
}

// taskRunWorkspaces are the workspace bindings Tekton's PipelineRun
// reconciler gives a pipeline task's TaskRun: a volumeClaimTemplate becomes
// the one claim it makes per run and pipeline workspace.
func taskRunWorkspaces(run *v1.PipelineRun, pt v1.PipelineTask) []v1.WorkspaceBinding {
	bound := map[string]v1.WorkspaceBinding{}
	for _, b := range run.Spec.Workspaces {
		bound[b.Name] = b
	}
	var out []v1.WorkspaceBinding
	for _, w := range pt.Workspaces {
		b, ok := bound[w.Workspace]
		if !ok {
			continue // an optional workspace the run leaves out
		}
		tb := *b.DeepCopy()
		tb.Name, tb.SubPath = w.Name, w.SubPath
		if b.VolumeClaimTemplate != nil {
			tb.VolumeClaimTemplate = nil
			tb.PersistentVolumeClaim = &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "pvc-of-" + w.Workspace}
		}
		out = append(out, tb)
	}
	return out
}

// Tekton's default coschedule: workspaces refuses a TaskRun that binds two
// claims ("more than one PersistentVolumeClaim is bound"). Every TaskRun
// of every generated run binds one, the checkout at subPath src and the
// caches at subPath cache of the pipeline's one volume workspace, and no
// claim is shared between runs by default.
func TestOneClaimPerTaskRun(t *testing.T) {
	for name, tree := range variants(t) {
		t.Run(name, func(t *testing.T) {
			ps := pipelines(t, tree)
			rs := runs(t, tree)
			if len(rs) != 4 {
				t.Fatalf("%d PipelineRuns (runs/ and trigger templates), want 4", len(rs))
			}
			for where, run := range rs {
				pl := ps[run.Spec.PipelineRef.Name]
				if pl == nil {
					t.Fatalf("%s: no pipeline %s", where, run.Spec.PipelineRef.Name)
				}
				for _, b := range run.Spec.Workspaces {
					if b.PersistentVolumeClaim != nil {
						t.Errorf("%s binds workspace %s to the claim %s, shared between runs", where, b.Name, b.PersistentVolumeClaim.ClaimName)
					}
				}
				for _, pt := range append(append([]v1.PipelineTask{}, pl.Spec.Tasks...), pl.Spec.Finally...) {
					if err := workspace.ValidateOnlyOnePVCIsUsed(taskRunWorkspaces(run, pt)); err != nil {
						t.Errorf("%s, pipeline task %s: %v", where, pt.Name, err)
					}
				}
			}
			for _, pl := range ps {
				var volumes []string
				for _, w := range pl.Spec.Workspaces {
					if w.Name != pipeline.DockerConfigWorkspace {
						volumes = append(volumes, w.Name)
					}
				}
				if !equal(volumes, []string{pipeline.SourceWorkspace}) {
					t.Errorf("%s declares volume workspaces %v, want only %s", pl.Name, volumes, pipeline.SourceWorkspace)
				}
				for _, pt := range pl.Spec.Tasks {
					for _, w := range pt.Workspaces {
						want := map[string]string{"cache": pipeline.CacheSubPath, "dockerconfig": ""}[w.Name]
						if w.Name != "cache" && w.Name != "dockerconfig" {
							want = pipeline.SourceSubPath // source, output: the checkout
						}
						if w.SubPath != want || (w.Name != "dockerconfig" && w.Workspace != pipeline.SourceWorkspace) {
							t.Errorf("%s, pipeline task %s binds %s to %s at subPath %q, want %s at %q", pl.Name, pt.Name, w.Name, w.Workspace, w.SubPath, pipeline.SourceWorkspace, want)
						}
					}
				}
			}
			for _, p := range tree.Paths() {
				if strings.Contains(string(tree[p]), "kind: PersistentVolumeClaim") {
					t.Errorf("%s: a claim kept between runs", p)
				}
			}
			if strings.Contains(string(tree["kustomization.yaml"]), "cache") {
				t.Errorf("kustomization lists a cache claim:\n%s", tree["kustomization.yaml"])
			}
		})
	}
}

// build.cache: shared keeps the caches on claims, one per pipeline kind:
// pull-request runs never write what release runs read.
func TestSharedCacheIsOptInAndPerKind(t *testing.T) {
	tree := generatortest.ProjectWith(t, "  pack: go\n", "  pack: go\n  cache: shared\n", "")
	for _, f := range []string{"cache/pull-request.yaml", "cache/release.yaml"} {
		if !strings.Contains(string(tree["kustomization.yaml"]), "- "+f) {
			t.Errorf("kustomization does not list %s", f)
		}
	}
	for where, run := range runs(t, tree) {
		kind := strings.TrimPrefix(run.Spec.PipelineRef.Name, "hello-world-")
		claims := map[string]string{}
		for _, b := range run.Spec.Workspaces {
			if b.PersistentVolumeClaim != nil {
				claims[b.Name] = b.PersistentVolumeClaim.ClaimName
			}
		}
		if want := map[string]string{pipeline.CacheWorkspace: "hello-world-cache-" + kind}; !equalMaps(claims, want) {
			t.Errorf("%s binds claims %v, want %v", where, claims, want)
		}
	}
	for _, pl := range pipelines(t, tree) {
		for _, pt := range pl.Spec.Tasks {
			for _, w := range pt.Workspaces {
				if w.Name == "cache" && (w.Workspace != pipeline.CacheWorkspace || w.SubPath != "") {
					t.Errorf("%s, %s: cache bound to %s at %q", pl.Name, pt.Name, w.Workspace, w.SubPath)
				}
			}
		}
	}
	if readme := string(tree["README.md"]); !strings.Contains(readme, "`pipelineruns`") || !strings.Contains(readme, "feature-flags") {
		t.Errorf("README does not say the shared cache needs the coschedule flag:\n%s", readme)
	}
}

// Steps run as uid 65532 and cannot write a fresh volume's root (root,
// 0755) unless the Pod's fsGroup makes it theirs: every generated run sets
// it, the pull-request templates keep the service-account token out.
func TestRunsSetFSGroup(t *testing.T) {
	for name, tree := range variants(t) {
		for where, run := range runs(t, tree) {
			pt := run.Spec.TaskRunTemplate.PodTemplate
			if pt == nil || pt.SecurityContext == nil || pt.SecurityContext.FSGroup == nil || *pt.SecurityContext.FSGroup != catalog.NonRootUID {
				t.Errorf("%s: %s: taskRunTemplate.podTemplate.securityContext.fsGroup is not %d: %+v", name, where, catalog.NonRootUID, pt)
				continue
			}
			if p := pt.SecurityContext.FSGroupChangePolicy; p == nil || *p != corev1.FSGroupChangeOnRootMismatch {
				t.Errorf("%s: %s: fsGroupChangePolicy %v", name, where, p)
			}
			if strings.Contains(where, "template-pull-request") && (pt.AutomountServiceAccountToken == nil || *pt.AutomountServiceAccountToken) {
				t.Errorf("%s: %s mounts the service-account token into pull-request code", name, where)
			}
		}
	}
}

// allPipelines are the generated projects' pipelines and the catalog's.
func allPipelines(t *testing.T) map[string]*v1.Pipeline {
	t.Helper()
	out := map[string]*v1.Pipeline{}
	for name, tree := range variants(t) {
		for n, pl := range pipelines(t, tree) {
			out[name+": "+n] = pl
		}
	}
	tree, err := generator.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	for n, pl := range pipelines(t, tree) {
		out["catalog: "+n] = pl
	}
	return out
}

// No two tasks that may run at the same time write the same folder: node's
// lint and test both npm ci into the checkout, so lint waits for test.
func TestNoParallelWritersInAnyPack(t *testing.T) {
	for name, pl := range allPipelines(t) {
		if errs := tekton.ParallelWriters(pl.Name, &pl.Spec, catalog.Writes); len(errs) > 0 {
			t.Errorf("%s: %v", name, errs)
		}
	}
	for _, pack := range buildpack.Packs {
		if pack.Lint == "" || pack.Test == "" {
			continue
		}
		pl, err := pipeline.Build(pipeline.PullRequest, pipeline.Spec{Name: pack.Name, Pack: pack, TaskRef: pipeline.LocalRef})
		if err != nil {
			t.Fatal(err)
		}
		lint, _ := taskByName(pl.Spec.Tasks, "lint")
		both := contains(catalog.Writes(pack.Lint), "source") && contains(catalog.Writes(pack.Test), "source")
		if both != equal(lint.RunAfter, []string{"test"}) {
			t.Errorf("%s pack: lint runs after %v; both write the checkout: %t", pack.Name, lint.RunAfter, both)
		}
	}

	// The check itself: node's lint back in parallel with test.
	node, _ := buildpack.Get("node")
	pl, err := pipeline.Build(pipeline.PullRequest, pipeline.Spec{Name: "node-pr", Pack: node, TaskRef: pipeline.LocalRef})
	if err != nil {
		t.Fatal(err)
	}
	for i := range pl.Spec.Tasks {
		if pl.Spec.Tasks[i].Name == "lint" {
			pl.Spec.Tasks[i].RunAfter = []string{"clone"}
		}
	}
	errs := tekton.ParallelWriters(pl.Name, &pl.Spec, catalog.Writes)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), `pipeline tasks "test" and "lint" both write workspace "source"`) {
		t.Errorf("lint ∥ test in one checkout: got %v", errs)
	}
}

// A Task whose script installs dependencies or builds in its checkout says
// so (Entry.Writes), so that the parallel-writers check knows it.
func TestInstallersDeclareTheirWrites(t *testing.T) {
	installs := regexp.MustCompile(`\b(npm ci|yarn install|pnpm install|pip install|mvn|gradlew|go build|coverprofile)\b`)
	for _, e := range catalog.All() {
		for _, s := range e.Spec.Steps {
			if installs.MatchString(s.Script) && hasWorkspace(e.Spec, "source") && !contains(e.Writes, "source") && e.Name != "go-image" {
				t.Errorf("%s: step %s installs or builds in its checkout, but the Task does not declare Writes: source", e.Name, s.Name)
			}
		}
	}
	if !contains(catalog.Writes("git-clone"), "output") {
		t.Error("git-clone writes its output workspace")
	}
}

// Statuses go on the commit clone resolved (a manual run's revision is a
// branch), set-pending waits for it, and whatever fails, exactly one
// failure status is sent: Tekton skips a finally task that reads a result
// of a task that did not succeed, so a failed clone is reported on the
// revision param.
func TestStatusesUseTheClonedCommit(t *testing.T) {
	for name, pl := range allPipelines(t) {
		byName := map[string]v1.PipelineTask{}
		for _, pt := range append(append([]v1.PipelineTask{}, pl.Spec.Tasks...), pl.Spec.Finally...) {
			byName[pt.Name] = pt
			if tekton.TaskName(pt) != "github-set-status" {
				continue
			}
			want := pipeline.CommitResult
			if pt.Name == "report-clone-failure" {
				want = "$(params.revision)"
			}
			if got := params(pt)["sha"]; got != want {
				t.Errorf("%s, %s: sha = %q, want %q", name, pt.Name, got, want)
			}
		}
		if !equal(byName["set-pending"].RunAfter, []string{"clone"}) {
			t.Errorf("%s: set-pending runs after %v, want clone", name, byName["set-pending"].RunAfter)
		}
		for _, sc := range []struct {
			clone, tasks string // $(tasks.clone.status), $(tasks.status)
			want         string // the one pipeline status sent
		}{
			{"Succeeded", "Succeeded", "success"},
			{"Succeeded", "Completed", "success"},
			{"Succeeded", "Failed", "failure"},
			{"Failed", "Failed", "failure"},
			{"None", "None", "failure"}, // cancelled before clone ran
		} {
			var sent []string
			for _, ft := range pl.Spec.Finally {
				if strings.HasPrefix(ft.Name, "report-canary-") || tekton.TaskName(ft) != "github-set-status" {
					continue // the canary's own context, on deploy's results; restore-canary
				}
				if runs := finallyRuns(ft, map[string]string{"$(tasks.status)": sc.tasks, "$(tasks.clone.status)": sc.clone}, sc.clone == "Succeeded"); runs {
					sent = append(sent, ft.Name+"="+params(ft)["state"])
				}
			}
			if len(sent) != 1 || !strings.HasSuffix(sent[0], "="+sc.want) {
				t.Errorf("%s: clone %s, tasks %s: statuses sent %v, want one %s", name, sc.clone, sc.tasks, sent, sc.want)
			}
		}
	}
}

// finallyRuns evaluates a finally task as Tekton does: skipped when it
// reads a result of clone that did not succeed, else by its when
// expressions on the given inputs.
func finallyRuns(ft v1.PipelineTask, inputs map[string]string, cloned bool) bool {
	b, _ := json.Marshal(ft.Params)
	if !cloned && strings.Contains(string(b), "$(tasks.clone.results.") {
		return false
	}
	for _, w := range ft.When {
		v, ok := inputs[w.Input]
		if !ok {
			panic("unknown when input " + w.Input)
		}
		in := contains(w.Values, v)
		if (w.Operator == "in") != in {
			return false
		}
	}
	return true
}

// The README lists every Secret the generated YAML reads, each with the
// command that creates it under its configured name and namespace.
func TestReadmeListsEverySecret(t *testing.T) {
	trees := variants(t)
	src := strings.NewReplacer("  namespace: default\n", "  namespace: ci\n",
		"  repository: ghcr.io/codertocat/hello-world\n", "  repository: registry.example.com:5000/acme/api\n  pushSecret: push-creds\n",
	).Replace(string(builtin.Config)) + "  tokenSecret: gh-token\n  webhookSecret: hook\npaths: [cmd/**]\n"
	cfg, err := config.Parse(builtin.File, []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if trees["custom names"], err = generator.Project(cfg); err != nil {
		t.Fatal(err)
	}
	trees["docker hub"] = generatortest.ProjectWith(t, "  repository: ghcr.io/codertocat/hello-world\n", "  repository: acme/api\n", "")
	secretName := regexp.MustCompile(`(?m)secretName: (\S+)$`)
	for name, tree := range trees {
		readme := string(tree["README.md"])
		ns := "default"
		if strings.Contains(string(tree["namespace.yaml"]), "namespace: ci") {
			ns = "ci"
		}
		referenced := map[string]string{} // Secret -> kubectl create secret kind
		for _, p := range tree.Paths() {
			for _, m := range secretName.FindAllStringSubmatch(string(tree[p]), -1) {
				referenced[m[1]] = "generic"
			}
		}
		for _, pl := range pipelines(t, tree) {
			for _, ps := range pl.Spec.Params {
				if ps.Name == "github-token-secret" {
					referenced[ps.Default.StringVal] = "generic"
				}
			}
		}
		for where, run := range runs(t, tree) {
			for _, b := range run.Spec.Workspaces {
				if b.Secret != nil {
					referenced[b.Secret.SecretName] = "docker-registry"
					if !strings.Contains(where, "release") {
						t.Errorf("%s: %s mounts Secret %s into a pull-request run", name, where, b.Secret.SecretName)
					}
				}
			}
		}
		if len(referenced) != 3 {
			t.Errorf("%s: Secrets referenced %v, want the webhook secret, the GitHub token and the push credentials", name, referenced)
		}
		for s, kind := range referenced {
			if !strings.Contains(readme, fmt.Sprintf("kubectl create secret %s %s -n %s ", kind, s, ns)) {
				t.Errorf("%s: README has no `kubectl create secret %s %s -n %s` for a Secret the YAML reads:\n%s", name, kind, s, ns, readme)
			}
		}
	}
	for name, want := range map[string]string{
		"node":         "kubectl create secret docker-registry storefront-registry -n default --docker-server=ghcr.io ",
		"custom names": "kubectl create secret docker-registry push-creds -n ci --docker-server=registry.example.com:5000 ",
		"docker hub":   "kubectl create secret docker-registry hello-world-registry -n default --docker-server=https://index.docker.io/v1/ ",
	} {
		if !strings.Contains(string(trees[name]["README.md"]), want) {
			t.Errorf("%s: README lacks %q", name, want)
		}
	}
	for _, want := range []string{
		"kubectl create secret generic github-webhook -n default --from-file=secret=webhook-secret\n",
		"kubectl create secret generic github-token -n default --from-literal=token=<GitHub token>\n",
	} {
		if !strings.Contains(string(trees["go"]["README.md"]), want) {
			t.Errorf("go example README lacks %q", want)
		}
	}
}

func hasWorkspace(ts v1.TaskSpec, name string) bool {
	for _, w := range ts.Workspaces {
		if w.Name == name {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func equal(a, b []string) bool { return strings.Join(a, "\x00") == strings.Join(b, "\x00") }

func equalMaps(a, b map[string]string) bool {
	keys := func(m map[string]string) []string {
		var out []string
		for k, v := range m {
			out = append(out, k+"="+v)
		}
		sort.Strings(out)
		return out
	}
	return equal(keys(a), keys(b))
}
