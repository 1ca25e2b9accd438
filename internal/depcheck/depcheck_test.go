// Package depcheck holds the test that keeps pipewright's import directions
// (in the spirit of go-containerregistry's internal/depcheck). Read bottom
// up, each layer imports only the layers listed for it:
//
//	pkg/tekton, pkg/images,  nothing of pipewright (the bottom)
//	  pkg/keys
//	pkg/...                  pkg/ (run-time libraries and the bottom)
//	generator/...            generator/, pkg/ (build time)
//	cmd/...                  cmd/, generator/, pkg/ (the thin CLI)
//	test/...                 anything but cmd/ (the e2e node and its tools)
//
// Test code (_test.go files and helper packages named *test, such as
// generatortest and githubtest) may also import test/ and generator/; nothing
// else imports test/.
package depcheck

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// allowed maps a package prefix to the prefixes its non-test code may
// import; the longest matching prefix decides. Packages outside the
// module are not restricted.
var allowed = map[string][]string{
	"pkg/tekton": nil,
	"pkg/images": nil,
	"pkg":        {"pkg"},
	"generator":  {"generator", "pkg"},
	"cmd":        {"cmd", "generator", "pkg"},
	"test":       {"test", "generator", "pkg"},
	"internal":   {"internal"},
	"examples":   nil,
	"":           nil, // the module root holds no package; anything new is reviewed here
}

// testAllowed is what test code may import besides its package's rules.
var testAllowed = []string{"test", "generator", "pkg"}

// edge is one import: from a file of package from, of package to (both
// relative to the module), in test code or not.
type edge struct {
	from, to, file string
	test           bool
}

func under(p, prefix string) bool {
	return prefix == "" || p == prefix || strings.HasPrefix(p, prefix+"/")
}

func rule(pkg string) (string, []string) {
	best := ""
	for prefix := range allowed {
		if under(pkg, prefix) && len(prefix) >= len(best) {
			best = prefix
		}
	}
	return best, allowed[best]
}

// violations lists the edges the table forbids, as "file: from imports to
// (from may import: ...)".
func violations(edges []edge) []string {
	var out []string
	for _, e := range edges {
		prefix, may := rule(e.from)
		if e.test {
			may = append(append([]string{}, may...), testAllowed...)
		}
		permitted := false
		for _, m := range may {
			if under(e.to, m) {
				permitted = true
			}
		}
		if !permitted {
			out = append(out, e.file+": "+e.from+" imports "+e.to+" ("+describe(prefix, may)+")")
		}
	}
	sort.Strings(out)
	return out
}

func describe(prefix string, may []string) string {
	if prefix == "" {
		prefix = "the module root"
	}
	if len(may) == 0 {
		return prefix + " may import nothing of pipewright"
	}
	return prefix + " may import " + strings.Join(may, "/, ") + "/"
}

// imports reads every Go file of the module (build tags ignored: e2e files
// count) and returns its imports of the module's own packages.
func imports(t *testing.T, root string) []edge {
	t.Helper()
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	var module string
	for _, l := range strings.Split(string(mod), "\n") {
		if m, ok := strings.CutPrefix(l, "module "); ok {
			module = strings.TrimSpace(m)
		}
	}
	if module == "" {
		t.Fatal("go.mod names no module")
	}
	var edges []edge
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != root && (name == "testdata" || name == "vendor" || name == "node_modules" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		from := filepath.ToSlash(filepath.Dir(rel))
		if from == "." {
			from = ""
		}
		test := strings.HasSuffix(name, "_test.go") || strings.HasSuffix(filepath.Base(from), "test")
		for _, s := range f.Imports {
			path, _ := strconv.Unquote(s.Path.Value)
			if to, ok := strings.CutPrefix(path, module+"/"); ok {
				edges = append(edges, edge{from: from, to: to, file: rel, test: test})
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return edges
}

func TestImportDirections(t *testing.T) {
	edges := imports(t, "../..")
	if len(edges) < 50 {
		t.Fatalf("found only %d imports of the module's packages: is the walk reading the repository?", len(edges))
	}
	for _, v := range violations(edges) {
		t.Error(v)
	}
}

// The checker itself catches each kind of wrong direction.
func TestViolationsAreFound(t *testing.T) {
	edges := []edge{
		{from: "pkg/lint", to: "generator/check", file: "pkg/lint/a.go"},
		{from: "pkg/tekton", to: "pkg/images", file: "pkg/tekton/a.go"},
		{from: "generator", to: "cmd/pipewright", file: "generator/a.go"},
		{from: "pkg/image", to: "test/refregistry", file: "pkg/image/a.go"},
		{from: "generator/catalog", to: "test/steprun", file: "generator/catalog/a_test.go", test: true},
		{from: "generator/generatortest", to: "test/refregistry", file: "generator/generatortest/a.go", test: true},
		{from: "pkg/simulate", to: "generator/generatortest", file: "pkg/simulate/a_test.go", test: true},
		{from: "cmd/pipewright", to: "generator", file: "cmd/pipewright/a.go"},
		{from: "pkg/bundle", to: "pkg/tekton", file: "pkg/bundle/a.go"},
	}
	want := []string{
		"generator/a.go: generator imports cmd/pipewright (generator may import generator/, pkg/)",
		"pkg/image/a.go: pkg/image imports test/refregistry (pkg may import pkg/)",
		"pkg/lint/a.go: pkg/lint imports generator/check (pkg may import pkg/)",
		"pkg/tekton/a.go: pkg/tekton imports pkg/images (pkg/tekton may import nothing of pipewright)",
	}
	if d := cmp.Diff(want, violations(edges)); d != "" {
		t.Errorf("violations (-want +got):\n%s", d)
	}
}
