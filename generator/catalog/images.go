package catalog

import "sort"

// Image is one entry of the image table: what the catalog runs, by
// repository and tag. The digests live in the lock file (images.lock.json,
// embedded; see lock.go), each with the public source it was read from —
// this machine reaches no registry, so none was resolved or invented here.
// `pipewright pin` re-resolves them where a registry is reachable and
// `pipewright pin --check` tells when a tag has moved.
type Image struct {
	Name   string // short name, the key in the lock file
	Repo   string // registry/repository
	Tag    string // the tag the digest was published under, for humans; may be empty
	Digest string // sha256:…, filled from the lock when the program starts
}

// Ref is the reference steps use: repo:tag@digest (the digest decides, the
// tag documents), or repo@digest when the lock gave no tag.
func (i Image) Ref() string {
	if i.Digest == "" {
		return i.Repo + ":" + i.Tag // unpinned: validation and lint reject it
	}
	if i.Tag == "" {
		return i.Repo + "@" + i.Digest
	}
	return i.Repo + ":" + i.Tag + "@" + i.Digest
}

// The image table.
var (
	GitInit          = &Image{Name: "git-init", Repo: "gcr.io/tekton-releases/github.com/tektoncd/pipeline/cmd/git-init", Tag: "v0.44.0"}
	Golang           = &Image{Name: "golang", Repo: "docker.io/library/golang", Tag: "1.26.6"}
	GolangciLint     = &Image{Name: "golangci-lint", Repo: "docker.io/golangci/golangci-lint", Tag: "v2.0.1-alpine"}
	Node             = &Image{Name: "node", Repo: "docker.io/library/node", Tag: "24.16.0-slim"}
	Python           = &Image{Name: "python", Repo: "docker.io/library/python", Tag: "3.12-alpine"}
	Maven            = &Image{Name: "maven", Repo: "docker.io/library/maven", Tag: "3.9.16-eclipse-temurin-17"}
	BuildKit         = &Image{Name: "buildkit", Repo: "docker.io/moby/buildkit", Tag: "v0.33.1-rootless"}
	Kubectl          = &Image{Name: "kubectl", Repo: "gcr.io/cloud-builders/kubectl"}
	Shell            = &Image{Name: "shell", Repo: "docker.io/curlimages/curl", Tag: "8.17.0"}
	DistrolessStatic = &Image{Name: "distroless-static", Repo: "gcr.io/distroless/static", Tag: "nonroot"}
)

func table() []*Image {
	return []*Image{GitInit, Golang, GolangciLint, Node, Python, Maven, BuildKit, Kubectl, Shell, DistrolessStatic}
}

// Images lists the table with the lock's digests, sorted by name.
func Images() []Image {
	var all []Image
	for _, img := range table() {
		all = append(all, *img)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	return all
}
