package tekton

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// keyOrder lists keys that come first, in this order, wherever they appear;
// all other keys follow alphabetically. It matches how people write Tekton
// YAML: identity first, then the body.
var keyOrder = []string{
	"apiVersion", "kind", "metadata",
	"name", "generateName", "namespace", "labels", "annotations",
	"description", "displayName", "type", "default", "optional",
	"image", "ref", "taskRef", "taskSpec", "pipelineRef", "runAfter",
	"params", "workspaces", "results", "tasks", "steps", "finally",
}

var keyRank = func() map[string]int {
	m := map[string]int{}
	for i, k := range keyOrder {
		m[k] = i
	}
	return m
}()

// keepEmpty names keys whose empty map is meaningful (an emptyDir volume).
var keepEmpty = map[string]bool{"emptyDir": true}

// keepEmptyString names keys whose empty string is meaningful (a param's
// default or value); elsewhere "" is Go's zero value, not something said.
var keepEmptyString = map[string]bool{"default": true, "value": true}

// Marshal renders obj as YAML: JSON field names, nulls, empty maps/lists and
// zero-value strings dropped (creationTimestamp: null, computeResources: {},
// serviceAccountName: ""), keys in a stable
// order, multi-line strings as literal blocks, LF line endings.
func Marshal(obj any) ([]byte, error) {
	j, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	v, _ = prune(v)
	var buf bytes.Buffer
	if !emit(&buf, v, 0, ctxTop) {
		return encodeV3(v)
	}
	// What the YAML says, as JSON, for Decode of these bytes (see
	// rendered): the pruned value, not the object.
	if pj, err := json.Marshal(v); err == nil {
		rendered.Store(sha256.Sum256(buf.Bytes()), pj)
	}
	return buf.Bytes(), nil
}

// rendered maps the sha256 of a document Marshal wrote to the JSON of what
// it wrote: Decode of those bytes starts from it instead of parsing the
// YAML back (most of decoding's cost). The emitter writes what yaml.v3
// writes (TestEmitIsYAMLv3), and yaml.v3's text reads back as the value it
// was written from; strict decoding into the Tekton type and validation
// still run on that value.
var rendered = &cache{max: 1 << 14}

// encodeV3 is yaml.v3's rendering of a pruned value: what emit writes
// faster, and what renders the shapes emit leaves to it.
func encodeV3(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(toNode(v)); err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	return buf.Bytes(), nil
}

// Where emit writes a value: the document itself, after "key:" or after
// "- ".
const (
	ctxTop = iota
	ctxValue
	ctxItem
)

// emit writes v as yaml.v3 does with indent 2 (the block styles, the
// sequence indented under its key), v's first line at column col; it
// reports false for what it leaves to yaml.v3 (a sequence in a
// sequence). Scalars are rendered by yaml.v3 itself, once per value and
// place (scalar).
func emit(b *bytes.Buffer, v any, col int, ctx int) bool {
	pad := func(n int) {
		for range n {
			b.WriteByte(' ')
		}
	}
	switch t := v.(type) {
	case map[string]any:
		if len(t) == 0 {
			if ctx == ctxValue {
				b.WriteByte(' ')
			}
			b.WriteString("{}\n")
			return true
		}
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return less(keys[i], keys[j]) })
		indent := col
		switch ctx {
		case ctxValue:
			b.WriteByte('\n')
			indent = col + 2
		}
		for i, k := range keys {
			if i > 0 || ctx == ctxValue {
				pad(indent)
			}
			ks, ok := scalar(str(k), ctxKey, 0)
			if !ok {
				return false
			}
			b.WriteString(ks)
			b.WriteByte(':')
			if !emit(b, t[k], indent, ctxValue) {
				return false
			}
		}
		return true
	case []any:
		if len(t) == 0 {
			if ctx == ctxValue {
				b.WriteByte(' ')
			}
			b.WriteString("[]\n")
			return true
		}
		if ctx == ctxItem {
			return false // "- - x": left to yaml.v3
		}
		indent := col
		if ctx == ctxValue {
			b.WriteByte('\n')
			indent = col + 2
		}
		for _, e := range t {
			pad(indent)
			b.WriteString("- ")
			if !emit(b, e, indent+2, ctxItem) {
				return false
			}
		}
		return true
	}
	n := toNode(v)
	where, shift := ctxValueScalar, col
	switch ctx {
	case ctxItem:
		where, shift = ctxItemScalar, col-2 // col is the item's, after "- "
	case ctxTop:
		return false
	}
	text, ok := scalar(n, where, shift)
	if !ok {
		return false
	}
	if ctx == ctxValue {
		b.WriteByte(' ')
	}
	b.WriteString(text)
	return true
}

// Places of a scalar, for scalar's cache.
const (
	ctxKey = iota
	ctxValueScalar
	ctxItemScalar
)

type scalarKey struct {
	tag, value string
	where      int
}

