package catalog

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/pipewright/pipewright/pkg/images"
)

// GolangciLintMaxGo is the newest Go language version each pinned
// golangci-lint release supports: a linter built with an older Go refuses a
// newer module. From golangci-lint's release notes: v2.0 is built with Go
// 1.24; v2.9.0 added go1.26 support.
var GolangciLintMaxGo = map[string]string{"v2.0.1-alpine": "1.24", "v2.12.2-alpine": "1.26"}

var leadingVersion = regexp.MustCompile(`^v?(\d+(?:\.\d+)*)`)

// ImageVersion is the toolchain version an image tag carries: 1.25.5 for
// golang:1.25.5, 22.22.2 for node:22.22.2-alpine, 17 for
// maven:3.9.16-eclipse-temurin-17 (the JDK, not Maven).
func ImageVersion(img images.Image) string {
	if i := strings.Index(img.Tag, "temurin-"); i >= 0 {
		return leadingVersion.FindString(img.Tag[i+len("temurin-"):])
	}
	return strings.TrimPrefix(leadingVersion.FindString(img.Tag), "v")
}

// versionsOf is every pinned image of a table image name: the table's own
// and its alternates, newest version first.
func versionsOf(name string) []images.Image {
	var out []images.Image
	if img, ok := images.Lookup(name); ok {
		out = append(out, img)
	}
	for _, img := range images.Toolchains() {
		if strings.HasPrefix(img.Name, name+":") {
			out = append(out, img)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return CompareVersions(ImageVersion(out[i]), ImageVersion(out[j])) > 0 })
	return out
}

// PinnedVersions lists the toolchain versions the lock pins for a table
// image, oldest first.
func PinnedVersions(name string) []string {
	var out []string
	for _, img := range versionsOf(name) {
		out = append([]string{ImageVersion(img)}, out...)
	}
	return out
}

// CompareVersions compares dotted numeric versions (1.25 < 1.25.3 < 1.26).
func CompareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(as), len(bs)); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			return x - y
		}
	}
	return 0
}

// VersionError is a toolchain version the image lock does not pin.
type VersionError struct {
	Image, Want string
	Pinned      []string // oldest first
	Nearest     string
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("no %s image for version %s in pipewright's image lock (pinned: %s; nearest: %s)",
		e.Image, e.Want, strings.Join(e.Pinned, ", "), e.Nearest)
}

// SelectVersion picks the pinned image of a table image for a wanted
// version. The first `parts` numbers of the version must match (2 for Go
// and Python: 1.25, 3.13; 1 for Node and the JDK: 22, 17); a longer wanted
// version (go 1.25.3) needs a pinned patch at least as new. Of the matching
// images the newest wins.
func SelectVersion(name, want string, parts int) (images.Image, error) {
	key := func(v string) string {
		f := strings.Split(v, ".")
		if len(f) > parts {
			f = f[:parts]
		}
		return strings.Join(f, ".")
	}
	all := versionsOf(name)
	for _, img := range all {
		v := ImageVersion(img)
		if key(v) == key(want) && (strings.Count(v, ".") < strings.Count(want, ".") || CompareVersions(v, want) >= 0) {
			return img, nil
		}
	}
	e := &VersionError{Image: name, Want: want, Pinned: PinnedVersions(name)}
	best := -1
	for _, img := range all {
		v := ImageVersion(img)
		d := abs(versionDistance(v, want))
		if best < 0 || d < best {
			best, e.Nearest = d, v
		}
	}
	return images.Image{}, e
}

// versionDistance orders versions by closeness: major, then minor, then
// patch differences.
func versionDistance(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	d := 0
	for i := 0; i < 3; i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		d = d*1000 + (x - y)
	}
	return d
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// LintImageForGo is the oldest pinned golangci-lint whose Go support covers
// a module's Go version (a newer linter changes findings; an older one
// refuses the module).
func LintImageForGo(goVersion string) (images.Image, error) {
	all := versionsOf(images.GolangciLint.Name)
	for i := len(all) - 1; i >= 0; i-- {
		if m, ok := GolangciLintMaxGo[all[i].Tag]; ok && CompareVersions(m, goMinor(goVersion)) >= 0 {
			return all[i], nil
		}
	}
	var support []string
	for _, img := range all {
		support = append(support, fmt.Sprintf("%s up to go %s", img.Tag, GolangciLintMaxGo[img.Tag]))
	}
	return images.Image{}, fmt.Errorf("no pinned golangci-lint supports go %s (%s)", goVersion, strings.Join(support, ", "))
}

func goMinor(v string) string {
	f := strings.Split(v, ".")
	if len(f) > 2 {
		f = f[:2]
	}
	return strings.Join(f, ".")
}
