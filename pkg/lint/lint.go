// Package lint checks Tekton YAML (Tasks, Pipelines, runs, Triggers) for
// security problems and wiring mistakes, with the YAML line of every finding.
// Objects are decoded into Tekton's own types through pkg/tekton, which
// also supplies Tekton's Validate and the pipeline-to-Task wiring check.
package lint

import (
	"bytes"
	"errors"
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
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
)

// Finding is one problem at one place.
type Finding struct {
	File     string   `json:"file"`
	Line     int      `json:"line"`
	Column   int      `json:"column"`
	Rule     string   `json:"rule"`
	Severity Severity `json:"-"`
	Message  string   `json:"message"`
	// context is the text of the finding's line, trimmed: what SARIF's
	// fingerprint hashes instead of the line number.
	context string
}

func (f Finding) String() string {
	return fmt.Sprintf("%s:%d:%d: %s %s: %s", f.File, f.Line, f.Column, f.Severity, f.Rule, f.Message)
}

// Input is one file to lint.
type Input struct {
	Path string
	Data []byte
	// Skip says why the file is not linted (unreadable, a kustomize
	// patch); the summary counts it.
	Skip string
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
				// One unreadable entry (a dangling symlink, no permission)
				// is counted in the summary, not fatal to the whole run.
				if path == p {
					return err
				}
				out = append(out, Input{Path: path, Skip: "unreadable"})
				if d != nil && d.IsDir() {
					return filepath.SkipDir
				}
				return nil
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
			switch {
			case errors.Is(err, boundedio.ErrNotRegular), errors.Is(err, boundedio.ErrTooLarge):
				// Refused, not skipped: a FIFO or a device would block or
				// fill memory, and a file skipped for its size would let
				// padding hide a pipeline from the review.
				return err
			case err != nil:
				out = append(out, Input{Path: path, Skip: "unreadable"})
				return nil
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
	markPatches(out)
	return out, nil
}

// Run collects paths and lints them.
func Run(paths []string, stdin io.Reader, cfg *Config) ([]Finding, error) {
	rep, err := RunReport(paths, stdin, cfg)
	return rep.Findings, err
}

// RunReport is Run with the summary of what was read and skipped.
func RunReport(paths []string, stdin io.Reader, cfg *Config) (Report, error) {
	in, err := Collect(paths, stdin)
	if err != nil {
		return Report{}, err
	}
	return lintReport(in, cfg, true), nil
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
	objects  map[string]int // by kind
	skipped  map[string]int // documents, by reason
}

// Lint lints the inputs together: rules that look across objects (wiring,
// triggers, pull-request runs) see every object in every input.
func Lint(in []Input, cfg *Config) []Finding {
	return LintReport(in, cfg).Findings
}

// LintReport is Lint with the summary.
func LintReport(in []Input, cfg *Config) Report { return lintReport(in, cfg, false) }

// lintReport lints in; with owned, in is the caller's own copy and each
// file's bytes are let go once it is linted (what the cross-object rules
// keep of it stays reachable through their units).
func lintReport(in []Input, cfg *Config, owned bool) Report {
	if cfg == nil {
		cfg = &Config{}
	}
	env := newEnv(cfg)
	if cfg.MemoryBudget > 0 {
		defer memoryBudget(in, cfg.MemoryBudget)()
	}
	results := make([]fileResult, len(in))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = lintFile(in[i], env)
				if owned {
					in[i].Data = nil
				}
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
	sum := newSummary()
	for i, r := range results {
		units = append(units, r.units...)
		findings = append(findings, r.findings...)
		sum.add(in[i], r)
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
	return Report{Findings: out, Summary: sum}
}

// lintFile decodes one file and runs the rules that need only its objects.
func lintFile(in Input, env *env) fileResult {
	r := fileResult{ignores: &ignores{}, objects: map[string]int{}, skipped: map[string]int{}}
	if in.Skip != "" {
		return r
	}
	docs := splitDocuments(in.Data)
	r.ignores = parseIgnores(in.Path, in.Data, docs)
	for i := range docs {
		lintDoc(in.Path, &docs[i], env, &r)
	}
	return r
}

// lintDoc decodes one document, strictly for Tekton's validation and, when
// that fails, leniently for the other rules, and runs them.
func lintDoc(file string, d *document, env *env, r *fileResult) {
	u := &unit{file: file, doc: d}
	rep := reporter{u: u, out: &r.findings}
	skip := func(reason, format string, args ...any) {
		r.skipped[reason]++
		rep.add("skipped", pos{d.firstLine, 1}, format, args...)
	}
	text := d.text
	if goTemplate.Match(text) && (d.parse() != nil || goTemplated(d, d.tree)) {
		skip("templated YAML", "document is a Go/Helm template; lint the rendered YAML instead")
		return
	}
	// One YAML parse for the node tree (positions, the node rules and the
	// head), one strict decode into the Tekton type.
	if perr := d.parse(); perr != nil {
		if bytes.Contains(text, []byte("{{")) {
			skip("templated YAML", "document is templated YAML that does not parse until rendered: %v", perr)
			return
		}
		r.skipped["YAML syntax error"]++
		rep.add("decode", syntaxPos(d, perr), "%v", perr)
		return
	}
	h := headOf(d.tree)
	d.beta = h.APIVersion == "tekton.dev/v1beta1"
	if h.APIVersion == "" || h.Kind == "" {
		skip("not a Kubernetes object", "document has no apiVersion or kind (a kustomize patch or a fragment?), so it is not linted")
		return
	}
	key := h.APIVersion + "/" + h.Kind
	if msg, ok := removedKinds[key]; ok {
		rep.add("removed-kind", d.key("kind"), "%s", msg)
	}
	o := tekton.Object{File: file, Kind: h.Kind, Name: h.Metadata.Name}
	obj, validateAs, name, err := decodeMore(h, text, true)
	if isDuplicateKey(err) {
		if j, dups, nerr := normalize(d); nerr == nil {
			for _, k := range dups {
				rep.add("duplicate-key", k.at, "key %q is set twice in one mapping; Kubernetes keeps the last value and drops the first silently", k.key)
			}
			text = j
			obj, validateAs, name, err = decodeMore(h, text, true)
		}
	}
	var derr *tekton.DecodeError
	if err != nil {
		derr = &tekton.DecodeError{File: file, Doc: d.index, Line: d.firstLine, Kind: h.Kind, Name: h.Metadata.Name, Field: tekton.UnknownField(err), Err: err}
		err = derr
	} else if obj != nil {
		o.Obj, o.Name = obj, name
	}
	lenient := false
	if err != nil {
		obj, va, name, lerr := decodeMore(h, text, false)
		if (lerr != nil || obj == nil) && bytes.Contains(text, []byte("{{")) {
			// {{PLACEHOLDER}} where a value belongs: a template to fill in.
			skip("templated YAML", "document is templated YAML that does not decode until filled in: %s", trimFile(err.Error(), file))
			return
		}
		if lerr != nil || obj == nil {
			r.skipped["does not decode"]++
			rep.add("decode", decodePos(d, err), "%s", trimFile(err.Error(), file))
			return
		}
		rule := "decode"
		if derr.Field != "" {
			rule = "unknown-field"
		}
		rep.add(rule, decodePos(d, err), "%s (the other rules read the object leniently; Tekton's validation is skipped)", trimFile(err.Error(), file))
		o.Obj, o.Name = obj, name
		validateAs, lenient = va, true
	}
	o.Doc = d.index
	o.Kind = h.Kind
	u.obj = o
	r.objects[h.Kind]++
	documentRules(rep, h)
	if o.Obj == nil {
		return
	}
	u.pr = pacTrigger(file, o)
	objectRules(rep)
	moreObjectRules(rep)
	if !lenient {
		validate(rep, validateAs, env)
	}
	if slim(o.Obj) {
		if _, ok := o.Obj.(*v1.Task); ok {
			// The cross-object rules read a Task's spec and report on
			// the Pipelines and runs using it: its text can go.
			u.doc = &document{index: d.index, firstLine: d.firstLine}
		}
		r.units = append(r.units, u)
	}
	// The cross-object rules need the object, rarely the positions: drop
	// the node tree (about ten times the text) and parse again if needed.
	d.tree, d.parsed = nil, false
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
		context: r.u.doc.lineText(p.line),
	})
}

func trimFile(msg, file string) string {
	return strings.TrimPrefix(msg, file+": ")
}
