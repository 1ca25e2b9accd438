package config

import (
	"bytes"
	"encoding/json"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// Marshal writes c as YAML with each field's documentation as a comment
// above it, and header lines at the top. Zero-valued fields are left out.
func Marshal(c *Config, header []string) ([]byte, error) {
	j, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(j, &doc); err != nil {
		return nil, err
	}
	root := doc.Content[0]
	clean(root)
	comment(root, "")
	var hc []string
	for _, h := range header {
		hc = append(hc, "# "+h)
	}
	doc.HeadComment = strings.Join(hc, "\n")
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// clean turns JSON-flavoured nodes into plain YAML style and drops empty
// mappings left by omitempty on structs.
func clean(n *yaml.Node) {
	n.Style = 0
	if n.Kind == yaml.SequenceNode && len(n.Content) > 0 && n.Content[0].Kind == yaml.ScalarNode {
		n.Style = yaml.FlowStyle
	}
	if n.Kind != yaml.MappingNode {
		for _, c := range n.Content {
			clean(c)
		}
		return
	}
	var keep []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		clean(v)
		if v.Kind == yaml.MappingNode && len(v.Content) == 0 {
			continue
		}
		k.Style = 0
		keep = append(keep, k, v)
	}
	n.Content = keep
}

func comment(n *yaml.Node, path string) {
	if n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		p := join(path, k.Value)
		if d := Doc(p); d != "" {
			k.HeadComment = "# " + d
		}
		comment(v, p)
	}
}
