package lint

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/pipewright/pipewright/pkg/tekton"
	yaml "go.yaml.in/yaml/v3"
)

// document is one YAML document of a file: its text, its node tree (for
// positions) and where it starts in the file.
type document struct {
	index     int    // 0-based among the file's non-empty documents (tekton.Split's Index)
	text      []byte // the document's own text
	firstLine int    // 1-based file line of the document's first line
	// beta is set for tekton.dev/v1beta1 objects: rules walk the v1 shape
	// they convert to, so paths are mapped back to v1beta1 field names.
	beta bool
	// tree is the parsed node tree, built on first use: only findings need
	// positions, and most documents have none.
	tree   *yaml.Node
	parsed bool
	err    error
}

// splitDocuments splits data with tekton.Split, the splitter every
// pipewright reader uses, so document numbers agree everywhere.
func splitDocuments(data []byte) []document {
	var docs []document
	for _, d := range tekton.Split(data) {
		docs = append(docs, document{index: d.Index, text: d.Text, firstLine: d.Line})
	}
	return docs
}

// parse builds the node tree once; a syntax error comes back with its file
// line.
func (d *document) parse() error {
	if d.parsed {
		return d.err
	}
	d.parsed = true
	var n yaml.Node
	if err := yaml.Unmarshal(d.text, &n); err != nil {
		d.err = fmt.Errorf("%s", shiftYAMLError(err.Error(), d.firstLine-1))
		return d.err
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		d.tree = n.Content[0]
	}
	return nil
}

// root is the document's top node, nil when it does not parse.
func (d *document) root() *yaml.Node {
	d.parse()
	return d.tree
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// shiftYAMLError turns "yaml: line 3: ..." into file line numbers.
func shiftYAMLError(msg string, by int) string {
	return yamlLine.ReplaceAllStringFunc(msg, func(s string) string {
		n, _ := strconv.Atoi(strings.TrimPrefix(s, "line "))
		return fmt.Sprintf("line %d", n+by)
	})
}

// pos is a 1-based file position.
type pos struct{ line, col int }

// at finds the node at path (map keys as strings, list indexes as ints) and
// returns its position; when the path runs out of YAML it stops at the
// deepest node that exists, so a missing field points at its parent.
func (d *document) at(path ...any) pos {
	n := d.node(path...)
	if n == nil {
		return pos{d.firstLine, 1}
	}
	return pos{n.Line + d.firstLine - 1, n.Column}
}

// key is like at but points at the map key of the last path element, which
// reads better for "this field is wrong" findings.
func (d *document) key(path ...any) pos {
	if len(path) > 0 {
		if k, ok := path[len(path)-1].(string); ok {
			if parent := d.node(path[:len(path)-1]...); parent != nil && parent.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(parent.Content); i += 2 {
					if parent.Content[i].Value == k {
						return pos{parent.Content[i].Line + d.firstLine - 1, parent.Content[i].Column}
					}
				}
			}
		}
	}
	return d.at(path...)
}

func (d *document) node(path ...any) *yaml.Node {
	n := d.root()
	if n == nil {
		return nil
	}
	for i := 0; i < len(path); i++ {
		next := child(n, path[i])
		if next == nil && d.beta {
			var skip int
			next, skip = betaChild(n, path[i:])
			i += skip
		}
		if next == nil {
			return n
		}
		n = next
	}
	return n
}

// betaChild finds the v1beta1 field for the v1 path element p[0], and how
// many more elements of p it consumed. v1 moved PipelineRun's podTemplate
// and serviceAccountName under taskRunTemplate, timeout to
// timeouts.pipeline, and a step's resources to computeResources.
func betaChild(n *yaml.Node, p []any) (*yaml.Node, int) {
	k, _ := p[0].(string)
	switch k {
	case "taskRunTemplate":
		if len(p) > 1 {
			if c := child(n, p[1]); c != nil {
				return c, 1
			}
		}
		return nil, 0
	case "timeouts":
		if len(p) > 1 && p[1] == "pipeline" {
			if c := child(n, "timeout"); c != nil {
				return c, 1
			}
		}
	case "computeResources":
		return child(n, "resources"), 0
	case "serviceAccountName":
		return child(n, "taskServiceAccountName"), 0
	case "podTemplate":
		return child(n, "taskPodTemplate"), 0
	}
	return nil, 0
}

// exact is node without the fallback: nil when path is not all there.
func (d *document) exact(path ...any) *yaml.Node {
	n := d.root()
	for i := 0; i < len(path); i++ {
		if n == nil {
			return nil
		}
		next := child(n, path[i])
		if next == nil && d.beta {
			var skip int
			next, skip = betaChild(n, path[i:])
			i += skip
		}
		n = next
	}
	return n
}

