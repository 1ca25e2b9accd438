package tekton

import (
	"bytes"
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
