package images

import "sort"

// toolchains holds pinned alternates of table images, one per toolchain
// version a repository may ask for (go.mod, .nvmrc, .python-version, ...).
// Their names are IMAGE:VERSION; the lock pins them like the table, each
// digest with its public source. The table image itself is one of the
// versions too. generator/catalog chooses among them (toolchains.go there).
var toolchains = []*Image{
	{Name: "golang:1.24", Repo: "docker.io/library/golang", Tag: "1.24.6"},
	{Name: "golang:1.25", Repo: "docker.io/library/golang", Tag: "1.25.5"},
	{Name: "golangci-lint:v2.12", Repo: "docker.io/golangci/golangci-lint", Tag: "v2.12.2-alpine"},
	{Name: "maven:11", Repo: "docker.io/library/maven", Tag: "3.9.16-eclipse-temurin-11"},
	{Name: "maven:21", Repo: "docker.io/library/maven", Tag: "3.9.16-eclipse-temurin-21"},
	{Name: "node:20", Repo: "docker.io/library/node", Tag: "20.8.1-alpine"},
	{Name: "node:22", Repo: "docker.io/library/node", Tag: "22.22.2-alpine"},
	{Name: "python:3.13", Repo: "docker.io/library/python", Tag: "3.13.8-slim-bookworm"},
	{Name: "python:3.14", Repo: "docker.io/library/python", Tag: "3.14.7-slim-bookworm"},
}

// Toolchains lists the pinned alternates with their lock digests, by name.
func Toolchains() []Image {
	var out []Image
	for _, img := range toolchains {
		i := *img
		i.Digest = pinnedDigest(i)
		out = append(out, i)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Known reports whether name is a table image or a pinned toolchain version
// of one (golang:1.25): what an image file (a mirror's lock) may override.
func Known(name string) bool {
	if _, ok := Lookup(name); ok {
		return true
	}
	for _, img := range toolchains {
		if img.Name == name {
			return true
		}
	}
	return false
}
