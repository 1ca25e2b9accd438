package generator_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/pipewright/pipewright/generator"
	"github.com/pipewright/pipewright/generator/config"
	"github.com/pipewright/pipewright/generator/generatortest"
	"github.com/pipewright/pipewright/generator/render"
	"github.com/pipewright/pipewright/pkg/lint"
	"github.com/pipewright/pipewright/pkg/tekton"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	triggersv1 "github.com/tektoncd/triggers/pkg/apis/triggers/v1beta1"
)

// corpus are project shapes modeled on real public projects (manifests
// only, in testdata/projects): what init detects in each, and what generate
// makes of it. Each shape's golden files are the config init writes
// (pipewright.yaml) and a summary of the generated set (generated.txt: every
// pipeline task's Task, step images and params); go test -update rewrites
// them. The table asserts the decisions that matter.
var corpus = []struct {
	name       string
	pack       string
	version    string   // build.version init writes
	images     []string // step images the generated Tasks must run
	params     []string // task.param=value the pipelines must pass
	facts      []string // what init must say
	noTests    bool     // no test task
	edit       []string // old, new: a change the user makes to init's config before generate
	generrWant string   // generate fails with this
}{
	{name: "go-exporter", pack: "go", version: "1.24.0",
		images: []string{"docker.io/library/golang:1.24.6@", "docker.io/golangci/golangci-lint:v2.0.1-alpine@"},
		facts:  []string{"go 1.24.0 (go.mod): build.version 1.24.0", "golangci-lint config .golangci.yml", "Makefile targets lint, test, build"}},
	{name: "go-cli", pack: "go", version: "1.25.3",
		images: []string{"docker.io/library/golang:1.25.5@"},
		facts:  []string{"toolchain go1.25.3 (go.mod): build.version 1.25.3", ".golangci.yml is in golangci-lint v1 format", "no Dockerfile: add one, or set image.builder: go-image"}},
	{name: "npm-library", pack: "node",
		images: []string{"docker.io/library/node:24.16.0-slim@"},
		params: []string{"default context=.", "default dockerfile=Dockerfile", "default manifests=k8s"},
		facts:  []string{"package manager npm (package-lock.json)", "engines.node ^12.17.0 || ^14.13 || >=16.0.0 (package.json): the catalog's default 24.16.0 meets it"}},
	{name: "yarn-berry-app", pack: "node", version: "22",
		images: []string{"docker.io/library/node:22.22.2-alpine@"},
		params: []string{"test.package-manager=yarn"},
		facts:  []string{"package manager yarn (yarn.lock)", "yarn berry", "node v22.11.0 (.nvmrc): build.version 22"}},
	{name: "pnpm-service", pack: "node", version: "20",
		images: []string{"docker.io/library/node:20.8.1-alpine@"},
		params: []string{"test.package-manager=pnpm"},
		facts:  []string{"package manager pnpm (pnpm-lock.yaml)", "no lint script in package.json: lint disabled", "node 20.11.1 (.node-version): build.version 20"}},
	{name: "npm-no-lock", pack: "node",
		facts: []string{"no lock file: `npm ci` needs package-lock.json", "node lts/* (.nvmrc) is not a version number", "no Dockerfile: add one"}},
	{name: "python-uv", pack: "python", version: "3.13",
		images: []string{"docker.io/library/python:3.13.8-slim-bookworm@"},
		params: []string{"test.requirements="},
		facts:  []string{"python 3.13 (.python-version): build.version 3.13", "uv (uv.lock): python-test installs the project with pip"}},
	{name: "python-poetry", pack: "python",
		images: []string{"docker.io/library/python:3.12-alpine@"},
		facts:  []string{"requires-python >=3.9 (pyproject.toml): the catalog's default 3.12 meets it", "poetry (poetry.lock)"}},
	{name: "java-both-wrappers", pack: "java", version: "17",
		images: []string{"docker.io/library/maven:3.9.16-eclipse-temurin-17@"},
		facts:  []string{"Maven project (pom.xml)", "also ./gradlew: java-test runs ./gradlew first", "Java 17 (pom.xml): build.version 17"}},
	{name: "gradle-java21", pack: "java", version: "21",
		images: []string{"docker.io/library/maven:3.9.16-eclipse-temurin-21@sha256:8f6ac126f7810bb5549c4cd122d2bf0e9cda5bdeb0838aa928f09e779fd8bef8"},
		facts:  []string{"Gradle project (build.gradle.kts)", "Java 21 (build.gradle.kts): build.version 21"}},
	{name: "monorepo-11", pack: "go", noTests: false,
		// A service's values are its runs' params: its shape's pipelines
		// are shared.
		params: []string{"context=src/cartservice/src", "manifests=src/paymentservice/k8s", "image=ghcr.io/acme/monorepo-11/adservice", "dockerfile=Dockerfile"},
		facts:  []string{"monorepo: 12 services", "service src/adservice: java pack", "service src/cartservice/src: docker pack"}},
	{name: "go-monorepo-root-context", pack: "go",
		params: []string{"task test (go-test-1-25-5)", "task lint (go-lint-2-12-2)", "context=services/api", "image-context=.", "dockerfile=services/api/Dockerfile", "manifests=services/api/k8s",
			"build-image.context=$(params.image-context)", "build-image.dockerfile=$(params.dockerfile)", "test.context=$(params.context)"},
		facts: []string{"monorepo: 2 services", "its Dockerfile copies go.mod from the repository root: the image builds with the root as context (imageContext: .), lint and tests run in services/api",
			"part of the repository's go project (shop): go pack"}},
	{name: "rust-service", pack: "docker", noTests: true,
		facts: []string{"Dockerfile only"}},
	{name: "uv-bun-fullstack", pack: "bun",
		images: []string{"docker.io/oven/bun:1.3.14@sha256:e10577f0db68676a7024391c6e5cb4b879ebd17188ab750cf10024a6d700e5c4"},
		params: []string{"task test (bun-test)", "task lint (bun-test)", "test.script=test", "lint.script=lint"},
		facts:  []string{"also a python project: chose bun, the first in the order go, bun, node, python, java, docker", "package manager bun (bun.lock): bun-test runs bun install --frozen-lockfile", "test script: bun run test"}},
	{name: "bun-elysia-api", pack: "bun", version: "1.3",
		images: []string{"docker.io/oven/bun:1.3.14@"},
		params: []string{"task test (bun-test)", "test.context=$(params.context)"},
		facts:  []string{"package manager bun (bun.lockb)", "bun 1.3.5 (packageManager in package.json): build.version 1.3", "no lint script in package.json: lint disabled", "no test script: bun test (Bun's test runner)"}},
	{name: "go-make", pack: "go", version: "1.25.0",
		edit:   []string{"  pack: go\n", "  pack: go\n  commands: make\n"},
		images: []string{"docker.io/library/golang:1.25.5@"},
		params: []string{"task test (go-make)", "task lint (go-make)", "test.targets=test", "lint.targets=lint", "test.context=$(params.context)"},
		facts:  []string{"Makefile targets lint, test, build: to run make lint and make test (task go-make, in the golang image) instead of golangci-lint and go test, set build.commands: make"}},
}

