// Package buildpack knows each supported language: which files identify it,
// what `pipewright init` can learn from them, and which catalog Tasks lint
// and test it.
package buildpack

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/pipewright/pipewright/generator/catalog"
	"github.com/pipewright/pipewright/pkg/images"
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
	// TestDisabled is set when the pack's test Task cannot run the project.
	TestDisabled bool
	// NameFromDir is set when Name is only the folder's name.
	NameFromDir bool
	// Version is the toolchain version the repository states (build.version).
	Version string
	// Alternatives are the other packs whose files are present too.
	Alternatives []string
}

// Packs in detection order: a language pack wins over a plain Dockerfile.
var Packs = []Pack{
	{Name: "go", Lint: "go-lint", Test: "go-test", detect: detectGo},
	{Name: "bun", Lint: "bun-test", Test: "bun-test", detect: detectBun},
	{Name: "node", Lint: "node-test", Test: "node-test", detect: detectNode},
	{Name: "python", Test: "python-test", detect: detectPython},
	{Name: "java", Test: "java-test", detect: detectJava},
	{Name: "docker", detect: detectDocker},
}

// MakeTask is the catalog Task that runs a Makefile's targets with the go
// pack's toolchain (build.commands: make).
const MakeTask = "go-make"

// WithCommands is the pack with build.commands applied: with make, its
// lint and test tasks run the repository's make targets. Only the go pack
// has a toolchain image with make; config validation refuses the others.
func (p Pack) WithCommands(commands string) Pack {
	if commands == "make" && p.Name == "go" {
		p.Lint, p.Test = MakeTask, MakeTask
	}
	return p
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

// Detect finds the pack of the project in dir. When the files of several
// packs are there (go.mod and package.json), the first in Packs' order
// wins, and the others are listed as alternatives, with that rule.
func Detect(dir string) (Detected, error) {
	var found []Detected
	for _, p := range Packs {
		if d, ok := p.detect(dir); ok {
			d.Pack = p.Name
			found = append(found, d)
		}
	}
	if len(found) > 0 {
		d := found[0]
		for _, alt := range found[1:] {
			if alt.Pack != "docker" {
				d.Alternatives = append(d.Alternatives, alt.Pack)
			}
		}
		if len(d.Alternatives) > 0 {
			d.Facts = append(d.Facts, fmt.Sprintf("also a %s project: chose %s, the first in the order %s; set build.pack to switch", strings.Join(d.Alternatives, " and "), d.Pack, packOrder()))
		}
		if mk, ok := read(dir, "Makefile"); ok {
			var targets []string
			for _, t := range []string{"lint", "test", "build"} {
				if regexp.MustCompile(`(?m)^` + t + `\s*:`).MatchString(mk) {
					targets = append(targets, t)
				}
			}
			if len(targets) > 0 {
				if d.Pack == "go" {
					d.Facts = append(d.Facts, "Makefile targets "+strings.Join(targets, ", ")+": to run make lint and make test (task "+MakeTask+", in the golang image) instead of golangci-lint and go test, set build.commands: make")
				} else {
					d.Facts = append(d.Facts, "Makefile targets "+strings.Join(targets, ", ")+": the "+d.Pack+" pack runs its toolchain's own commands (build.commands: make is for the go pack, whose image has make); to run `make "+targets[0]+"`, put it in a Dockerfile stage")
				}
			}
		}
		if d.Pack != "docker" && !exists(dir, "Dockerfile") {
			// The default image build reads a Dockerfile; say so now rather
			// than when the first release fails.
			opts := "add one, or set image.dockerfile to where yours is"
			if d.Pack == "go" {
				opts = "add one, or set image.builder: go-image and tools.image (no Dockerfile needed)"
			}
			d.Facts = append(d.Facts, "no Dockerfile: "+opts)
		}
		return d, nil
	}
	return Detected{}, fmt.Errorf("%s: no go.mod, package.json, pyproject.toml, requirements.txt, pom.xml, build.gradle or Dockerfile found; write pipewright.yaml by hand (see `pipewright schema`)", dir)
}

// rangeVersion reads a version range (>=3.11, ^20.0.0 || >=22, >=3.9,<4):
// when the catalog's default image meets it, no build.version is needed;
// otherwise the range's lowest version is asked for. It records what it
// decided as a fact.
func rangeVersion(d *Detected, what, rng, low, def string, parts int) string {
	if satisfies(def, rng) {
		d.Facts = append(d.Facts, what+": the catalog's default "+def+" meets it")
		return ""
	}
	d.Facts = append(d.Facts, what+": build.version "+low)
	return low
}

var comparator = regexp.MustCompile(`(>=|<=|>|<|\^|~=|~|==|=)?\s*v?(\d+(?:\.\d+)*|\*)`)

// satisfies reports whether version v meets a node (|| of space-separated
// comparators) or Python (comma-separated specifiers) range.
func satisfies(v, rng string) bool {
	for _, alt := range strings.Split(rng, "||") {
		ok := true
		for _, m := range comparator.FindAllStringSubmatch(alt, -1) {
			op, want := m[1], m[2]
			if want == "*" {
				continue
			}
			c := catalog.CompareVersions(v, want)
			wf := strings.Split(want, ".")
			vf := strings.Split(v, ".")
			switch op {
			case ">=":
				ok = ok && c >= 0
			case ">":
				ok = ok && c > 0
			case "<=":
				ok = ok && c <= 0
			case "<":
				ok = ok && c < 0
			case "^":
				ok = ok && c >= 0 && vf[0] == wf[0]
			case "~", "~=":
				ok = ok && c >= 0 && len(vf) > 1 && len(wf) > 1 && vf[0] == wf[0] && vf[1] == wf[1]
			default: // a bare or == version: the same up to its length
				ok = ok && len(vf) >= len(wf) && strings.Join(vf[:len(wf)], ".") == want
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func packOrder() string {
	var names []string
	for _, p := range Packs {
		names = append(names, p.Name)
	}
	return strings.Join(names, ", ")
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
	toolchain := first(`(?m)^toolchain\s+go(\S+)`, mod)
	d := Detected{Name: filepath.Base(module), Facts: []string{"Go module " + module}}
	switch {
	case toolchain != "":
		// The toolchain line is the Go the module wants built with; the
		// go line only the oldest it allows.
		d.Version = toolchain
		d.Facts = append(d.Facts, "go "+goVersion+", toolchain go"+toolchain+" (go.mod): build.version "+toolchain)
	case goVersion != "":
		d.Version = goVersion
		d.Facts = append(d.Facts, "go "+goVersion+" (go.mod): build.version "+goVersion)
	}
	for _, c := range []string{".golangci.yml", ".golangci.yaml", ".golangci.toml", ".golangci.json"} {
		cfg, ok := read(dir, c)
		if !ok {
			continue
		}
		d.Facts = append(d.Facts, "golangci-lint config "+c)
		// golangci-lint v2 refuses a config without version: "2".
		if !regexp.MustCompile(`(?m)^version\s*[:=]\s*["']?2["']?\s*$|"version"\s*:\s*"2"`).MatchString(cfg) {
			d.LintDisabled = true
			d.Facts = append(d.Facts, c+" is in golangci-lint v1 format, which the go-lint Task's golangci-lint v2 refuses: lint disabled; convert it with `golangci-lint migrate` and remove build.lint.disabled")
		}
	}
	return d, true
}

func detectNode(dir string) (Detected, bool) {
	pkg, ok := read(dir, "package.json")
	if !ok {
		return Detected{}, false
	}
	d := Detected{Name: first(`"name"\s*:\s*"([^"]+)"`, pkg), TestParams: map[string]string{}}
	d.Facts = append(d.Facts, "package "+d.Name)
	if bunLock(dir) != "" {
		return Detected{}, false // the bun pack's
	}
	pm, lock := "npm", ""
	for _, l := range []struct{ file, pm string }{{"pnpm-lock.yaml", "pnpm"}, {"yarn.lock", "yarn"}, {"package-lock.json", "npm"}, {"npm-shrinkwrap.json", "npm"}} {
		if exists(dir, l.file) {
			pm, lock = l.pm, l.file
			break
		}
	}
	declared := first(`"packageManager"\s*:\s*"([a-z]+)@`, pkg)
	switch {
	case lock != "":
		d.Facts = append(d.Facts, "package manager "+pm+" ("+lock+")")
	case declared != "":
		pm = declared
		d.Facts = append(d.Facts, "package manager "+pm+" (packageManager in package.json) but no lock file: node-test refuses unpinned installs; run "+pm+" install and commit the lock file")
	default:
		d.Facts = append(d.Facts, "no lock file: `npm ci` needs package-lock.json; run npm install and commit it")
	}
	if pm == "yarn" {
		if exists(dir, ".yarnrc.yml") || regexp.MustCompile(`"packageManager"\s*:\s*"yarn@[2-9]`).MatchString(pkg) {
			d.Facts = append(d.Facts, "yarn berry (.yarnrc.yml / packageManager): installs with --immutable")
		} else {
			d.Facts = append(d.Facts, "yarn classic (no .yarnrc.yml)")
		}
	}
	if pm == "bun" {
		d.Facts = append(d.Facts, "bun (packageManager) without bun.lock: the node pack's node-test runs npm, yarn or pnpm; run bun install and commit bun.lock for the bun pack")
		d.LintDisabled, d.TestDisabled = true, true
	} else if pm != "npm" {
		d.TestParams["package-manager"] = pm
	}
	for _, f := range []string{".nvmrc", ".node-version"} {
		if v, ok := read(dir, f); ok {
			if m := first(`^\s*v?(\d+)`, v); m != "" {
				d.Version = m
				d.Facts = append(d.Facts, "node "+strings.TrimSpace(v)+" ("+f+"): build.version "+m)
			} else {
				d.Facts = append(d.Facts, "node "+strings.TrimSpace(v)+" ("+f+") is not a version number: the catalog's default node image")
			}
			break
		}
	}
	if engines := first(`"engines"\s*:\s*\{[^}]*"node"\s*:\s*"([^"]+)"`, pkg); engines != "" && d.Version == "" {
		// A range: its lowest major is the one the package promises to
		// support, so tests run there.
		if m := first(`(\d+)`, engines); m != "" {
			d.Version = rangeVersion(&d, "engines.node "+engines+" (package.json)", engines, m, catalog.ImageVersion(*images.Node), 1)
		}
	}
	if !regexp.MustCompile(`"lint"\s*:`).MatchString(pkg) {
		d.LintDisabled = true
		d.Facts = append(d.Facts, "no lint script in package.json: lint disabled")
	}
	if regexp.MustCompile(`"test"\s*:`).MatchString(pkg) {
		d.Facts = append(d.Facts, "test script: "+pm+" run test")
	}
	return d, true
}

// bunLock is the project's bun lock file: bun.lock (text, Bun 1.2 on) or
// bun.lockb (binary, before); empty without one.
func bunLock(dir string) string {
	for _, f := range []string{"bun.lock", "bun.lockb"} {
		if exists(dir, f) {
			return f
		}
	}
	return ""
}

func detectBun(dir string) (Detected, bool) {
	pkg, ok := read(dir, "package.json")
	lock := bunLock(dir)
	if !ok || lock == "" {
		return Detected{}, false
	}
	d := Detected{Name: first(`"name"\s*:\s*"([^"]+)"`, pkg), TestParams: map[string]string{}}
	if d.Name == "" {
		d.Name, d.NameFromDir = filepath.Base(dir), true
	}
	d.Facts = append(d.Facts, "package "+d.Name, "package manager bun ("+lock+"): bun-test runs bun install --frozen-lockfile in the bun image")
	// Bun's version: .bun-version (setup-bun reads it), else packageManager.
	for _, src := range []struct{ text, where string }{{readOr(dir, ".bun-version"), ".bun-version"}, {first(`"packageManager"\s*:\s*"bun@([^"]+)"`, pkg), "packageManager in package.json"}} {
		if m := first(`^\s*v?(\d+\.\d+)`, src.text); m != "" {
			d.Version = m
			d.Facts = append(d.Facts, "bun "+strings.TrimSpace(src.text)+" ("+src.where+"): build.version "+m)
			break
		}
	}
	if !regexp.MustCompile(`"lint"\s*:`).MatchString(pkg) {
		d.LintDisabled = true
		d.Facts = append(d.Facts, "no lint script in package.json: lint disabled")
	} else {
		d.Facts = append(d.Facts, "lint script: bun run lint")
	}
	if regexp.MustCompile(`"test"\s*:`).MatchString(pkg) {
		// The project's own test script says which runner it uses.
		d.TestParams["script"] = "test"
		d.Facts = append(d.Facts, "test script: bun run test")
	} else {
		d.Facts = append(d.Facts, "no test script: bun test (Bun's test runner)")
	}
	return d, true
}

func readOr(dir, name string) string {
	s, _ := read(dir, name)
	return s
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
	if v, ok := read(dir, ".python-version"); ok {
		if m := first(`^\s*(\d+\.\d+)`, v); m != "" {
			d.Version = m
			d.Facts = append(d.Facts, "python "+strings.TrimSpace(v)+" (.python-version): build.version "+m)
		}
	}
	if req := first(`(?m)^requires-python\s*=\s*["']([^"']+)["']`, py); req != "" && d.Version == "" {
		if m := first(`(\d+\.\d+)`, req); m != "" {
			d.Version = rangeVersion(&d, "requires-python "+req+" (pyproject.toml)", req, m, catalog.ImageVersion(*images.Python), 2)
		}
	}
	for _, l := range []struct{ file, tool string }{{"uv.lock", "uv"}, {"poetry.lock", "poetry"}, {"pdm.lock", "pdm"}, {"Pipfile.lock", "pipenv"}} {
		if exists(dir, l.file) {
			d.Facts = append(d.Facts, l.tool+" ("+l.file+"): python-test installs the project with pip through its build backend; the lock's exact versions are not used")
			break
		}
	}
	return d, true
}

func detectJava(dir string) (Detected, bool) {
	if pom, ok := read(dir, "pom.xml"); ok {
		// The project's own artifactId follows its parent block, if any.
		pom = regexp.MustCompile(`(?s)<parent>.*?</parent>`).ReplaceAllString(pom, "")
		d := Detected{Name: first(`<artifactId>([^<]+)</artifactId>`, pom), Facts: []string{"Maven project (pom.xml)"}}
		if exists(dir, "gradlew") {
			d.Facts = append(d.Facts, "also ./gradlew: java-test runs ./gradlew first, then ./mvnw, then the image's mvn")
		} else if exists(dir, "mvnw") {
			d.Facts = append(d.Facts, "Maven wrapper ./mvnw")
		}
		for _, re := range []string{`<maven\.compiler\.release>(\d+)<`, `<java\.version>(?:1\.)?(\d+)<`, `<release>(\d+)</release>`, `<maven\.compiler\.target>(?:1\.)?(\d+)<`} {
			if v := first(re, pom); v != "" {
				d.Version = v
				d.Facts = append(d.Facts, "Java "+v+" (pom.xml): build.version "+v)
				break
			}
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
			build, _ := read(dir, g)
			for _, re := range []string{`JavaLanguageVersion\.of\((\d+)\)`, `JavaVersion\.VERSION_(?:1_)?(\d+)`, `(?:source|target)Compatibility\s*=\s*['"]?(?:1\.)?(\d+)`, `jvmToolchain\((\d+)\)`} {
				if v := first(re, build); v != "" {
					d.Version = v
					d.Facts = append(d.Facts, "Java "+v+" ("+g+"): build.version "+v)
					break
				}
			}
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

// Service is a folder of a monorepo with a project of its own.
type Service struct {
	Dir string // slash path relative to the repository root
	// ImageContext is the folder its image must build from when that is
	// not Dir: "." when its Dockerfile copies files from the root.
	ImageContext string
	Detected
}

var copyLine = regexp.MustCompile(`(?im)^[ \t]*(?:COPY|ADD)[ \t]+(.*)$`)

// rootSource is the first file the Dockerfile in root/rel copies that is
// not in its folder but is at the repository root (COPY go.mod go.sum ./
// in services/api/Dockerfile): such a Dockerfile builds only with the
// root as its context. Copies from a stage or a URL, and sources with
// build variables, are not files of the context.
func rootSource(root, rel string) (string, bool) {
	df, ok := read(filepath.Join(root, filepath.FromSlash(rel)), "Dockerfile")
	if !ok {
		return "", false
	}
	df = strings.ReplaceAll(df, "\\\n", " ")
	for _, m := range copyLine.FindAllStringSubmatch(df, -1) {
		args := strings.Fields(m[1])
		var srcs []string
		if j := strings.TrimSpace(m[1]); strings.HasPrefix(j, "[") {
			_ = json.Unmarshal([]byte(j), &srcs)
			args = srcs
		}
		var files []string
		stage := false
		for _, a := range args {
			if strings.HasPrefix(a, "--") {
				stage = stage || strings.HasPrefix(a, "--from")
				continue
			}
			files = append(files, a)
		}
		if stage || len(files) < 2 {
			continue
		}
		for _, src := range files[:len(files)-1] {
			if strings.ContainsAny(src, "$") || strings.Contains(src, "://") {
				continue
			}
			src = path.Clean(strings.TrimPrefix(src, "/"))
			if src == "." || src == ".." || strings.HasPrefix(src, "../") {
				continue
			}
			here, _ := filepath.Glob(filepath.Join(root, filepath.FromSlash(rel), filepath.FromSlash(src)))
			there, _ := filepath.Glob(filepath.Join(root, filepath.FromSlash(src)))
			if len(here) == 0 && len(there) > 0 {
				return src, true
			}
		}
	}
	return "", false
}

// skipDirs are folders that hold no services of the repository's own.
var skipDirs = map[string]bool{"node_modules": true, "vendor": true, "testdata": true, "docs": true, "examples": true, "third_party": true, "dist": true, "build": true, "target": true}

// DetectServices finds the folders, up to three levels below dir (apps/web,
// services/api, src/cart/src), that hold a project of their own: a manifest or a
// Dockerfile. A folder inside a found service is part of it.
func DetectServices(dir string) []Service {
	var out []Service
	var walk func(rel string, depth int)
	walk = func(rel string, depth int) {
		entries, err := os.ReadDir(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			return
		}
		for _, e := range entries {
			name := e.Name()
			if !e.IsDir() || strings.HasPrefix(name, ".") || skipDirs[name] {
				continue
			}
			sub := name
			if rel != "" {
				sub = rel + "/" + name
			}
			if d, err := Detect(filepath.Join(dir, filepath.FromSlash(sub))); err == nil {
				svc := Service{Dir: sub, Detected: d}
				if src, ok := rootSource(dir, sub); ok {
					svc.ImageContext = "."
					d.Facts = append(d.Facts, "its Dockerfile copies "+src+" from the repository root: the image builds with the root as context (imageContext: .), lint and tests run in "+sub)
					if d.Pack == "docker" {
						// A folder of the root's project (go.mod at the
						// root): its pack is the root's.
						if r, err := Detect(dir); err == nil && r.Pack != "docker" {
							d.Facts = append(d.Facts[1:], "part of the repository's "+r.Pack+" project ("+r.Name+"): "+r.Pack+" pack")
							d.Pack, d.Version, d.LintDisabled, d.TestDisabled, d.TestParams = r.Pack, r.Version, r.LintDisabled, r.TestDisabled, r.TestParams
						}
					}
					svc.Detected = d
				}
				out = append(out, svc)
				continue
			}
			if depth < 3 {
				walk(sub, depth+1)
			}
		}
	}
	walk("", 1)
	return out
}
