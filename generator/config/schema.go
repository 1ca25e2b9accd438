package config

import (
	"encoding/json"
	"reflect"
	"strings"

	"github.com/pipewright/pipewright/pkg/images"
)

// Schema returns the JSON Schema (draft 2020-12) of pipewright.yaml,
// generated from the Go types and their doc/enum/default/required tags, so
// editors (yaml-language-server) can complete and check the file.
func Schema() ([]byte, error) {
	s := schemaOf(reflect.TypeOf(Config{}))
	s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	s["$id"] = "https://pipewright.dev/schema/pipewright.v1alpha1.json"
	s["title"] = "pipewright.yaml"
	// images: keys are the catalog's image names, values pinned references.
	img := s["properties"].(map[string]any)["images"].(map[string]any)
	img["propertyNames"] = map[string]any{"enum": images.Names()}
	img["additionalProperties"].(map[string]any)["pattern"] = "@sha256:[0-9a-f]{64}$"
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func schemaOf(t reflect.Type) map[string]any {
	switch t.Kind() {
	case reflect.Pointer:
		return schemaOf(t.Elem())
	case reflect.Struct:
		props := map[string]any{}
		var req []string
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name := strings.Split(f.Tag.Get("json"), ",")[0]
			p := schemaOf(f.Type)
			if d := f.Tag.Get("doc"); d != "" {
				p["description"] = d
			}
			if e := f.Tag.Get("enum"); e != "" {
				p["enum"] = strings.Split(e, ",")
			}
			if d := f.Tag.Get("default"); d != "" {
				var v any
				if err := json.Unmarshal([]byte(d), &v); err != nil {
					v = d
				}
				if f.Type.Kind() == reflect.String {
					v = d
				}
				p["default"] = v
			}
			if f.Tag.Get("required") == "true" {
				req = append(req, name)
			}
			props[name] = p
		}
		s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
		if len(req) > 0 {
			s["required"] = req
		}
		return s
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": schemaOf(t.Elem())}
	case reflect.Slice:
		return map[string]any{"type": "array", "items": schemaOf(t.Elem())}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int:
		return map[string]any{"type": "integer"}
	case reflect.Float64:
		return map[string]any{"type": "number"}
	default:
		return map[string]any{"type": "string"}
	}
}

// Doc returns the doc tag of the field at a dotted path (for comments).
func Doc(path string) string {
	t := reflect.TypeOf(Config{})
	var doc string
	for _, part := range strings.Split(path, ".") {
		if t.Kind() != reflect.Struct {
			return ""
		}
		found := false
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if strings.Split(f.Tag.Get("json"), ",")[0] == part {
				t, doc, found = f.Type, f.Tag.Get("doc"), true
				break
			}
		}
		if !found {
			return ""
		}
	}
	return doc
}
