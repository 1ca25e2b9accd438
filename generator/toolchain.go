package generator

import (
	"fmt"

	"github.com/pipewright/pipewright/generator/catalog"
	"github.com/pipewright/pipewright/generator/config"
	"github.com/pipewright/pipewright/pkg/images"
)

// toolchainImage is the image build.version picks for each pack, and how
// much of the version picks it: Go, Python and Bun by minor (1.25, 3.13,
// 1.3), Node and the JDK by major (22, 17).
var toolchainImage = map[string]struct {
	image *images.Image
	parts int
	what  string
}{
	"go":     {images.Golang, 2, "go"},
	"node":   {images.Node, 1, "node"},
	"python": {images.Python, 2, "python"},
	"java":   {images.Maven, 1, "JDK"},
	"bun":    {images.Bun, 2, "bun"},
}

// Toolchain is the images build.version chose, by catalog image name, for
// those that differ from the catalog's default; mirror (from --images) may
// hold a copy of a chosen version under its own name (golang:1.25).
func Toolchain(cfg *config.Loaded, mirror catalog.ImageSet) (catalog.ImageSet, []images.Image, error) {
	c := cfg.Config
	tc, ok := toolchainImage[c.Build.Pack]
	if !ok || c.Build.Version == "" {
		return nil, nil, nil
	}
	set := catalog.ImageSet{}
	var chosen []images.Image
	use := func(def *images.Image, img images.Image) {
		chosen = append(chosen, img)
		if img.Name == def.Name {
			return // the catalog's own
		}
		ref := img.Ref()
		if r := mirror[img.Name]; r != "" {
			ref = r // a mirror's copy of this version
		} else if mirror[def.Name] != "" {
			return // --images replaces the image whatever the version
		}
		set[def.Name] = ref
	}
	hint := fmt.Sprintf("set build.version to a pinned version, or run your own image: images: {%s: REPO:TAG@sha256:<64 hex>}", tc.image.Name)
	if c.Images[tc.image.Name] == "" {
		img, err := catalog.SelectVersion(tc.image.Name, c.Build.Version, tc.parts)
		if err != nil {
			return nil, nil, cfg.Errorf("build.version", hint, "%s %s: %v", tc.what, c.Build.Version, err)
		}
		use(tc.image, img)
	}
	if c.Build.Pack == "go" && !c.Build.Lint.Disabled && c.Build.Commands != "make" && c.Images[images.GolangciLint.Name] == "" {
		img, err := catalog.LintImageForGo(c.Build.Version)
		if err != nil {
			return nil, nil, cfg.Errorf("build.version", "disable build.lint, or run a golangci-lint built with a newer Go: images: {golangci-lint: REPO:TAG@sha256:<64 hex>}", "%v", err)
		}
		use(images.GolangciLint, img)
	}
	if c.Tasks.From != "embedded" {
		// The installed catalog's Tasks run their own images; the README
		// says which ones build.version wanted.
		return nil, chosen, nil
	}
	return set, chosen, nil
}

func chosenRefs(imgs []images.Image) string {
	s := ""
	for i, img := range imgs {
		if i > 0 {
			s += ", "
		}
		s += img.Repo + ":" + img.Tag
	}
	return s
}