func child(n *yaml.Node, p any) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch p := p.(type) {
	case string:
		if n.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == p {
				return n.Content[i+1]
			}
		}
	case int:
		if n.Kind == yaml.SequenceNode && p >= 0 && p < len(n.Content) {
			return n.Content[p]
		}
	}
	return nil
}

// inScalar points at the line inside a multi-line scalar (a script) where
// needle first occurs; for one-line scalars it is the scalar's own position.
func (d *document) inScalar(needle string, path ...any) pos {
	n := d.node(path...)
	p := d.at(path...)
	if n == nil || n.Kind != yaml.ScalarNode {
		return p
	}
	i := strings.Index(n.Value, needle)
	if i < 0 {
		return p
	}
	before := n.Value[:i]
	lines := strings.Count(before, "\n")
	switch n.Style {
	case yaml.FoldedStyle:
		// Folding joins lines, so count lines in the text instead: the
		// first line of the scalar's body that holds the needle.
		text := strings.Split(string(d.text), "\n")
		for l := p.line + 1; l <= d.blockEnd(p.line); l++ {
			if c := strings.Index(text[l-d.firstLine], needle); c >= 0 {
				return pos{l, c + 1}
			}
		}
		return pos{p.line + 1, 1}
	case yaml.LiteralStyle:
		// The value starts on the line after the "|" indicator; its
		// indentation is not in the node, so read the column off the text.
		line := p.line + 1 + lines
		text := strings.Split(string(d.text), "\n")
		if k := line - d.firstLine; k >= 0 && k < len(text) {
			if c := strings.Index(text[k], needle); c >= 0 {
				return pos{line, c + 1}
			}
		}
		return pos{line, 1}
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle, 0:
		if lines == 0 {
			col := p.col + i
			if n.Style != 0 {
				col++ // the opening quote
			}
			return pos{p.line, col}
		}
	}
	return p
}

// findKey returns the position of the first map key named k anywhere in the
// document, for errors that name a field but not its path (unknown field).
func (d *document) findKey(k string) (pos, bool) {
	var walk func(n *yaml.Node) *yaml.Node
	walk = func(n *yaml.Node) *yaml.Node {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == k {
					return n.Content[i]
				}
			}
		}
		for _, c := range n.Content {
			if f := walk(c); f != nil {
				return f
			}
		}
		return nil
	}
	if d.root() == nil {
		return pos{}, false
	}
	if f := walk(d.root()); f != nil {
		return pos{f.Line + d.firstLine - 1, f.Column}, true
	}
	return pos{}, false
}

// fieldPath turns a knative field path such as spec.steps[0].image or
// spec.params[name] into a node path; a bracketed name selects the list
// element with that name.
func (d *document) fieldPath(fp string) []any {
	var out []any
	for _, part := range strings.Split(fp, ".") {
		name, rest, _ := strings.Cut(part, "[")
		if name != "" {
			out = append(out, name)
		}
		for rest != "" {
			idx, after, ok := strings.Cut(rest, "]")
			if !ok {
				break
			}
			if i, err := strconv.Atoi(idx); err == nil {
				out = append(out, i)
			} else if list := d.node(out...); list != nil && list.Kind == yaml.SequenceNode {
				for i, el := range list.Content {
					if c := child(el, "name"); c != nil && c.Value == idx {
						out = append(out, i)
						break
					}
				}
			}
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return out
}

// blockEnd is the last file line of the body of the block scalar ("|" or
// ">") whose indicator is on file line at: the body is every following line
// indented past the key's line, and blank lines.
func (d *document) blockEnd(at int) int {
	text := strings.Split(string(d.text), "\n")
	k := at - d.firstLine
	if k < 0 || k >= len(text) {
		return at
	}
	keyIndent := len(text[k]) - len(strings.TrimLeft(text[k], "- "))
	end := at
	for k++; k < len(text); k++ {
		if strings.TrimSpace(text[k]) == "" {
			continue
		}
		if indent(text[k]) <= keyIndent {
			break
		}
		end = k + d.firstLine
	}
	return end
}

// docLine is line l (1-based, counted in the document) of the document's
// text, untrimmed.
func (d *document) docLine(l int) string {
	text := d.text
	for ; l > 1; l-- {
		i := bytes.IndexByte(text, '\n')
		if i < 0 {
			return ""
		}
		text = text[i+1:]
	}
	if i := bytes.IndexByte(text, '\n'); i >= 0 {
		text = text[:i]
	}
	return string(text)
}

// lineText is file line l of the document, trimmed ("" outside it).
func (d *document) lineText(l int) string {
	k := l - d.firstLine
	if k < 0 {
		return ""
	}
	text := d.text
	for ; k > 0; k-- {
		i := bytes.IndexByte(text, '\n')
		if i < 0 {
			return ""
		}
		text = text[i+1:]
	}
	if i := bytes.IndexByte(text, '\n'); i >= 0 {
		text = text[:i]
	}
	return string(bytes.TrimSpace(text))
}
