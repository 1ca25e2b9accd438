package lint

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/pipewright/pipewright/pkg/glob"
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

func parseIgnores(file string, data []byte) *ignores {
	ig := &ignores{}
	lines := strings.Split(string(data), "\n")
	for i, l := range lines {
		m := ignoreComment.FindStringSubmatchIndex(l)
		if m == nil {
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

	dir string // paths in Ignore are relative to the config file
}

// IgnoreEntry suppresses rules (all when empty) for files matching Path, a
// glob (pkg/glob) where ** matches any number of folders.
type IgnoreEntry struct {
	Path   string   `json:"path"`
	Rules  []string `json:"rules,omitempty"`
	Reason string   `json:"reason"`

	pat *glob.Pattern
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
	b, err := os.ReadFile(path)
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
		pat, err := glob.Compile(e.Path)
		if err != nil {
			return nil, fmt.Errorf("lint config %s: ignore[%d]: %w", path, i, err)
		}
		e.pat = pat
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
	for _, e := range c.Ignore {
		if !e.pat.Match(p) {
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
