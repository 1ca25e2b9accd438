package catalog

import "sort"

// Image is one entry of the pinned image table. This machine reaches no
// image registry, so every digest here was read from the public source named
// beside it, never resolved or invented; `pipewright pin --check` re-resolves
// them where a registry is reachable.
type Image struct {
	Name   string // short name used in this table
	Repo   string // registry/repository
	Tag    string // the tag the digest was published under, for humans; may be empty
	Digest string // sha256:…
	Source string // where the digest was read: repository, path, commit
}

// Ref is the reference steps use: repo:tag@digest (the digest decides, the
// tag documents), or repo@digest when the source gave no tag.
func (i Image) Ref() string {
	if i.Tag == "" {
		return i.Repo + "@" + i.Digest
	}
	return i.Repo + ":" + i.Tag + "@" + i.Digest
}

// The image table.
var (
	GitInit = Image{
		Name: "git-init", Repo: "gcr.io/tekton-releases/github.com/tektoncd/pipeline/cmd/git-init", Tag: "v0.44.0",
		Digest: "sha256:baa4110837ef91c3ec26a00f3c5d980fef174b97934cf2fc9115092ec78d35ee",
		Source: "tektoncd/operator pkg/reconciler/common/tektoninstallerset/testdata/release.yaml (Pipelines v0.44.0 release.yaml, -git-image) @ 390143289a66e981b9a84847b53f18b1a325072d",
	}
	Golang = Image{
		Name: "golang", Repo: "docker.io/library/golang", Tag: "1.26.6",
		Digest: "sha256:0d1d3a794be25f809dd2cb3160d8c73276c4056a9f8242a138e908ddeee7b6b6",
		Source: "tektoncd/plumbing tekton/images/coverage/Dockerfile @ 75051b800363aeba7f90bcf32477624beb078c55",
	}
	GolangciLint = Image{
		Name: "golangci-lint", Repo: "docker.io/golangci/golangci-lint", Tag: "v2.0.1-alpine",
		Digest: "sha256:66854a432087d43cee95e82406b895f93a2cf6448e3edc67f46ce057dab07c7a",
		Source: "thepwagner-org/golangci-lint Dockerfile @ 5fd4145c2bb2ef98725e6424f9e72e6b5702aa2b",
	}
	Node = Image{
		Name: "node", Repo: "docker.io/library/node", Tag: "24.16.0-slim",
		Digest: "sha256:2c87ef9bd3c6a3bd4b472b4bec2ce9d16354b0c574f736c476489d09f560a203",
		Source: "tektoncd/dashboard tekton/build.yaml @ dc7a3ebc969c14baa11b4f73bce7cf1f8628aa5f",
	}
	Python = Image{
		Name: "python", Repo: "docker.io/library/python", Tag: "3.12-alpine",
		Digest: "sha256:c2f41e6a5a67bc39b95be3988dd19fbd05d1b82375c46d9826c592cca014d4de",
		Source: "tektoncd/catalog task/sendmail/0.2/sendmail.yaml @ 55dd80ef1b83861613dce9080dfdf6656f1aecd4",
	}
	Maven = Image{
		Name: "maven", Repo: "docker.io/library/maven", Tag: "3.9.16-eclipse-temurin-17",
		Digest: "sha256:bbcab0adfb03704e65831593df63b1c6b7ee42d5d8603f0d88972e0ee81a3036",
		Source: "kokuwaio/keycloak-event-metrics Dockerfile @ 53d32ad3be0946473665cb9de6fac262d19ac09a",
	}
	Kaniko = Image{
		Name: "kaniko", Repo: "gcr.io/kaniko-project/executor", Tag: "v1.5.1",
		Digest: "sha256:c6166717f7fe0b7da44908c986137ecfeab21f31ec3992f6e128fff8a94be8a5",
		Source: "tektoncd/catalog task/kaniko/0.7/kaniko.yaml @ 55dd80ef1b83861613dce9080dfdf6656f1aecd4",
	}
	Kubectl = Image{
		Name: "kubectl", Repo: "gcr.io/cloud-builders/kubectl",
		Digest: "sha256:8ab94be8b2b4f3d117f02d868b39540fddd225447abf4014f7ba4765cb39f753",
		Source: "tektoncd/catalog task/kubernetes-actions/0.2/kubernetes-actions.yaml (digest only, no tag) @ 55dd80ef1b83861613dce9080dfdf6656f1aecd4",
	}
	Shell = Image{
		Name: "shell", Repo: "docker.io/curlimages/curl", Tag: "8.17.0",
		Digest: "sha256:935d9100e9ba842cdb060de42472c7ca90cfe9a7c96e4dacb55e79e560b3ff40",
		Source: "tektoncd/dashboard tekton/prerelease-checks.yaml @ dc7a3ebc969c14baa11b4f73bce7cf1f8628aa5f",
	}
	DistrolessStatic = Image{
		Name: "distroless-static", Repo: "gcr.io/distroless/static", Tag: "nonroot",
		Digest: "sha256:9ecc53c269509f63c69a266168e4a687c7eb8c0cfd753bd8bfcaa4f58a90876f",
		Source: "metal3-io/cluster-api-provider-metal3 Dockerfile @ 2f6d76b88b8a20f3030e8c6e00f4c441bb46825b",
	}
)

// Images lists the table, sorted by name.
func Images() []Image {
	all := []Image{GitInit, Golang, GolangciLint, Node, Python, Maven, Kaniko, Kubectl, Shell, DistrolessStatic}
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	return all
}
