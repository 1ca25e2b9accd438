package config

import (
	"strings"
	"testing"

	"github.com/pipewright/pipewright/pkg/images"
)

const good = `apiVersion: pipewright.dev/v1alpha1
app:
  name: api
build:
  pack: go
image:
  repository: ghcr.io/acme/api
github:
  repository: acme/api
`

func TestGoodConfigDefaults(t *testing.T) {
	l, err := Parse("pipewright.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if l.App.Namespace != "default" || l.GitHub.DefaultBranch != "main" || l.Tasks.From != "embedded" || l.Deploy.Deployment != "api" || len(l.Deploy.Canary.Steps) != 4 {
		t.Fatalf("defaults not applied: %+v", l.Config)
	}
}

// replace swaps one line of the good config, keeping line numbers readable.
func replace(old, new string) string { return strings.Replace(good, old, new, 1) }

func TestBadConfigs(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       string // the whole first error line
	}{
		{"misspelt key", replace("  name: api", "  nmae: api"),
			`pipewright.yaml:3:3: app.nmae: unknown field "nmae" (hint: did you mean "name"?)`},
		{"unknown top-level key", good + "deploy_target: prod\n",
			`pipewright.yaml:10:1: deploy_target: unknown field "deploy_target" (hint: known fields: apiVersion, app, build, deploy, github, image, images, overrides, paths, services, tasks, tools)`},
		{"wrong type: mapping for string", replace("  pack: go", "  pack: {name: go}"),
			`pipewright.yaml:5:9: build.pack: want a string, got a mapping (hint: write a single value)`},
		{"wrong type: string for bool", replace("  repository: ghcr.io/acme/api", "  repository: ghcr.io/acme/api\n  prTag: yes-please"),
			`pipewright.yaml:8:10: image.prTag: want true or false, got the string "yes-please" (hint: write true or false)`},
		{"wrong type: string for int list", good + "deploy:\n  canary:\n    steps: [10, fifty, 100]\n",
			`pipewright.yaml:12:17: deploy.canary.steps[1]: want a whole number, got the string "fifty" (hint: write a whole number without quotes)`},
		{"list where mapping", replace("app:\n  name: api", "app:\n  - api"),
			`pipewright.yaml:3:3: app: want a mapping of fields, got a list (hint: write the fields indented under the key)`},
		{"invalid k8s name", replace("  name: api", "  name: My_API"),
			`pipewright.yaml:3:3: app.name: "My_API" is not a valid Kubernetes name: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 40 characters (hint: try "my-api")`},
		{"missing required field", replace("image:\n  repository: ghcr.io/acme/api\n", ""),
			`pipewright.yaml:1:1: image.repository: is required (hint: e.g. ghcr.io/acme/api)`},
		{"missing apiVersion", strings.Replace(good, "apiVersion: pipewright.dev/v1alpha1\n", "", 1),
			`pipewright.yaml:1:1: apiVersion: is required (hint: add ` + "`apiVersion: pipewright.dev/v1alpha1`" + ` at the top)`},
		{"unsupported build pack", replace("  pack: go", "  pack: rust"),
			`pipewright.yaml:5:3: build.pack: "rust" is not supported (hint: known fields: bun, docker, go, java, node, python (supported: go, bun, node, python, java, docker))`},
		{"build pack typo", replace("  pack: go", "  pack: pyton"),
			`pipewright.yaml:5:3: build.pack: "pyton" is not supported (hint: did you mean "python"? (supported: go, bun, node, python, java, docker))`},
		{"image with tag", replace("  repository: ghcr.io/acme/api", "  repository: ghcr.io/acme/api:v1"),
			`pipewright.yaml:7:3: image.repository: "ghcr.io/acme/api:v1" has a tag or digest (hint: drop the tag or digest: the pipelines choose them)`},
		{"github repo not owner/name", replace("  repository: acme/api", "  repository: https://github.com/acme/api"),
			`pipewright.yaml:9:3: github.repository: "https://github.com/acme/api" is not owner/name (hint: owner/name, e.g. acme/api)`},
		{"canary without tool image", good + "deploy:\n  strategy: canary\n",
			`pipewright.yaml:11:3: deploy.strategy: the canary deploy runs pipewright in its step and needs tools.image (hint: set tools.image: build and push the pipewright tool image with ` + "`pipewright image build --image REPO --platform linux/amd64,linux/arm64 ./cmd/pipewright`" + ` and set tools.image to the REPO@sha256:... it prints)`},
		{"tool image by tag", good + "tools:\n  image: ghcr.io/acme/pipewright:v1\n",
			`pipewright.yaml:11:3: tools.image: "ghcr.io/acme/pipewright:v1" is not an image pinned by digest (REPO@sha256:<64 hex>): a digest must contain exactly one '@' separator (e.g. registry/repository@digest) saw: ghcr.io/acme/pipewright:v1 (hint: build and push the pipewright tool image with ` + "`pipewright image build --image REPO --platform linux/amd64,linux/arm64 ./cmd/pipewright`" + ` and set tools.image to the REPO@sha256:... it prints)`},
		{"go-image for node", strings.Replace(replace("  pack: go", "  pack: node"), "ghcr.io/acme/api\n", "ghcr.io/acme/api\n  builder: go-image\n", 1),
			`pipewright.yaml:8:3: image.builder: go-image builds Go main packages; this is the node pack (hint: use builder: dockerfile for the node pack)`},
		{"package not relative", replace("  repository: ghcr.io/acme/api", "  repository: ghcr.io/acme/api\n  package: cmd/api"),
			`pipewright.yaml:8:3: image.package: "cmd/api" is not a relative package path (hint: write it relative to build.context: ./cmd/api)`},
		{"run URL not http", replace("  repository: acme/api", "  repository: acme/api\n  runURL: dashboard/{name}"),
			`pipewright.yaml:10:3: github.runURL: "dashboard/{name}" is not a run URL (hint: an http(s) URL with {namespace} and {name}, e.g. https://dashboard.example.com/#/namespaces/{namespace}/pipelineruns/{name})`},
		{"github app without tool image", replace("  repository: acme/api", "  repository: acme/api\n  app: {id: 12}"),
			`pipewright.yaml:10:3: github.app: the check runs are written by pipewright in a step and need tools.image (hint: set tools.image: build and push the pipewright tool image with ` + "`pipewright image build --image REPO --platform linux/amd64,linux/arm64 ./cmd/pipewright`" + ` and set tools.image to the REPO@sha256:... it prints)`},
		{"github app without id", replace("  repository: acme/api", "  repository: acme/api\n  app: {keySecret: my-app}") + "tools: {image: ghcr.io/acme/pipewright@sha256:" + strings.Repeat("a", 64) + "}\n",
			`pipewright.yaml:10:3: github.app.id: is missing or not positive (hint: the App's id from its settings page, e.g. 123456)`},
		// Globs that could never match are refused (pkg/glob, one meaning).
		{"path glob with a leading slash", good + "paths:\n  - /services/api/**\n",
			`pipewright.yaml:11:5: paths[0]: glob "/services/api/**": starts with / (hint: paths are relative to the repository root: drop the leading /)`},
		{"path glob with a comma", good + "paths:\n  - docs/a,b.md\n",
			`pipewright.yaml:11:5: paths[0]: glob "docs/a,b.md" has a comma, which the trigger's changed-files list uses as its separator (hint: match the name with ? or * in place of the comma)`},
		{"path glob unclosed class", good + "paths:\n  - svc/[xy\n",
			`pipewright.yaml:11:5: paths[0]: glob "svc/[xy": unclosed [ (hint: a class such as [abc], [a-z] or [!x], closed by ])`},
		{"failure limit zero", good + "deploy:\n  canary:\n    failureLimit: 0\n",
			`pipewright.yaml:12:5: deploy.canary.failureLimit: 0: the failure limit counts the failing samples that roll back, at least 1 (hint: 1 rolls back at the first failing sample)`},
		{"bad platform", replace("  repository: ghcr.io/acme/api", "  repository: ghcr.io/acme/api\n  platforms: [amd64]"),
			`pipewright.yaml:8:15: image.platforms[0]: "amd64" is not a platform (hint: os/arch such as linux/amd64 or linux/arm64)`},
		{"canary steps not growing", good + "deploy:\n  canary:\n    steps: [50, 25, 100]\n",
			`pipewright.yaml:12:17: deploy.canary.steps[1]: 25 does not grow from the step before (50) (hint: list growing weights, e.g. [10, 25, 50, 100])`},
		{"wildcard deploy resource", good + "deploy:\n  resources: ['*']\n",
			`pipewright.yaml:11:15: deploy.resources[0]: "*" is not an API resource name (no wildcards) (hint: RESOURCE.GROUP in lowercase, e.g. httproutes.gateway.networking.k8s.io, or a core resource such as serviceaccounts)`},
		{"kind for deploy resource", good + "deploy:\n  resources: [HTTPRoute]\n",
			`pipewright.yaml:11:15: deploy.resources[0]: "HTTPRoute" is not an API resource name (no wildcards) (hint: RESOURCE.GROUP in lowercase, e.g. httproutes.gateway.networking.k8s.io, or a core resource such as serviceaccounts)`},
		{"bad duration", good + "deploy:\n  canary:\n    interval: 5 minutes\n",
			`pipewright.yaml:12:5: deploy.canary.interval: "5 minutes" is not a positive duration (hint: write a Go duration such as 30s, 5m or 1h30m)`},
		{"bundle without digest", good + "tasks:\n  from: bundle\n  bundle: ghcr.io/acme/catalog:latest\n",
			`pipewright.yaml:12:3: tasks.bundle: tasks from a bundle need the bundle pinned by digest, got "ghcr.io/acme/catalog:latest" (hint: push one with ` + "`pipewright bundle push`" + ` and use the REPO@sha256:... it prints)`},
		{"bad quantity", good + "overrides:\n  test:\n    memory: 2 gigs\n",
			`pipewright.yaml:12:5: overrides.test.memory: "2 gigs" is not a quantity (hint: a Kubernetes quantity such as 500m, 2, 512Mi or 2Gi)`},
		{"duplicate key", replace("  name: api", "  name: api\n  name: web"),
			`pipewright.yaml:4:3: app.name: key "name" appears twice (hint: remove one of them)`},
		{"not YAML", "app: [unclosed\n",
			`pipewright.yaml:1:1: not valid YAML: did not find expected ',' or ']' (hint: check indentation and quoting)`},
		{"empty file", "",
			`pipewright.yaml:1:1: the file is empty (hint: run ` + "`pipewright init`" + ` to write one)`},
		{"unknown config version", replace("apiVersion: pipewright.dev/v1alpha1", "apiVersion: pipewright.dev/v2"),
			`pipewright.yaml:1:1: apiVersion: unknown config version "pipewright.dev/v2" (hint: this pipewright reads pipewright.dev/v1alpha1)`},
		{"image override by tag only", good + "images:\n  golang: mirror.example.com/library/golang:1.26.6\n",
			`pipewright.yaml:11:3: images.golang: "mirror.example.com/library/golang:1.26.6" is not an image pinned by digest (REPO@sha256:<64 hex>): a digest must contain exactly one '@' separator (e.g. registry/repository@digest) saw: mirror.example.com/library/golang:1.26.6 (hint: pin it by digest: REPO[:TAG]@sha256:<64 hex>, e.g. mirror.example.com/library/golang:1.26.6@sha256:<64 hex>)`},
		{"image override with a short digest", good + "images:\n  kubectl: mirror.example.com/kubectl@sha256:abc\n",
			`pipewright.yaml:11:3: images.kubectl: "mirror.example.com/kubectl@sha256:abc" is not an image pinned by digest (REPO@sha256:<64 hex>): invalid checksum digest length: sha256:abc (hint: pin it by digest: REPO[:TAG]@sha256:<64 hex>, e.g. mirror.example.com/cloud-builders/kubectl@sha256:<64 hex>)`},
		{"image override empty", good + "images:\n  git-init: \"\"\n",
			`pipewright.yaml:11:3: images.git-init: is empty: want an image pinned by digest (REPO@sha256:<64 hex>) (hint: pin it by digest: REPO[:TAG]@sha256:<64 hex>, e.g. mirror.example.com/tekton-releases/github.com/tektoncd/pipeline/cmd/git-init:v0.44.0@sha256:<64 hex>)`},
		{"image override of a misspelt image", good + "images:\n  golang: " + pinned + "\n  golnag: " + pinned + "\n",
			`pipewright.yaml:12:3: images.golnag: no catalog image "golnag" (hint: did you mean "golang"? catalog images: buildkit, bun, distroless-static, git-init, golang, golangci-lint, kubectl, maven, node, python, shell)`},
		{"image override of an unknown image", good + "images:\n  nginx: " + pinned + "\n",
			`pipewright.yaml:11:3: images.nginx: no catalog image "nginx" (hint: catalog images: buildkit, bun, distroless-static, git-init, golang, golangci-lint, kubectl, maven, node, python, shell)`},
		{"image override twice", good + "images:\n  golang: " + pinned + "\n  golang: " + pinned + "\n",
			`pipewright.yaml:12:3: images.golang: key "golang" appears twice (hint: remove one of them)`},
		{"image overrides not a mapping", good + "images: [golang]\n",
			`pipewright.yaml:10:9: images: want a mapping, got a list (hint: write key: value pairs indented under the key)`},
		{"make commands for another pack", replace("  pack: go", "  pack: node\n  commands: make"),
			`pipewright.yaml:6:3: build.commands: make runs in the go pack's golang image, the one toolchain image with make; this is the node pack (hint: remove it, or run your make targets in a Dockerfile stage)`},
		{"unknown commands", replace("  pack: go", "  pack: go\n  commands: mak"),
			`pipewright.yaml:6:3: build.commands: "mak" is not supported (hint: did you mean "make"? (supported: toolchain, make))`},
		{"context escapes repo", replace("  pack: go", "  pack: go\n  context: ../other"),
			`pipewright.yaml:6:3: build.context: "../other" leaves the repository (hint: give a folder inside the repository, e.g. services/api)`},
		{"context escapes repo after cleaning", replace("  pack: go", "  pack: go\n  context: services/../../other"),
			`pipewright.yaml:6:3: build.context: "services/../../other" leaves the repository (hint: give a folder inside the repository, e.g. services/api)`},
		{"dockerfile escapes repo from the context", strings.Replace(replace("  pack: go", "  pack: go\n  context: services/api"), "ghcr.io/acme/api\n", "ghcr.io/acme/api\n  dockerfile: ../../../Dockerfile\n", 1),
			`pipewright.yaml:9:3: image.dockerfile: "../../../Dockerfile" leaves the repository (it is relative to build.context "services/api") (hint: a Dockerfile inside the repository, relative to build.context, e.g. Dockerfile)`},
		{"manifests absolute", good + "deploy:\n  manifests: /etc/k8s\n",
			`pipewright.yaml:11:3: deploy.manifests: "/etc/k8s" is not a relative slash path (hint: a folder inside the repository, relative to build.context, e.g. k8s)`},
		{"path filter escapes", good + "paths: [\"../x/**\"]\n",
			`pipewright.yaml:10:9: paths[0]: glob "../x/**": has a .. segment (hint: name folders from the repository root; GitHub lists paths without . or ..)`},
		{"number for a string", replace("  name: api", "  name: 2048"),
			`pipewright.yaml:3:9: app.name: want a string, got int 2048 (hint: quote it: "2048")`},
		{"bool param", replace("  pack: go", "  pack: go\n  test:\n    params:\n      race: true"),
			`pipewright.yaml:8:13: build.test.params.race: want a string, got bool true (hint: quote it: "true")`},
		{"float for a string", good + "overrides:\n  test:\n    cpu: 1.5\n",
			`pipewright.yaml:12:10: overrides.test.cpu: want a string, got float 1.5 (hint: quote it: "1.5")`},
		{"service context escapes", good + "services:\n  - name: api\n    context: ../api\n",
			`pipewright.yaml:12:5: services[0].context: "../api" leaves the repository (hint: give a folder inside the repository, e.g. services/api)`},
		{"service twice", good + "services:\n  - name: api\n    context: a\n  - name: api\n    context: b\n",
			`pipewright.yaml:13:5: services[1].name: service "api" appears twice (hint: services[0] has it already)`},
		{"service test tweak misspelt", good + "services:\n  - name: api\n    context: a\n    test:\n      parms: {}\n",
			`pipewright.yaml:14:7: services[0].test.parms: unknown field "parms" (hint: did you mean "params"?)`},
		{"second document", good + "---\napiVersion: pipewright.dev/v1alpha1\n",
			`pipewright.yaml:11:1: a second YAML document: pipewright.yaml holds one config (hint: remove the ` + "`---`" + ` and what follows, or move it to a file of its own)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("pipewright.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatal("want an error")
			}
			es := ErrorsOf(err)
			if len(es) == 0 {
				t.Fatalf("not a config error: %v", err)
			}
			if got := es[0].Error(); got != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// pinned is an override as a mirror holds it: the lock's own golang digest
// (a mirror copies images by digest) under the mirror's name.
var pinned = "mirror.example.com/library/golang:1.26.6@" + lockDigest("golang")

func TestImageOverrides(t *testing.T) {
	untagged := "mirror.example.com/cloud-builders/kubectl@" + lockDigest("kubectl")
	l, err := Parse("pipewright.yaml", []byte(good+"images:\n  golang: "+pinned+"\n  kubectl: "+untagged+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Images) != 2 || l.Images["golang"] != pinned || l.Images["kubectl"] != untagged {
		t.Fatalf("images = %v", l.Images)
	}
	if l, err := Parse("pipewright.yaml", []byte(good)); err != nil || l.Images != nil {
		t.Fatalf("no images: gives %v, %v", l.Images, err)
	}
}

func TestSchemaCoversEveryField(t *testing.T) {
	s, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"pack"`, `"enum"`, `"canary"`, `"additionalProperties": false`, `"required"`, "Build pack: go, bun, node", `"images"`, `"propertyNames"`, `"git-init"`, `"pattern": "@sha256:[0-9a-f]{64}$"`} {
		if !strings.Contains(string(s), want) {
			t.Errorf("schema lacks %s", want)
		}
	}
}

// FuzzParse: whatever the bytes, Parse returns a config or positioned
// errors, and never panics.
func FuzzParse(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte(replace("  name: api", "  nmae: api")))
	f.Add([]byte("app: [unclosed\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte(good + "deploy:\n  canary:\n    steps: [50, 25]\n"))
	f.Add([]byte(good + "images:\n  golnag: golang:1\n  kubectl: \"\"\n"))
	f.Add([]byte(good + "---\n---\nx: 1\n"))
	f.Add([]byte(replace("  name: api", "  name: 0x1F")))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := Parse("f.yaml", data)
		if err == nil {
			if l.Config == nil {
				t.Fatal("nil config without error")
			}
			return
		}
		for _, e := range ErrorsOf(err) {
			if e.Line < 1 || e.Col < 1 {
				t.Fatalf("error without position: %v", e)
			}
		}
	})
}

// lockDigest is the embedded lock's digest for a catalog image.
func lockDigest(name string) string {
	img, _ := images.Lookup(name)
	return img.Digest
}
