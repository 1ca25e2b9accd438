package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/pipewright/pipewright/generator/suggest"
	"github.com/pipewright/pipewright/pkg/boundedio"
	yaml "go.yaml.in/yaml/v3"
)

// Error is one problem in a config file, at a position, with a hint.
type Error struct {
	File      string
	Line, Col int
	Path      string // field path, e.g. build.test.params.race
	Msg       string
	Hint      string
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d:%d: ", e.File, e.Line, e.Col)
	if e.Path != "" {
		fmt.Fprintf(&b, "%s: ", boundedio.Short(e.Path))
	}
	b.WriteString(e.Msg)
	if e.Hint != "" {
		b.WriteString(" (hint: " + e.Hint + ")")
	}
	return b.String()
}

// Errors is every problem found in one file, in file order.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

type pos struct{ line, col int }

// Loaded is a parsed config with the positions of its fields, so later
// stages (build packs, the generator) can report errors at the right place.
type Loaded struct {
	*Config
	File string
	pos  map[string]pos
	raw  []byte // the file as JSON, before defaults
	// base is raw without its services, and services those as written:
	// what each Service starts from (decoding all of raw per service is
	// quadratic in their number).
	base     []byte
	services []Service
}

// Errorf makes an Error at a field path (or its nearest parent present in
// the file).
func (l *Loaded) Errorf(path, hint, format string, args ...any) *Error {
	p := path
	for {
		if at, ok := l.pos[p]; ok {
			return &Error{File: l.File, Line: at.line, Col: at.col, Path: path, Msg: fmt.Sprintf(format, boundedio.ShortArgs(args)...), Hint: hint}
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			at := l.pos[""]
			return &Error{File: l.File, Line: max(at.line, 1), Col: max(at.col, 1), Path: path, Msg: fmt.Sprintf(format, boundedio.ShortArgs(args)...), Hint: hint}
		}
		p = p[:i]
	}
}

// MaxFileBytes is the largest config Load reads; a monorepo's config with
// hundreds of services is far below it.
const MaxFileBytes = 4 << 20

// Load reads and validates a config file.
func Load(file string) (*Loaded, error) {
	data, err := boundedio.ReadFile(file, MaxFileBytes)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(file, data)
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// Parse reads a config from data; file names it in errors. The result is
// defaulted and validated; all problems come back together as Errors.
func Parse(file string, data []byte) (*Loaded, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line, msg := 1, err.Error()
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
		}
		return nil, Errors{{File: file, Line: line, Col: 1, Msg: "not valid YAML: " + msg, Hint: "check indentation and quoting"}}
	}
	if len(doc.Content) == 0 {
		return nil, Errors{{File: file, Line: 1, Col: 1, Msg: "the file is empty", Hint: "run `pipewright init` to write one"}}
	}
	if line, ok := secondDocument(data); ok {
		return nil, Errors{{File: file, Line: line, Col: 1, Msg: "a second YAML document: pipewright.yaml holds one config", Hint: "remove the `---` and what follows, or move it to a file of its own"}}
	}
	l := &Loaded{File: file, pos: map[string]pos{}}
	w := walker{l: l}
	root := doc.Content[0]
	l.pos[""] = pos{root.Line, root.Column}
	w.walk(root, reflect.TypeOf(Config{}), "")
	if len(w.errs) > 0 {
		return nil, sortErrors(w.errs)
	}
	var generic any
	if err := root.Decode(&generic); err != nil {
		return nil, Errors{{File: file, Line: 1, Col: 1, Msg: err.Error()}}
	}
	j, err := json.Marshal(generic)
	if err != nil {
		return nil, Errors{{File: file, Line: 1, Col: 1, Msg: err.Error()}}
	}
	var c Config
	if err := json.Unmarshal(j, &c); err != nil {
		return nil, Errors{{File: file, Line: 1, Col: 1, Msg: err.Error()}}
	}
	l.Config = &c
	if errs := l.validate(); len(errs) > 0 {
		return nil, sortErrors(errs)
	}
	l.raw, l.base = j, j
	if m, ok := generic.(map[string]any); ok && len(c.Services) > 0 {
		l.services = append([]Service(nil), c.Services...) // before defaults
		delete(m, "services")
		if l.base, err = json.Marshal(m); err != nil {
			return nil, Errors{{File: file, Line: 1, Col: 1, Msg: err.Error()}}
		}
	}
	l.Config.applyDefaults()
	return l, nil
}

// Service is the config of a monorepo's i-th service: this file's fields as
// written, with the service's in place, then defaulted (names derived from
// app.name follow the service's name). Errors point into this file.
func (l *Loaded) Service(i int) *Loaded {
	var c Config
	_ = json.Unmarshal(l.base, &c) // the bytes Parse decoded already
	sv := l.services[i]
	c.App.Name = sv.Name
	if sv.Pack != "" && sv.Pack != c.Build.Pack {
		// Another pack's Tasks: the file's version and tweaks are not its.
		c.Build.Pack, c.Build.Version, c.Build.Commands = sv.Pack, "", ""
		c.Build.Lint, c.Build.Test = TaskTweak{}, TaskTweak{}
	}
	if sv.Lint != nil {
		c.Build.Lint = *sv.Lint
	}
	if sv.Test != nil {
		c.Build.Test = *sv.Test
	}
	if sv.Version != "" {
		c.Build.Version = sv.Version
	}
	c.Build.Context = sv.Context
	if sv.Image != "" {
		c.Image.Repository = sv.Image
	} else {
		c.Image.Repository = strings.TrimSuffix(c.Image.Repository, "/") + "/" + sv.Name
	}
	if sv.ImageContext != "" {
		c.Image.Context = sv.ImageContext
	}
	c.Image.Dockerfile = sv.Dockerfile
	if sv.Manifests != "" {
		c.Deploy.Manifests = sv.Manifests
	}
	own := strings.TrimSuffix(sv.Context, "/") + "/**"
	if path.Clean(sv.Context) == "." {
		own = "**"
	}
	c.Paths = append(append([]string{own}, c.Paths...), sv.Paths...)
	c.applyDefaults()
	return &Loaded{Config: &c, File: l.File, pos: l.pos, raw: l.raw}
}

