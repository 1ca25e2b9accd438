// Package images is the image table the catalog runs (repository and tag of
// every step image) and its lock (the digest of each, with the public source
// it was read from). The catalog (generator/catalog), `pipewright pin`
// (pkg/pin) and `pipewright image build` (pkg/image) read it; it imports
// nothing of pipewright.
package images

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
	Digest string // sha256:…; empty in the table, where the lock decides
}

// Ref is the reference steps use: repo:tag@digest (the digest decides, the
// tag documents), or repo@digest when the lock gave no tag. An image of the
// table takes its digest from the embedded lock; without one the reference
// is unpinned, which validation and lint reject (and Pinned says why).
func (i Image) Ref() string {
	d := i.Digest
	if d == "" {
		d = pinnedDigest(i)
	}
	if d == "" {
		return i.Repo + ":" + i.Tag
	}
	if i.Tag == "" {
		return i.Repo + "@" + d
	}
	return i.Repo + ":" + i.Tag + "@" + d
}

// The image table.
var (
	GitInit          = &Image{Name: "git-init", Repo: "gcr.io/tekton-releases/github.com/tektoncd/pipeline/cmd/git-init", Tag: "v0.44.0"}
	Golang           = &Image{Name: "golang", Repo: "docker.io/library/golang", Tag: "1.26.6"}
	GolangciLint     = &Image{Name: "golangci-lint", Repo: "docker.io/golangci/golangci-lint", Tag: "v2.0.1-alpine"}
	Node             = &Image{Name: "node", Repo: "docker.io/library/node", Tag: "24.16.0-slim"}
	Python           = &Image{Name: "python", Repo: "docker.io/library/python", Tag: "3.12-alpine"}
	Maven            = &Image{Name: "maven", Repo: "docker.io/library/maven", Tag: "3.9.16-eclipse-temurin-17"}
	Bun              = &Image{Name: "bun", Repo: "docker.io/oven/bun", Tag: "1.3.14"}
	BuildKit         = &Image{Name: "buildkit", Repo: "docker.io/moby/buildkit", Tag: "v0.33.1-rootless"}
	Kubectl          = &Image{Name: "kubectl", Repo: "gcr.io/cloud-builders/kubectl"}
	Shell            = &Image{Name: "shell", Repo: "docker.io/curlimages/curl", Tag: "8.17.0"}
	DistrolessStatic = &Image{Name: "distroless-static", Repo: "gcr.io/distroless/static", Tag: "nonroot"}
)

func table() []*Image {
	return []*Image{GitInit, Golang, GolangciLint, Node, Python, Maven, Bun, BuildKit, Kubectl, Shell, DistrolessStatic}
}

// All lists the table with the lock's digests, sorted by name.
func All() []Image {
	var all []Image
	for _, img := range table() {
		i := *img
		i.Digest = pinnedDigest(i)
		all = append(all, i)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	return all
}

// Names lists the table's image names, sorted.
func Names() []string {
	var out []string
	for _, img := range All() {
		out = append(out, img.Name)
	}
	return out
}

// Lookup returns the table's image named name, with its lock digest.
func Lookup(name string) (Image, bool) {
	for _, img := range All() {
		if img.Name == name {
			return img, true
		}
	}
	return Image{}, false
}
