// Package buildpack knows each supported language: which files identify it,
// what `pipewright init` can learn from them, and which catalog Tasks lint
// and test it.
package buildpack

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Pack is one build pack.
type Pack struct {
	Name string
	// Lint and Test are catalog Task names; empty when the pack has none.
	Lint, Test string
	// detect reports whether dir holds this kind of project and what it learnt.
	detect func(dir string) (Detected, bool)
}

// Detected is what init found in a project folder.
type Detected struct {
	Pack string
	Name string // project name, as found (module, package, artifact)
	// Facts are shown to the user and written as comments.
	Facts []string
	// TestParams are params for the pack's test Task (e.g. node-test script).
	TestParams map[string]string
	// LintDisabled is set when the project has nothing to lint with.
	LintDisabled bool
	// NameFromDir is set when Name is only the folder's name.
	NameFromDir bool
}

// Packs in detection order: a language pack wins over a plain Dockerfile.
var Packs = []Pack{
	{Name: "go", Lint: "go-lint", Test: "go-test", detect: detectGo},
	{Name: "node", Lint: "node-test", Test: "node-test", detect: detectNode},
	{Name: "python", Test: "python-test", detect: detectPython},
	{Name: "java", Test: "java-test", detect: detectJava},
	{Name: "docker", detect: detectDocker},
}

// Names lists the packs' names in detection order: the one list of build
// packs the config, its schema and generation read.
func Names() []string {
	out := make([]string, len(Packs))
	for i, p := range Packs {
		out[i] = p.Name
	}
	return out
}

// Get returns a pack by name.
func Get(name string) (Pack, error) {
	for _, p := range Packs {
		if p.Name == name {
			return p, nil
		}
	}
	return Pack{}, fmt.Errorf("unknown build pack %q", name)
}

// Detect finds the pack of the project in dir.
func Detect(dir string) (Detected, error) {
	for _, p := range Packs {
		if d, ok := p.detect(dir); ok {
			d.Pack = p.Name
			return d, nil
		}
	}
	return Detected{}, fmt.Errorf("%s: no go.mod, package.json, pyproject.toml, requirements.txt, pom.xml, build.gradle or Dockerfile found; write pipewright.yaml by hand (see `pipewright schema`)", dir)
}

func read(dir, name string) (string, bool) {
	b, err := os.ReadFile(filepath.Join(dir, name))
	return string(b), err == nil
}

func exists(dir, name string) bool {
	_, err := os.Stat(filepath.Join(dir, name))
	return err == nil
}

func first(re, text string) string {
	if m := regexp.MustCompile(re).FindStringSubmatch(text); m != nil {
		return m[1]
	}
	return ""
}

func detectGo(dir string) (Detected, bool) {
	mod, ok := read(dir, "go.mod")
	if !ok {
		return Detected{}, false
	}
	module := first(`(?m)^module\s+(\S+)`, mod)
	goVersion := first(`(?m)^go\s+(\S+)`, mod)
	d := Detected{Name: filepath.Base(module), Facts: []string{"Go module " + module}}
	if goVersion != "" {
		d.Facts = append(d.Facts, "go "+goVersion+" (go.mod)")
	}
	for _, c := range []string{".golangci.yml", ".golangci.yaml", ".golangci.toml", ".golangci.json"} {
		if exists(dir, c) {
			d.Facts = append(d.Facts, "golangci-lint config "+c)
		}
	}
	if !exists(dir, "Dockerfile") {
		// The default image build reads a Dockerfile; say so now rather
		// than when the first release fails.
		d.Facts = append(d.Facts, "no Dockerfile: add one, or set image.builder: go-image and tools.image (no Dockerfile needed)")
	}
	return d, true
}

func detectNode(dir string) (Detected, bool) {
	pkg, ok := read(dir, "package.json")
	if !ok {
		return Detected{}, false
	}
	d := Detected{Name: first(`"name"\s*:\s*"([^"]+)"`, pkg), TestParams: map[string]string{}}
	pm := "npm"
	switch {
	case exists(dir, "pnpm-lock.yaml"):
		pm = "pnpm"
	case exists(dir, "yarn.lock"):
		pm = "yarn"
	}
	d.Facts = append(d.Facts, "package "+d.Name, "package manager "+pm+" (lock file)")
	if pm != "npm" {
		d.TestParams["package-manager"] = pm
	}
	if !regexp.MustCompile(`"lint"\s*:`).MatchString(pkg) {
		d.LintDisabled = true
		d.Facts = append(d.Facts, "no lint script in package.json: lint disabled")
	}
	if regexp.MustCompile(`"test"\s*:`).MatchString(pkg) {
		d.Facts = append(d.Facts, "test script: npm run test")
	}
	return d, true
}

func detectPython(dir string) (Detected, bool) {
	py, hasPy := read(dir, "pyproject.toml")
	_, hasReq := read(dir, "requirements.txt")
	if !hasPy && !hasReq {
		return Detected{}, false
	}
	d := Detected{Name: first(`(?m)^name\s*=\s*"([^"]+)"`, py), TestParams: map[string]string{}}
	if hasPy {
		d.Facts = append(d.Facts, "pyproject.toml project "+d.Name)
	}
	if hasReq {
		d.Facts = append(d.Facts, "requirements.txt")
	} else {
		d.TestParams["requirements"] = ""
	}
	if d.Name == "" {
		d.Name, d.NameFromDir = filepath.Base(dir), true
	}
	return d, true
}

func detectJava(dir string) (Detected, bool) {
	if pom, ok := read(dir, "pom.xml"); ok {
		// The project's own artifactId follows its parent block, if any.
		pom = regexp.MustCompile(`(?s)<parent>.*?</parent>`).ReplaceAllString(pom, "")
		d := Detected{Name: first(`<artifactId>([^<]+)</artifactId>`, pom), Facts: []string{"Maven project (pom.xml)"}}
		if exists(dir, "mvnw") {
			d.Facts = append(d.Facts, "Maven wrapper ./mvnw")
		}
		return d, true
	}
	for _, g := range []string{"build.gradle", "build.gradle.kts"} {
		if exists(dir, g) {
			settings, _ := read(dir, "settings.gradle")
			if settings == "" {
				settings, _ = read(dir, "settings.gradle.kts")
			}
			d := Detected{Name: first(`rootProject\.name\s*=\s*["']([^"']+)["']`, settings), Facts: []string{"Gradle project (" + g + ")"}}
			if exists(dir, "gradlew") {
				d.Facts = append(d.Facts, "Gradle wrapper ./gradlew")
			} else {
				d.Facts = append(d.Facts, "no ./gradlew: java-test needs the Gradle wrapper committed")
			}
			if d.Name == "" {
				d.Name = filepath.Base(dir)
			}
			return d, true
		}
	}
	return Detected{}, false
}

func detectDocker(dir string) (Detected, bool) {
	if !exists(dir, "Dockerfile") {
		return Detected{}, false
	}
	abs, _ := filepath.Abs(dir)
	return Detected{Name: filepath.Base(abs), NameFromDir: true, Facts: []string{"Dockerfile only: build and push, no lint or tests"}}, true
}

// AppName turns a detected project name into a valid app name.
func AppName(name string) string {
	n := strings.ToLower(name)
	n = regexp.MustCompile(`^@[^/]+/`).ReplaceAllString(n, "") // npm scope
	n = strings.Trim(regexp.MustCompile(`[^a-z0-9-]+`).ReplaceAllString(n, "-"), "-")
	if len(n) > 40 {
		n = strings.Trim(n[:40], "-")
	}
	if n == "" {
		n = "app"
	}
	return n
}
