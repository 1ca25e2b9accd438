package lint

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/pipewright/pipewright/pkg/boundedio"
	"github.com/pipewright/pipewright/pkg/glob"
	"github.com/tektoncd/pipeline/pkg/apis/config"
	yaml3 "go.yaml.in/yaml/v3"
	"sigs.k8s.io/yaml"
)

// ignoreComment is "# pipewright:ignore rule[,rule...] reason".
var ignoreComment = regexp.MustCompile(`#\s*pipewright:ignore\b[ \t]*([^\s]*)[ \t]*(.*)$`)

// ignores are a file's inline suppressions. A comment on its own line covers
// the next line and everything indented under it (a whole step, say); a
// comment at the end of a line covers that line and what is indented under it.
type ignores struct {
	spans    []span
	problems []Finding
}

type span struct {
	from, to int // 1-based lines, inclusive
	rules    map[string]bool
}

func parseIgnores(file string, data []byte, docs []document) *ignores {
	ig := &ignores{}
	if !strings.Contains(string(data), "pipewright:ignore") {
		return ig
	}
	lines := strings.Split(string(data), "\n")
	inText := scalarLines(docs)
	for i, l := range lines {
		m := ignoreComment.FindStringSubmatchIndex(l)
		if m == nil || inText[i+1] || !yamlComment(l, m[0]) {
			continue
		}
		ids, reason := l[m[2]:m[3]], strings.TrimSpace(l[m[4]:m[5]])
		problem := func(format string, args ...any) {
			ig.problems = append(ig.problems, Finding{File: file, Line: i + 1, Column: m[0] + 1, Rule: "bad-ignore",
				Severity: rulesByID["bad-ignore"].Severity, Message: fmt.Sprintf(format, args...)})
		}
		rules := map[string]bool{}
		bad := false
		for _, id := range strings.Split(ids, ",") {
			if _, err := Lookup(id); err != nil {
				problem("pipewright:ignore: %v", err)
				bad = true
				continue
			}
			rules[strings.TrimPrefix(id, "pipewright/")] = true
		}
		if reason == "" {
			problem("pipewright:ignore %s gives no reason, so it suppresses nothing", ids)
			bad = true
		}
		if bad {
			continue
		}
		start := i
		if strings.HasPrefix(strings.TrimSpace(l), "#") {
			for start = i + 1; start < len(lines) && isBlankOrComment(lines[start]); start++ {
			}
		}
		if start >= len(lines) {
			continue
		}
		end := start
		ind := indent(lines[start])
		for j := start + 1; j < len(lines); j++ {
			if strings.TrimSpace(lines[j]) == "" {
				continue
			}
			if indent(lines[j]) <= ind {
				break
			}
			end = j
		}
		ig.spans = append(ig.spans, span{start + 1, end + 1, rules})
	}
	return ig
}

// scalarLines are the file lines inside multi-line scalars (scripts): a
// "#" there is the script's, not a YAML comment.
func scalarLines(docs []document) map[int]bool {
	out := map[int]bool{}
	for i := range docs {
		d := &docs[i]
		var walk func(n *yaml3.Node)
		walk = func(n *yaml3.Node) {
			if n.Kind == yaml3.ScalarNode {
				first := n.Line + d.firstLine - 1
				switch {
				case n.Style == yaml3.LiteralStyle || n.Style == yaml3.FoldedStyle:
					for l := first + 1; l <= d.blockEnd(first); l++ {
						out[l] = true
					}
				case strings.Contains(n.Value, "\n"):
					// A multi-line quoted or plain scalar.
					for l := first; l <= first+strings.Count(n.Value, "\n"); l++ {
						out[l] = true
					}
				}
			}
			for _, c := range n.Content {
				walk(c)
			}
		}
		if d.root() != nil {
			walk(d.root())
		}
	}
	return out
}

// yamlComment is true when the "#" at col of l starts a YAML comment: at
// the start of the line or after a space, and not inside quotes.
func yamlComment(l string, col int) bool {
	if col > 0 && l[col-1] != ' ' && l[col-1] != '\t' {
		return false
	}
	single, double := false, false
	for i := 0; i < col; i++ {
		switch l[i] {
		case '\'':
			if !double {
				single = !single
			}
		case '"':
			if !single && (i == 0 || l[i-1] != '\\') {
				double = !double
			}
		}
	}
	return !single && !double
}

func isBlankOrComment(l string) bool {
	t := strings.TrimSpace(l)
	return t == "" || strings.HasPrefix(t, "#")
}

// indent counts leading spaces. A list item's keys are indented past its
// "- ", so a comment above an item covers the whole item.
func indent(l string) int {
	return len(l) - len(strings.TrimLeft(l, " "))
}

func (ig *ignores) suppresses(f Finding) bool {
	for _, s := range ig.spans {
		if f.Line >= s.from && f.Line <= s.to && s.rules[f.Rule] {
			return true
		}
	}
	return false
}

