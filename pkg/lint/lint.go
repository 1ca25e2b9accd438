// Package lint checks Tekton YAML (Tasks, Pipelines, runs, Triggers) for
// security problems and wiring mistakes, with the YAML line of every finding.
// Objects are decoded into Tekton's own types through pkg/tekton, which
// also supplies Tekton's Validate and the pipeline-to-Task wiring check.
package lint

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/pipewright/pipewright/pkg/boundedio"
	"github.com/pipewright/pipewright/pkg/tekton"
)

// Finding is one problem at one place.
type Finding struct {
	File     string   `json:"file"`
	Line     int      `json:"line"`
	Column   int      `json:"column"`
	Rule     string   `json:"rule"`
	Severity Severity `json:"-"`
	Message  string   `json:"message"`
}

func (f Finding) String() string {
	return fmt.Sprintf("%s:%d:%d: %s %s: %s", f.File, f.Line, f.Column, f.Severity, f.Rule, f.Message)
}

// Input is one file to lint.
type Input struct {
	Path string
	Data []byte
}

// MaxFileBytes is the largest input file (or stdin) lint reads; a FIFO,
// a device or anything else that is not a regular file is refused.
const MaxFileBytes = 32 << 20

// Collect reads the files named by paths: files as given, folders
// recursively (their *.yaml and *.yml files that mention tekton.dev,
// including Pipelines-as-Code .tekton/ folders), and "-" for stdin.
func Collect(paths []string, stdin io.Reader) ([]Input, error) {
	var out []Input
	for _, p := range paths {
		if p == "-" {
			b, err := boundedio.ReadAll(stdin, "stdin", MaxFileBytes)
			if err != nil {
				return nil, fmt.Errorf("reading %w", err)
			}
			out = append(out, Input{Path: "-", Data: b})
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			b, err := boundedio.ReadFile(p, MaxFileBytes)
			if err != nil {
				return nil, err
			}
			out = append(out, Input{Path: p, Data: b})
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := d.Name()
			if d.IsDir() {
				// Hidden folders are skipped, except where CI definitions live.
				if path != p && strings.HasPrefix(name, ".") && name != ".tekton" && name != ".lighthouse" {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(name, ".yaml") && !strings.HasSuffix(name, ".yml") {
				return nil
			}
			b, err := boundedio.ReadFile(path, MaxFileBytes)
			if err != nil {
				return err
			}
			// Helm charts and other YAML in a tree are not ours to judge.
			if !strings.Contains(string(b), "tekton.dev") {
				return nil
			}
			out = append(out, Input{Path: path, Data: b})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Run collects paths and lints them.
func Run(paths []string, stdin io.Reader, cfg *Config) ([]Finding, error) {
	in, err := Collect(paths, stdin)
	if err != nil {
		return nil, err
	}
	return Lint(in, cfg), nil
}

// unit is one decoded document.
type unit struct {
	file string
	doc  *document
	obj  tekton.Object
	// pr says why this run is triggered by pull requests ("" if not).
	pr string
}

// fileResult is what linting one file alone produces.
type fileResult struct {
	units    []*unit
	findings []Finding
	ignores  *ignores
}

// Lint lints the inputs together: rules that look across objects (wiring,
// triggers, pull-request runs) see every object in every input.
func Lint(in []Input, cfg *Config) []Finding {
	if cfg == nil {
		cfg = &Config{}
	}
	results := make([]fileResult, len(in))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = lintFile(in[i])
			}
		}()
	}
	for i := range in {
		next <- i
	}
	close(next)
	wg.Wait()

	var units []*unit
	var findings []Finding
	ign := map[string]*ignores{}
	for _, r := range results {
		units = append(units, r.units...)
		findings = append(findings, r.findings...)
	}
	for i, r := range results {
		ign[in[i].Path] = r.ignores
	}
	findings = append(findings, crossObject(units)...)

	var out []Finding
	for _, f := range findings {
		if ig := ign[f.File]; ig != nil && ig.suppresses(f) {
			continue
		}
		if cfg.suppresses(f) {
			continue
		}
		out = append(out, f)
	}
	for i := range in {
		if ig := ign[in[i].Path]; ig != nil {
			for _, f := range ig.problems {
				if !cfg.suppresses(f) {
					out = append(out, f)
				}
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		return a.Message < b.Message
	})
	return out
}

// lintFile decodes one file and runs the rules that need only its objects.
func lintFile(in Input) fileResult {
	r := fileResult{ignores: parseIgnores(in.Path, in.Data)}
	for _, d := range splitDocuments(in.Data) {
		d := d
		u := &unit{file: in.Path, doc: &d}
		rep := reporter{u: u, out: &r.findings}
		o, err := decodeDoc(in.Path, &d)
		if err != nil {
			if perr := d.parse(); perr != nil {
				rep.add("decode", syntaxPos(&d, perr), "%v", perr)
				continue
			}
			rep.add("decode", decodePos(&d, err), "%s", trimFile(err.Error(), in.Path))
			continue
		}
		u.obj = o
		if o.Obj == nil {
			continue
		}
		u.pr = pacTrigger(in.Path, o)
		r.units = append(r.units, u)
		objectRules(rep)
		validate(rep)
	}
	return r
}

// reporter adds findings for one unit.
type reporter struct {
	u   *unit
	out *[]Finding
}

func (r reporter) add(rule string, p pos, format string, args ...any) {
	ru := rulesByID[rule]
	*r.out = append(*r.out, Finding{
		File: r.u.file, Line: p.line, Column: p.col,
		Rule: rule, Severity: ru.Severity,
		Message: fmt.Sprintf(format, args...),
	})
}

func trimFile(msg, file string) string {
	return strings.TrimPrefix(msg, file+": ")
}