// scalars caches yaml.v3's rendering of a scalar at column 0 (its first
// line without what precedes it, the lines after it, with the newline).
var scalars = &cache{max: 1 << 16}

// scalar is how yaml.v3 writes scalar n as a mapping key, a mapping value
// or a sequence item whose key or dash is at column col: its rendering at
// column 0, later lines moved right by col. A key takes one line.
func scalar(n *yaml.Node, where, col int) (string, bool) {
	if n.Tag == "!!str" && plain(n.Value) {
		if where == ctxValueScalar || where == ctxItemScalar {
			return n.Value + "\n", true
		}
		return n.Value, true
	}
	k := scalarKey{n.Tag, n.Value, where}
	r, ok := scalars.Load(k)
	if !ok {
		r = renderScalar(n, where)
		scalars.Store(k, r)
	}
	text := r.(string)
	if text == "" {
		return "", false
	}
	if where == ctxKey {
		return text, true
	}
	first, rest, multi := strings.Cut(text, "\n")
	if !multi || rest == "" || col == 0 {
		return text, true
	}
	var b strings.Builder
	b.Grow(len(text) + col*strings.Count(rest, "\n"))
	b.WriteString(first)
	b.WriteByte('\n')
	for line := range strings.Lines(rest) {
		if line != "\n" {
			b.WriteString(strings.Repeat(" ", col))
		}
		b.WriteString(line)
	}
	return b.String(), true
}

// renderScalar asks yaml.v3 how it writes n in a one-entry mapping or
// sequence, and cuts the rest away; "" when the shape is not the expected
// one.
func renderScalar(n *yaml.Node, where int) string {
	var doc *yaml.Node
	switch where {
	case ctxKey:
		doc = &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{n, str("v")}}
	case ctxValueScalar:
		doc = &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{str("k"), n}}
	default:
		doc = &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{n}}
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if enc.Encode(doc) != nil || enc.Close() != nil {
		return ""
	}
	out := buf.String()
	switch where {
	case ctxKey:
		k, ok := strings.CutSuffix(out, ": v\n")
		if !ok || strings.Contains(k, "\n") {
			return ""
		}
		return k
	case ctxValueScalar:
		v, ok := strings.CutPrefix(out, "k: ")
		if !ok {
			return ""
		}
		return v
	default:
		v, ok := strings.CutPrefix(out, "- ")
		if !ok {
			return ""
		}
		return v
	}
}

// MarshalAll renders several objects as one multi-document YAML stream.
func MarshalAll(objs ...any) ([]byte, error) {
	var out bytes.Buffer
	for i, o := range objs {
		b, err := Marshal(o)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			out.WriteString("---\n")
		}
		out.Write(b)
	}
	return out.Bytes(), nil
}

// prune drops nulls and empty containers; it reports whether v is empty.
func prune(v any) (any, bool) {
	switch t := v.(type) {
	case nil:
		return nil, true
	case map[string]any:
		for k, val := range t {
			if keepEmpty[k] {
				if m, ok := val.(map[string]any); ok && len(m) == 0 {
					continue
				}
			}
			nv, empty := prune(val)
			if sv, ok := val.(string); ok && sv == "" && !keepEmptyString[k] {
				empty = true
			}
			if empty {
				delete(t, k)
			} else {
				t[k] = nv
			}
		}
		return t, len(t) == 0
	case []any:
		out := t[:0]
		for _, e := range t {
			if nv, empty := prune(e); !empty {
				out = append(out, nv)
			}
		}
		return out, len(out) == 0
	default:
		return v, false
	}
}

func toNode(v any) *yaml.Node {
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return less(keys[i], keys[j]) })
		n := &yaml.Node{Kind: yaml.MappingNode}
		for _, k := range keys {
			n.Content = append(n.Content, str(k), toNode(t[k]))
		}
		return n
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		for _, e := range t {
			n.Content = append(n.Content, toNode(e))
		}
		return n
	case string:
		return str(t)
	case json.Number:
		tag := "!!int"
		if strings.ContainsAny(t.String(), ".eE") {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: t.String()}
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: fmt.Sprint(t)}
	default:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
	}
}

func str(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	if strings.Contains(s, "\n") {
		n.Style = yaml.LiteralStyle
	}
	return n
}

func less(a, b string) bool {
	ra, oka := keyRank[a]
	rb, okb := keyRank[b]
	switch {
	case oka && okb:
		return ra < rb
	case oka:
		return true
	case okb:
		return false
	}
	return a < b
}

// plain reports whether yaml.v3 writes s as it is, anywhere: a letter,
// then letters, digits and _ . / -, and not a word YAML 1.1 or 1.2 reads
// as a bool or null (yaml.v3 quotes those). Most names and paths are;
// the rest ask yaml.v3.
func plain(s string) bool {
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '/' || c == '-') {
			return false
		}
	}
	switch strings.ToLower(s) {
	case "true", "false", "null", "yes", "no", "on", "off", "y", "n":
		return false
	}
	return true
}