// Config is the linter's configuration file (.pipewright-lint.yaml):
//
//	disable: [missing-resources]
//	ignore:
//	  - path: vendor/**
//	    rules: [unpinned-image]   # empty means every rule
//	    reason: third-party Tasks, pinned by the vendoring tool
type Config struct {
	Disable []string      `json:"disable,omitempty"`
	Ignore  []IgnoreEntry `json:"ignore,omitempty"`
	// FeatureFlags is the cluster's feature-flags ConfigMap data, so
	// validation accepts what the cluster accepts (CEL in when, ...).
	FeatureFlags map[string]string `json:"featureFlags,omitempty"`

	// MemoryBudget, when above 0, bounds the heap a run adds to this many
	// times the input's size with a soft memory limit (debug.SetMemoryLimit),
	// restored afterwards: the GC then works harder instead of letting
	// garbage pile up. The CLI sets 2.
	MemoryBudget float64 `json:"-"`

	dir   string // relative paths in Ignore are relative to the config file
	flags *config.FeatureFlags
}

// IgnoreEntry suppresses rules (all when empty) for files matching Path, a
// glob (pkg/glob) where ** matches any number of folders.
type IgnoreEntry struct {
	Path   string   `json:"path"`
	Rules  []string `json:"rules,omitempty"`
	Reason string   `json:"reason"`

	pat *glob.Pattern
	abs bool // Path is absolute: pat matches the absolute path without its leading /
}

// ConfigFile is the name LoadConfig looks for when given none.
const ConfigFile = ".pipewright-lint.yaml"

// LoadConfig reads a config file. With path "", it reads ConfigFile in the
// current folder if there is one.
func LoadConfig(path string) (*Config, error) {
	if path == "" {
		if _, err := os.Stat(ConfigFile); err != nil {
			return &Config{}, nil
		}
		path = ConfigFile
	}
	b, err := boundedio.ReadFile(path, MaxFileBytes)
	if err != nil {
		return nil, fmt.Errorf("lint config: %w", err)
	}
	var c Config
	if err := yaml.UnmarshalStrict(b, &c); err != nil {
		return nil, fmt.Errorf("lint config %s: %w", path, err)
	}
	c.dir = filepath.Dir(path)
	for _, id := range c.Disable {
		if _, err := Lookup(id); err != nil {
			return nil, fmt.Errorf("lint config %s: disable: %w", path, err)
		}
	}
	for i := range c.Ignore {
		e := &c.Ignore[i]
		if e.Path == "" {
			return nil, fmt.Errorf("lint config %s: ignore[%d]: path is required", path, i)
		}
		if strings.TrimSpace(e.Reason) == "" {
			return nil, fmt.Errorf("lint config %s: ignore[%d] (%s): reason is required, so the exception can be reviewed", path, i, e.Path)
		}
		for _, id := range e.Rules {
			if _, err := Lookup(id); err != nil {
				return nil, fmt.Errorf("lint config %s: ignore[%d]: %w", path, i, err)
			}
		}
		// An absolute pattern matches the file's absolute path; pkg/glob
		// takes repository-relative globs, so it compiles without the root.
		g := filepath.ToSlash(e.Path)
		e.abs = filepath.IsAbs(e.Path) || strings.HasPrefix(g, "/")
		if e.abs {
			g = strings.TrimPrefix(g, "/")
		}
		pat, err := glob.Compile(g)
		if err != nil {
			return nil, fmt.Errorf("lint config %s: ignore[%d]: %w", path, i, err)
		}
		e.pat = pat
	}
	if c.FeatureFlags != nil {
		if err := c.SetFeatureFlags(nil); err != nil {
			return nil, fmt.Errorf("lint config %s: %w", path, err)
		}
	}
	return &c, nil
}

func (c *Config) suppresses(f Finding) bool {
	for _, id := range c.Disable {
		if strings.TrimPrefix(id, "pipewright/") == f.Rule {
			return true
		}
	}
	if len(c.Ignore) == 0 {
		return false
	}
	p := f.File
	if rel, err := filepath.Rel(c.dir, p); err == nil && !strings.HasPrefix(rel, "..") {
		p = rel
	}
	p = filepath.ToSlash(filepath.Clean(p))
	abs, _ := filepath.Abs(f.File)
	abs = filepath.ToSlash(abs)
	for _, e := range c.Ignore {
		if e.abs {
			if !e.pat.Match(strings.TrimPrefix(abs, "/")) {
				continue
			}
		} else if !e.pat.Match(p) {
			continue
		}
		if len(e.Rules) == 0 {
			return true
		}
		for _, id := range e.Rules {
			if strings.TrimPrefix(id, "pipewright/") == f.Rule {
				return true
			}
		}
	}
	return false
}