func TestProjectCorpus(t *testing.T) {
	if len(corpus) < 8 {
		t.Fatalf("the acceptance corpus needs at least 8 shapes, has %d", len(corpus))
	}
	for _, tc := range corpus {
		t.Run(tc.name, func(t *testing.T) {
			src := filepath.Join("testdata", "projects", tc.name)
			golden := filepath.Join("testdata", "projects-golden", tc.name)
			dir := t.TempDir()
			copyDir(t, src, dir)
			res, err := generator.Init(dir, generator.InitOptions{Repo: "acme/" + tc.name, Branch: "main"})
			if err != nil {
				t.Fatal(err)
			}
			if res.Detected.Pack != tc.pack || res.Config.Build.Version != tc.version {
				t.Errorf("init chose pack %s version %q, want %s %q", res.Detected.Pack, res.Config.Build.Version, tc.pack, tc.version)
			}
			facts := strings.Join(res.Detected.Facts, "\n")
			for _, f := range tc.facts {
				if !strings.Contains(facts, f) {
					t.Errorf("init does not say %q; it said:\n%s", f, facts)
				}
			}
			cfgBytes, err := os.ReadFile(res.Path)
			if err != nil {
				t.Fatal(err)
			}
			if tc.edit != nil {
				if !bytes.Contains(cfgBytes, []byte(tc.edit[0])) {
					t.Fatalf("init's config has no %q to change", tc.edit[0])
				}
				cfgBytes = bytes.Replace(cfgBytes, []byte(tc.edit[0]), []byte(tc.edit[1]), 1)
				if err := os.WriteFile(res.Path, cfgBytes, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			cfg := load(t, res.Path)
			tree, genErr := generator.Project(cfg)
			var summary string
			if tc.generrWant != "" {
				if genErr == nil || !strings.HasSuffix(genErr.Error(), tc.generrWant) {
					t.Fatalf("generate: want an error ending %q, got %v", tc.generrWant, genErr)
				}
				summary = "generate fails:\n" + strings.Replace(genErr.Error(), dir, "<repo>", 1) + "\n"
			} else {
				if genErr != nil {
					t.Fatal(genErr)
				}
				summary = summarize(t, tree)
				for _, img := range tc.images {
					if !strings.Contains(summary, " image "+img) {
						t.Errorf("no step runs %s:\n%s", img, summary)
					}
				}
				for _, p := range tc.params {
					if !strings.Contains(summary, " param "+p+"\n") && !strings.Contains(summary, " "+p+"\n") {
						t.Errorf("no pipeline passes %s:\n%s", p, summary)
					}
				}
				if hasTest := strings.Contains(summary, "task test "); hasTest == tc.noTests {
					t.Errorf("test task present: %v, want %v", hasTest, !tc.noTests)
				}
			}
			compareGolden(t, filepath.Join(golden, "pipewright.yaml"), cfgBytes)
			compareGolden(t, filepath.Join(golden, "generated.txt"), []byte(summary))
		})
	}
}

func compareGolden(t *testing.T, file string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (go test ./generator -run TestProjectCorpus -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from what is generated now; run go test ./generator -run TestProjectCorpus -update and review the diff\ngot:\n%s", file, got)
	}
}

// summarize lists, per pipeline, each task with its Task, the images its
// Task's steps run and the params the pipeline passes it; then each
// monorepo service's runs, with the pipeline and params they give.
func summarize(t *testing.T, tree render.Tree) string {
	t.Helper()
	tasks := map[string]*v1.Task{}
	var pls []*v1.Pipeline
	var runs []*v1.PipelineRun
	for _, p := range tree.Paths() {
		if strings.HasPrefix(p, "runs/") {
			objs, err := tekton.Decode(p, tree[p])
			if err != nil {
				t.Fatal(err)
			}
			if r := objs[0].Obj.(*v1.PipelineRun); r.Labels[generator.ServiceLabel] != "" {
				runs = append(runs, r)
			}
			continue
		}
		if !strings.HasPrefix(p, "tasks/") && !strings.HasPrefix(p, "pipelines/") {
			continue
		}
		objs, err := tekton.Decode(p, tree[p])
		if err != nil {
			t.Fatal(err)
		}
		switch o := objs[0].Obj.(type) {
		case *v1.Task:
			tasks[o.Name] = o
		case nil:
		case *v1.Pipeline:
			pls = append(pls, o)
		}
	}
	var b strings.Builder
	for _, pl := range pls {
		fmt.Fprintf(&b, "pipeline %s\n", pl.Name)
		for _, ps := range pl.Spec.Params {
			if ps.Default != nil {
				fmt.Fprintf(&b, "  default %s=%s\n", ps.Name, ps.Default.StringVal)
			}
		}
		for _, pt := range append(pl.Spec.Tasks, pl.Spec.Finally...) {
			ref := pt.TaskRef.Name
			fmt.Fprintf(&b, "  task %s (%s)\n", pt.Name, ref)
			if task := tasks[ref]; task != nil {
				for _, s := range task.Spec.Steps {
					fmt.Fprintf(&b, "    image %s\n", s.Image)
				}
			}
			var params []string
			for _, p := range pt.Params {
				params = append(params, fmt.Sprintf("    param %s.%s=%s\n", pt.Name, p.Name, p.Value.StringVal))
			}
			sort.Strings(params)
			b.WriteString(strings.Join(params, ""))
		}
	}
	for _, r := range runs {
		fmt.Fprintf(&b, "run %s (pipeline %s)\n", r.GenerateName, r.Spec.PipelineRef.Name)
		for _, p := range r.Spec.Params {
			fmt.Fprintf(&b, "  param %s=%s\n", p.Name, p.Value.StringVal)
		}
	}
	return b.String()
}

// TestToolchainVersions: build.version picks the pinned image of that
// version; golangci-lint follows the Go version; a version the lock lacks
// names the pinned ones and the override; images: wins without a lock entry.
func TestToolchainVersions(t *testing.T) {
	gen := func(extra string) (render.Tree, error) {
		t.Helper()
		cfg, err := config.Parse("pipewright.yaml", []byte("apiVersion: pipewright.dev/v1alpha1\napp:\n  name: api\nimage:\n  repository: ghcr.io/acme/api\ngithub:\n  repository: acme/api\n"+extra))
		if err != nil {
			t.Fatal(err)
		}
		return generator.Project(cfg)
	}
	for _, tc := range []struct{ build, want, notWant string }{
		{"build:\n  pack: go\n  version: \"1.24.2\"\n", "golang:1.24.6@", "golangci-lint:v2.12"},
		{"build:\n  pack: go\n  version: \"1.26\"\n", "golangci-lint:v2.12.2-alpine@", "golangci-lint:v2.0.1"},
		{"build:\n  pack: node\n  version: \"22\"\n", "node:22.22.2-alpine@", "node:24"},
		{"build:\n  pack: python\n  version: \"3.14\"\n", "python:3.14.7-slim-bookworm@", ""},
	} {
		tree, err := gen(tc.build)
		if err != nil {
			t.Fatalf("%s: %v", tc.build, err)
		}
		var all strings.Builder
		for _, p := range tree.Paths() {
			if strings.HasPrefix(p, "tasks/") {
				all.Write(tree[p])
			}
		}
		if !strings.Contains(all.String(), tc.want) || (tc.notWant != "" && strings.Contains(all.String(), tc.notWant)) {
			t.Errorf("%s: tasks should run %s and not %q", tc.build, tc.want, tc.notWant)
		}
	}
	_, err := gen("build:\n  pack: go\n  version: \"1.25.9\"\n")
	want := `pipewright.yaml:10:3: build.version: go 1.25.9: no golang image for version 1.25.9 in pipewright's image lock (pinned: 1.24.6, 1.25.5, 1.26.6; nearest: 1.25.5) (hint: set build.version to a pinned version, or run your own image: images: {golang: REPO:TAG@sha256:<64 hex>})`
	if err == nil || err.Error() != want {
		t.Fatalf("unpinned patch:\n got %v\nwant %s", err, want)
	}
	own := "mirror.example.com/golang:1.25.9@sha256:" + strings.Repeat("ab", 32)
	tree, err := gen("build:\n  pack: go\n  version: \"1.25.9\"\nimages:\n  golang: " + own + "\n")
	if err != nil || !strings.Contains(string(tree["tasks/go-test.yaml"]), own) {
		t.Fatalf("images: golang should stand in for an unpinned version: %v", err)
	}
	if _, err := gen("build:\n  pack: node\n  version: \"1.25\"\n"); err == nil || !strings.Contains(err.Error(), "node 1.25: no node image") {
		t.Fatalf("node 1.25: %v", err)
	}
}

// TestPlaceholderRefused: init's your-org placeholder stops generate at its
// place in the file.
func TestPlaceholderRefused(t *testing.T) {
	cfg, err := config.Parse("pipewright.yaml", []byte("apiVersion: pipewright.dev/v1alpha1\napp:\n  name: api\nbuild:\n  pack: docker\nimage:\n  repository: ghcr.io/your-org/api\ngithub:\n  repository: your-org/api\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = generator.Project(cfg)
	want := "pipewright.yaml:7:3: image.repository: \"ghcr.io/your-org/api\" is init's placeholder (hint: set the registry repository the release pushes to, e.g. ghcr.io/acme/api)\npipewright.yaml:9:3: github.repository: \"your-org/api\" is init's placeholder (hint: set the repository's owner/name (init reads it from .git/config, or pass --repo))"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}

// TestReadmeDrawsPipelines: each generated README draws both pipelines as
// Mermaid graphs with an edge for every runAfter, and tables every task
// with its catalog Task, bundle references included.
func TestReadmeDrawsPipelines(t *testing.T) {
	for name, tree := range map[string]render.Tree{
		"embedded": generatortest.Project(t, ""),
		"bundle":   generatortest.Project(t, "tasks:\n  from: bundle\n  bundle: ghcr.io/acme/catalog@sha256:"+strings.Repeat("ab", 32)+"\n"),
	} {
		readme := string(tree["README.md"])
		if n := strings.Count(readme, "```mermaid\nflowchart LR\n"); n != 2 {
			t.Fatalf("%s: %d Mermaid graphs, want 2", name, n)
		}
		for _, pl := range pipelines(t, tree) {
			for _, pt := range pl.Spec.Tasks {
				for _, r := range pt.RunAfter {
					edge := "  " + strings.ReplaceAll(r, "-", "_") + " --> " + strings.ReplaceAll(pt.Name, "-", "_") + "\n"
					if !strings.Contains(readme, edge) {
						t.Errorf("%s: %s: no edge %q", name, pl.Name, edge)
					}
				}
			}
			for _, pt := range append(pl.Spec.Tasks, pl.Spec.Finally...) {
				if !strings.Contains(readme, "| `"+pt.Name+"` | `"+map[bool]string{true: "github-set-status", false: ""}[strings.HasPrefix(pt.Name, "report-") || pt.Name == "set-pending"]) {
					t.Errorf("%s: %s: task %s not in the table", name, pl.Name, pt.Name)
				}
			}
		}
		if !strings.Contains(readme, "| `test` | `go-test` | clone |") {
			t.Errorf("%s: the test row lacks its catalog Task:\n%s", name, readme)
		}
	}
}

// TestMonorepoServices: services of one shape share their pipelines; each
// service gets its own Triggers (path filters, values), runs, Dockerfile,
// manifests and toolchain; every param a pipeline needs reaches it from
// every run and Trigger; the output lints clean.
func TestMonorepoServices(t *testing.T) {
	cfg, err := config.Parse("pipewright.yaml", []byte(`apiVersion: pipewright.dev/v1alpha1
app:
  name: shop
build:
  pack: go
  version: "1.25.0"
image:
  repository: ghcr.io/acme/shop
github:
  repository: acme/shop
paths: ["go.work"]
services:
  - name: api
    context: services/api
  - name: web
    context: services/web
    pack: node
    version: "22"
    dockerfile: ../../docker/web.Dockerfile
    test:
      params:
        package-manager: pnpm
  - name: worker
    context: services/worker
    manifests: deploy
  - name: shopfront
    context: services/shopfront
    pack: node
`))
	if err != nil {
		t.Fatal(err)
	}
	tree, err := generator.Project(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The services share a namespace: no two objects of one kind and name.
	seen := map[string]string{}
	pls := map[string]*v1.Pipeline{}
	tts := map[string]*triggersv1.TriggerTemplate{}
	bindings := map[string]*triggersv1.TriggerBinding{}
	var triggers []*triggersv1.Trigger
	var runs []*v1.PipelineRun
	var el *triggersv1.EventListener
	for _, p := range tree.Paths() {
		if !strings.HasSuffix(p, ".yaml") || p == "kustomization.yaml" || p == "namespace.yaml" {
			continue
		}
		objs, err := tekton.Decode(p, tree[p])
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			switch x := o.Obj.(type) {
			case *v1.Pipeline:
				pls[x.Name] = x
			case *triggersv1.TriggerTemplate:
				tts[x.Name] = x
			case *triggersv1.TriggerBinding:
				bindings[x.Name] = x
			case *triggersv1.Trigger:
				triggers = append(triggers, x)
			case *v1.PipelineRun:
				runs = append(runs, x)
			case *triggersv1.EventListener:
				el = x
			}
			m, ok := o.Obj.(interface{ GetName() string })
			if !ok || m.GetName() == "" {
				continue // run templates: generateName, a fresh name per run
			}
			key := fmt.Sprintf("%T %s", o.Obj, m.GetName())
			if prev, dup := seen[key]; dup {
				t.Errorf("%s in both %s and %s", key, prev, p)
			}
			seen[key] = p
		}
	}
	// api and worker are one shape: one pair of pipelines; web and
	// shopfront differ in their node version.
	if len(pls) != 6 {
		t.Errorf("%d pipelines, want 3 shapes × 2", len(pls))
	}
	// Every param a pipeline declares without a default is given by every
	// run of it, and every TriggerTemplate param by every Trigger (shared
	// binding or the service's own), which gives nothing else.
	required := func(pl string) []string {
		var out []string
		for _, ps := range pls[pl].Spec.Params {
			if ps.Default == nil {
				out = append(out, ps.Name)
			}
		}
		return out
	}
	checkRun := func(where string, r *v1.PipelineRun) {
		given := map[string]bool{}
		for _, p := range r.Spec.Params {
			given[p.Name] = true
		}
		if pls[r.Spec.PipelineRef.Name] == nil {
			t.Fatalf("%s runs %s, which is not generated", where, r.Spec.PipelineRef.Name)
		}
		for _, n := range required(r.Spec.PipelineRef.Name) {
			if !given[n] {
				t.Errorf("%s does not give param %s of pipeline %s", where, n, r.Spec.PipelineRef.Name)
			}
		}
	}
	for _, r := range runs {
		checkRun("run "+r.GenerateName, r)
	}
	for _, tt := range tts {
		var r v1.PipelineRun
		if err := json.Unmarshal(tt.Spec.ResourceTemplates[0].Raw, &r); err != nil {
			t.Fatal(err)
		}
		checkRun("template "+tt.Name, &r)
	}
	for _, tr := range triggers {
		if tr.Labels[generator.ListenerLabel] != "shop" || el.Spec.LabelSelector.MatchLabels[generator.ListenerLabel] != "shop" {
			t.Errorf("the EventListener does not select trigger %s", tr.Name)
		}
		tt := tts[*tr.Spec.Template.Ref]
		if tt == nil {
			t.Fatalf("trigger %s: no template %s", tr.Name, *tr.Spec.Template.Ref)
		}
		bound := map[string]bool{}
		for _, b := range tr.Spec.Bindings {
			if b.Ref == "" {
				bound[b.Name] = true
				continue
			}
			for _, p := range bindings[b.Ref].Spec.Params {
				bound[p.Name] = true
			}
		}
		declared := map[string]bool{}
		for _, p := range tt.Spec.Params {
			declared[p.Name] = true
			if p.Default == nil && !bound[p.Name] {
				t.Errorf("trigger %s does not bind param %s of template %s", tr.Name, p.Name, tt.Name)
			}
		}
		for n := range bound {
			if !declared[n] {
				t.Errorf("trigger %s binds %s, which template %s does not declare", tr.Name, n, tt.Name)
			}
		}
	}
	web := string(tree["triggers/services/web.yaml"])
	// Once in the pull request's filter (the changed-files list), three
	// times in the release's (a commit's added, modified and removed lists).
	if strings.Count(web, `f.matches("^services/web/.+$") || f.matches("^go\\.work$")`) != 4 || strings.Contains(web, "services/api") {
		t.Errorf("web's pull-request and release triggers filter on other paths:\n%s", web)
	}
	for file, want := range map[string][]string{
		"runs/web-release.yaml":                         {"name: shop-node-22-release\n", "value: ../../docker/web.Dockerfile", "value: services/web\n", "value: ghcr.io/acme/shop/web\n", "value: services/web/k8s\n"},
		"triggers/services/web.yaml":                    {"ref: shop-node-22-release\n", "value: ../../docker/web.Dockerfile", "value: services/web/k8s\n"},
		"pipelines/shop-node-22-pull-request.yaml":      {"value: pnpm", "name: node-test-22-22-2\n"},
		"pipelines/shop-node-pull-request.yaml":         {"name: node-test\n"},
		"tasks/node-test-22-22-2.yaml":                  {"node:22.22.2-alpine@", "name: node-test-22-22-2\n"},
		"tasks/node-test.yaml":                          {"node:24.16.0-slim@", "name: node-test\n"},
		"tasks/go-test-1-25-5.yaml":                     {"golang:1.25.5@"},
		"tasks/go-lint-2-12-2.yaml":                     {"golangci-lint:v2.12.2-alpine@"},
		"pipelines/shop-go-1-25-0-pull-request.yaml":    {"name: go-lint-2-12-2\n", "name: go-test-1-25-5\n"},
		"runs/worker-release.yaml":                      {"name: shop-go-1-25-0-release\n", "value: services/worker/deploy\n", "serviceAccountName: shop-release\n"},
		"runs/api-release.yaml":                         {"name: shop-go-1-25-0-release\n", "value: services/api/k8s\n"},
		"triggers/template-shop-go-1-25-0-release.yaml": {"value: $(tt.params.manifests)\n", "pipewright.dev/service: $(tt.params.service)\n"},
		"kustomization.yaml":                            {"- triggers/services/api.yaml\n", "- triggers/services/web.yaml\n", "- pipelines/shop-go-1-25-0-release.yaml\n"},
		"README.md":                                     {"| `worker` | `services/worker` | go 1.25.0 | `ghcr.io/acme/shop/worker` | `services/worker/Dockerfile` | `services/worker/deploy` | `services/worker/**`, `go.work` | `shop-go-1-25-0` |"},
	} {
		for _, w := range want {
			if !strings.Contains(string(tree[file]), w) {
				t.Errorf("%s lacks %q", file, w)
			}
		}
	}
	for _, p := range tree.Paths() {
		if strings.HasPrefix(p, "api/") || strings.Contains(p, "/pipelines/") {
			t.Errorf("%s: a service's pipelines are its shape's, at the top", p)
		}
	}
	// pipewright lint finds nothing wrong with it.
	dir := t.TempDir()
	for _, p := range tree.Paths() {
		f := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, tree[p], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fs, err := lint.Run([]string{dir}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if f.Severity >= lint.Warning {
			t.Errorf("lint: %s", f)
		}
	}
}
