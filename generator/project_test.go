package generator_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/pipewright/pipewright/generator"
	"github.com/pipewright/pipewright/generator/builtin"
	"github.com/pipewright/pipewright/generator/config"
	"github.com/pipewright/pipewright/generator/generatortest"
	"github.com/pipewright/pipewright/generator/render"
	"github.com/pipewright/pipewright/pkg/tekton"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite the examples' golden output")

var examples = []string{"docker", "go", "java", "node", "python"}

func load(t testing.TB, file string) *config.Loaded {
	t.Helper()
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestExamplesGolden checks each example's generated output against the
// committed copy in examples/<pack>/tekton (go test -update rewrites it).
func TestExamplesGolden(t *testing.T) {
	for _, ex := range examples {
		t.Run(ex, func(t *testing.T) {
			dir := filepath.Join("..", "examples", ex)
			tree, err := generator.Project(load(t, filepath.Join(dir, "pipewright.yaml")))
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join(dir, "tekton")
			if *update {
				if err := os.RemoveAll(golden); err != nil {
					t.Fatal(err)
				}
				if err := tree.Write(golden); err != nil {
					t.Fatal(err)
				}
			}
			seen := map[string]bool{}
			err = filepath.WalkDir(golden, func(p string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				rel, _ := filepath.Rel(golden, p)
				rel = filepath.ToSlash(rel)
				seen[rel] = true
				want, _ := os.ReadFile(p)
				if got, ok := tree[rel]; !ok {
					t.Errorf("%s/%s is committed but no longer generated", golden, rel)
				} else if !bytes.Equal(got, want) {
					t.Errorf("%s/%s differs from the generator's output; run go test ./generator -update", golden, rel)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			for p := range tree {
				if !seen[p] {
					t.Errorf("%s/%s is generated but not committed; run go test ./generator -update", golden, p)
				}
			}
		})
	}
}

func TestBuiltinIsTheGoExample(t *testing.T) {
	want, err := os.ReadFile("../examples/go/pipewright.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(builtin.Config, want) {
		t.Fatal("generator/builtin/pipewright.yaml differs from examples/go/pipewright.yaml; copy it over")
	}
}

func copyDir(t *testing.T, src, dst string, skip ...string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		for _, s := range skip {
			if rel == s {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestInitRecreatesExamples runs init on a copy of each example without its
// config and expects an equivalent config, whose output validates.
func TestInitRecreatesExamples(t *testing.T) {
	for _, ex := range examples {
		t.Run(ex, func(t *testing.T) {
			src := filepath.Join("..", "examples", ex)
			want := load(t, filepath.Join(src, "pipewright.yaml"))
			dir := t.TempDir()
			copyDir(t, src, dir, "pipewright.yaml", "tekton")
			res, err := generator.Init(dir, generator.InitOptions{Repo: want.GitHub.Repository, Branch: want.GitHub.DefaultBranch})
			if err != nil {
				t.Fatal(err)
			}
			got := load(t, res.Path)
			if !reflect.DeepEqual(got.Config, want.Config) {
				t.Fatalf("init wrote\n%+v\nwant\n%+v", got.Config, want.Config)
			}
			if _, err := generator.Project(got); err != nil {
				t.Fatal(err)
			}
			if _, err := generator.Init(dir, generator.InitOptions{}); err == nil || !strings.Contains(err.Error(), "--force") {
				t.Fatalf("init over an existing config: want refusal naming --force, got %v", err)
			}
		})
	}
}

func TestKustomizationRendersWithKustomize(t *testing.T) {
	tree := generatortest.Project(t, "deploy:\n  namespace: production\n")
	dir := t.TempDir()
	if err := tree.Write(dir); err != nil {
		t.Fatal(err)
	}
	res, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, r := range res.Resources() {
		kinds[r.GetKind()]++
		if r.GetKind() == "ClusterRole" || r.GetKind() == "ClusterRoleBinding" {
			continue // cluster-scoped: kustomize rightly sets no namespace
		}
		want := "default"
		if r.GetName() == "hello-world-deployer" {
			want = "production" // the deploy rights live where the app runs
		}
		if r.GetNamespace() != want {
			t.Errorf("%s/%s: namespace %q, want %s", r.GetKind(), r.GetName(), r.GetNamespace(), want)
		}
	}
	// No PersistentVolumeClaim: each run makes its own (volumeClaimTemplate).
	// Service accounts: pull-request runs, release runs, the EventListener.
	// No ChatOps without tools.image: two bindings, no interceptor.
	want := map[string]int{"Task": 6, "Pipeline": 2, "ServiceAccount": 3, "Role": 2, "RoleBinding": 2,
		"ClusterRole": 1, "ClusterRoleBinding": 1, "EventListener": 1, "TriggerBinding": 2, "TriggerTemplate": 2}
	if !reflect.DeepEqual(kinds, want) {
		t.Fatalf("kustomize rendered %v, want %v", kinds, want)
	}
}

func pipelines(t *testing.T, tree render.Tree) map[string]*v1.Pipeline {
	out := map[string]*v1.Pipeline{}
	for _, p := range tree.Paths() {
		if !strings.HasPrefix(p, "pipelines/") {
			continue
		}
		objs, err := tekton.Decode(p, tree[p])
		if err != nil {
			t.Fatal(err)
		}
		pl := objs[0].Obj.(*v1.Pipeline)
		out[pl.Name] = pl
	}
	return out
}

func TestPipelineShape(t *testing.T) {
	ps := pipelines(t, generatortest.Project(t, ""))
	pr := ps["hello-world-pull-request"]
	byName := map[string]v1.PipelineTask{}
	for _, pt := range pr.Spec.Tasks {
		byName[pt.Name] = pt
	}
	if !reflect.DeepEqual(byName["lint"].RunAfter, []string{"clone"}) || !reflect.DeepEqual(byName["test"].RunAfter, []string{"clone"}) {
		t.Errorf("lint and test must run in parallel after clone: %v / %v", byName["lint"].RunAfter, byName["test"].RunAfter)
	}
	if !reflect.DeepEqual(byName["build-image"].RunAfter, []string{"lint", "test"}) {
		t.Errorf("build-image runAfter = %v", byName["build-image"].RunAfter)
	}
	if !reflect.DeepEqual(byName["set-pending"].RunAfter, []string{"clone"}) {
		t.Error("the pending status must be set as soon as clone has resolved the commit")
	}
	var finally []string
	for _, f := range pr.Spec.Finally {
		finally = append(finally, f.Name)
	}
	if !reflect.DeepEqual(finally, []string{"report-success", "report-failure", "report-clone-failure"}) {
		t.Errorf("finally = %v", finally)
	}
	for _, p := range byName["build-image"].Params {
		if p.Name == "no-push" && p.Value.StringVal != "true" {
			t.Error("PR images must not be pushed by default")
		}
	}
	rel := ps["hello-world-release"]
	var names []string
	for _, pt := range rel.Spec.Tasks {
		names = append(names, pt.Name)
	}
	if !reflect.DeepEqual(names, []string{"clone", "set-pending", "test", "build-image", "deploy"}) {
		t.Errorf("release tasks = %v", names)
	}
}

func TestWiringErrorNamesBothEnds(t *testing.T) {
	tree, err := generator.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	pl := pipelines(t, tree)["go-pull-request"]
	pl.Spec.Tasks[2].Params = append(pl.Spec.Tasks[2].Params, v1.Param{Name: "racee", Value: *v1.NewStructuredValues("true")})
	pl.Spec.Tasks[3].Params[0].Value = *v1.NewStructuredValues("$(tasks.clone.results.sha)")
	known := map[string]*v1.TaskSpec{}
	objs, _ := tekton.All(tree)
	for _, o := range objs {
		if t, ok := o.Obj.(*v1.Task); ok {
			known[t.Name] = &t.Spec
		}
	}
	errs := tekton.PipelineWiring(pl.Name, &pl.Spec, map[string]*v1.TaskSpec{
		"go-lint": known["go-lint"], "go-test": known["go-test"], "git-clone": known["git-clone"],
	})
	msg := ""
	for _, e := range errs {
		msg += e.Error() + "\n"
	}
	for _, want := range []string{
		`pipeline go-pull-request, pipeline task "` + pl.Spec.Tasks[2].Name + `"`,
		`passes param "racee"`,
		`has no result "sha" (it has: commit, committer-date, url)`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("wiring errors lack %q:\n%s", want, msg)
		}
	}
}

func TestWriteIsAtomic(t *testing.T) {
	dir := t.TempDir()
	if err := (render.Tree{"a/x.yaml": []byte("one\n")}).Write(dir); err != nil {
		t.Fatal(err)
	}
	// A tree that cannot be written (a file where a folder must go) leaves
	// the old output as it was.
	bad := render.Tree{"a/x.yaml": []byte("two\n"), "b": []byte("file\n"), "b/y.yaml": []byte("child\n")}
	if err := bad.Write(dir); err == nil {
		t.Fatal("want an error")
	}
	got, _ := os.ReadFile(filepath.Join(dir, "a", "x.yaml"))
	entries, _ := os.ReadDir(dir)
	if string(got) != "one\n" || len(entries) != 1 {
		t.Fatalf("output changed on error: %q, %d entries", got, len(entries))
	}
}

// Params for the pack's Tasks are checked against the catalog Task, at their
// place in the file.
func TestUnknownTaskParamIsPositioned(t *testing.T) {
	data := append(append([]byte{}, builtin.Config...), []byte("overrides:\n  tset:\n    cpu: \"1\"\n")...)
	data = bytes.Replace(data, []byte("  pack: go\n"), []byte("  pack: go\n  test:\n    params:\n      racee: \"false\"\n"), 1)
	cfg, err := config.Parse("pipewright.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	_, err = generator.Project(cfg)
	es := config.ErrorsOf(err)
	if len(es) != 2 {
		t.Fatalf("want 2 positioned errors, got %v", err)
	}
	for i, want := range []string{
		`build.test.params.racee: task go-test has no param "racee" (hint: did you mean "race"?)`,
		`overrides.tset: no pipeline task "tset" (hint: did you mean "test"?)`,
	} {
		if !strings.HasPrefix(es[i].Error(), "pipewright.yaml:") || !strings.HasSuffix(es[i].Error(), want) || es[i].Line < 2 {
			t.Errorf("error %d = %s, want …%s", i, es[i], want)
		}
	}
}

// Without a pipewright tool image there is nothing to run the canary
// from: generation stops at the field, rather than deploying with rolling.
func TestCanaryWithoutToolImageIsRefused(t *testing.T) {
	_, err := config.Parse(builtin.File, append(append([]byte{}, builtin.Config...), "deploy:\n  strategy: canary\n"...))
	if es := config.ErrorsOf(err); len(es) != 1 || !strings.Contains(es[0].Error(), "deploy.strategy: the canary deploy runs pipewright in its step and needs tools.image") {
		t.Fatalf("want a positioned refusal, got %v", err)
	}
}

// A Go project without a Dockerfile learns at init, in the config's
// header, what its image build needs.
func TestInitGoWithoutDockerfile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/svc\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := generator.Init(dir, generator.InitOptions{Repo: "acme/svc"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(res.Path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "no Dockerfile: add one, or set image.builder: go-image and tools.image") {
		t.Errorf("init wrote no Dockerfile hint:\n%s", b)
	}
}

// deploy.resources grants the release service account the manifests' other
// kinds (an HTTPRoute beside the Deployment was refused on the node before
// it existed), and nothing else.
func TestDeployResources(t *testing.T) {
	tree := generatortest.Project(t, "deploy:\n  resources: [httproutes.gateway.networking.k8s.io, serviceaccounts]\n")
	var role rbacv1.Role
	if err := yaml.Unmarshal(tree["rbac/deployer-role.yaml"], &role); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"gateway.networking.k8s.io/httproutes": false, "/serviceaccounts": false}
	for _, r := range role.Rules {
		key := strings.Join(r.APIGroups, ",") + "/" + strings.Join(r.Resources, ",")
		if _, ok := want[key]; ok {
			want[key] = slices.Contains(r.Verbs, "create") && slices.Contains(r.Verbs, "patch")
		}
		if slices.Contains(r.Resources, "*") || slices.Contains(r.APIGroups, "*") {
			t.Errorf("wildcard rule %+v", r)
		}
	}
	for k, ok := range want {
		if !ok {
			t.Errorf("the deployer cannot create and patch %s: %+v", k, role.Rules)
		}
	}
}
