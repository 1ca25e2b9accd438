package glob_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/pipewright/pipewright/pkg/glob"
)

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		glob  string
		match []string
		miss  []string
	}{
		{"services/api/**", []string{"services/api/main.go", "services/api/a/b/c.go"}, []string{"services/api", "services/apix/main.go", "services/web/api/x"}},
		{"services/api/", []string{"services/api/x.go", "services/api/a/b"}, []string{"services/x.go", "services/api"}},
		{"*.go", []string{"main.go", ".go"}, []string{"cmd/main.go", "main.gox"}},
		{"**/*.go", []string{"main.go", "cmd/x/main.go"}, []string{"README.md", "cmd/main.gox"}},
		{"**", []string{"a", "a/b/c"}, nil},
		// ** is whole folders: docs/xREADME.md is not under docs/ in any folder.
		{"docs/**/README.md", []string{"docs/README.md", "docs/a/README.md", "docs/a/b/README.md"}, []string{"docs/xREADME.md", "docs/a/xREADME.md", "docsREADME.md"}},
		{"docs/?.md", []string{"docs/a.md", "docs/é.md"}, []string{"docs/ab.md", "docs/a/b.md", "docs/.md"}},
		{"go.mod", []string{"go.mod"}, []string{"goxmod", "x/go.mod"}},
		// Non-ASCII paths match as GitHub lists them.
		{"services/café/**", []string{"services/café/main.go"}, []string{"services/cafe/main.go"}},
		{"文档/*.md", []string{"文档/说明.md"}, []string{"文档/a/b.md"}},
		// Character classes.
		{"svc/[xy]/*", []string{"svc/x/a", "svc/y/b"}, []string{"svc/z/a", "svc/xy/a", "svc/[xy]/a"}},
		{"svc/[a-c]*.go", []string{"svc/b.go", "svc/apple.go"}, []string{"svc/d.go"}},
		{"svc/[!x]/*", []string{"svc/y/a"}, []string{"svc/x/a", "svc//a"}},
		{"svc/[^x]", []string{"svc/y"}, []string{"svc/x"}},
		{`a[\]-]b`, []string{"a]b", "a-b"}, []string{"axb"}},
		{`file\*.txt`, []string{"file*.txt"}, []string{"filex.txt"}},
		{"a+b (1).txt", []string{"a+b (1).txt"}, []string{"aab (1).txt"}},
	} {
		p, err := glob.Compile(c.glob)
		if err != nil {
			t.Errorf("Compile(%q): %v", c.glob, err)
			continue
		}
		// The same expression in Go's regexp and CEL's (RE2 both).
		re := regexp.MustCompile(p.Regexp())
		for _, m := range c.match {
			if !p.Match(m) || !re.MatchString(m) {
				t.Errorf("%s (%s) does not match %s", c.glob, p.Regexp(), m)
			}
		}
		for _, m := range c.miss {
			if p.Match(m) {
				t.Errorf("%s (%s) matches %s", c.glob, p.Regexp(), m)
			}
		}
	}
}

// Everything Compile refuses is refused with a reason and a hint; nothing it
// accepts is a pattern that can never match.
func TestRefused(t *testing.T) {
	for _, c := range []struct{ glob, msg string }{
		{"", "empty"},
		{"/services/api/**", "starts with /"},
		{"./services/**", "starts with ./"},
		{"a//b", "empty path segment"},
		{"a/../b", ".. segment"},
		{"a**/b", "** inside a segment"},
		{"svc/[xy", "unclosed ["},
		{"svc/[a/b]", "cannot hold /"},
		{"svc/[+-0]", "cannot hold /"},
		{`svc\`, `lone \`},
		{"bad\xffutf8", "UTF-8"},
	} {
		_, err := glob.Compile(c.glob)
		var ge *glob.Error
		if !errors.As(err, &ge) || !strings.Contains(ge.Msg, c.msg) || ge.Hint == "" {
			t.Errorf("Compile(%q) = %v, want a glob.Error containing %q with a hint", c.glob, err, c.msg)
		}
	}
}