// secondDocument reports the line of a non-empty YAML document after the
// first (yaml.Unmarshal silently drops it).
func secondDocument(data []byte) (int, bool) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var first yaml.Node
	if dec.Decode(&first) != nil {
		return 0, false
	}
	for {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			if errors.Is(err, io.EOF) {
				return 0, false
			}
			m := yamlLine.FindStringSubmatch(err.Error())
			if m == nil {
				return 1, true
			}
			line, _ := strconv.Atoi(m[1])
			return line, true
		}
		if len(n.Content) > 0 && !(n.Content[0].Kind == yaml.ScalarNode && n.Content[0].Tag == "!!null") {
			return n.Content[0].Line, true
		}
	}
}

func sortErrors(es Errors) Errors {
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].Line != es[j].Line {
			return es[i].Line < es[j].Line
		}
		return es[i].Col < es[j].Col
	})
	return es
}

// walker checks the YAML tree against the Go types: unknown keys (with a
// did-you-mean), wrong kinds and wrong scalar types, recording positions.
type walker struct {
	l    *Loaded
	errs Errors
}

func (w *walker) fail(n *yaml.Node, path, hint, format string, args ...any) {
	w.errs = append(w.errs, &Error{File: w.l.File, Line: n.Line, Col: n.Column, Path: path, Msg: fmt.Sprintf(format, boundedio.ShortArgs(args)...), Hint: hint})
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// shown is message text already made from input with its values cut
// (boundedio.Short): ShortArgs leaves it whole.
type shown string

func kindName(n *yaml.Node) shown {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	switch n.Tag {
	case "!!str":
		return shown(fmt.Sprintf("the string %q", boundedio.Short(n.Value)))
	case "!!null":
		return "null"
	}
	return shown(fmt.Sprintf("%s %s", strings.TrimPrefix(n.Tag, "!!"), boundedio.Short(n.Value)))
}

func (w *walker) walk(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	w.l.pos[path] = pos{n.Line, n.Column}
	switch t.Kind() {
	case reflect.Pointer: // an optional struct: checked as the struct
		w.walk(n, t.Elem(), path)
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			w.fail(n, path, "write the fields indented under the key", "want a mapping of fields, got %s", kindName(n))
			return
		}
		fields := map[string]reflect.StructField{}
		var names []string
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name := strings.Split(f.Tag.Get("json"), ",")[0]
			fields[name] = f
			names = append(names, name)
		}
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			kp := join(path, k.Value)
			if seen[k.Value] {
				w.fail(k, kp, "remove one of them", "key %q appears twice", k.Value)
				continue
			}
			seen[k.Value] = true
			f, ok := fields[k.Value]
			if !ok {
				w.fail(k, kp, DidYouMean(k.Value, names), "unknown field %q", k.Value)
				continue
			}
			w.l.pos[kp] = pos{k.Line, k.Column}
			w.walk(v, f.Type, kp)
			w.l.pos[kp] = pos{k.Line, k.Column}
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			w.fail(n, path, "write key: value pairs indented under the key", "want a mapping, got %s", kindName(n))
			return
		}
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			kp := join(path, k.Value)
			if seen[k.Value] {
				w.fail(k, kp, "remove one of them", "key %q appears twice", k.Value)
				continue
			}
			seen[k.Value] = true
			w.walk(v, t.Elem(), kp)
			w.l.pos[kp] = pos{k.Line, k.Column}
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			w.fail(n, path, "write a list, one `- item` per line or [a, b]", "want a list, got %s", kindName(n))
			return
		}
		for i, e := range n.Content {
			w.walk(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
			w.fail(n, path, "write a single value", "want a string, got %s", kindName(n))
		} else if n.Tag != "!!str" {
			// YAML reads 1.25, 8080 or true as numbers and booleans; say
			// so here rather than let decoding fail without a place.
			w.fail(n, path, fmt.Sprintf("quote it: %q", n.Value), "want a string, got %s", kindName(n))
		}
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			w.fail(n, path, "write true or false", "want true or false, got %s", kindName(n))
		}
	case reflect.Int:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
			w.fail(n, path, "write a whole number without quotes", "want a whole number, got %s", kindName(n))
		}
	case reflect.Float64:
		if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
			w.fail(n, path, "write a number without quotes", "want a number, got %s", kindName(n))
		}
	}
}

// DidYouMean suggests the closest known name, or lists them all; a hint for
// any "unknown X" error.
func DidYouMean(got string, names []string) string {
	if best := suggest.Closest(got, names); best != "" {
		return fmt.Sprintf("did you mean %q?", best)
	}
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	return "known fields: " + strings.Join(sorted, ", ")
}

// ErrorsOf returns the config Errors inside err, if any.
func ErrorsOf(err error) Errors {
	var es Errors
	if errors.As(err, &es) {
		return es
	}
	var e *Error
	if errors.As(err, &e) {
		return Errors{e}
	}
	return nil
}
