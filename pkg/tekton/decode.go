package tekton

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"sigs.k8s.io/yaml"
)

// Object is one decoded YAML document.
type Object struct {
	File string // where it came from, for messages
	Doc  int    // 0-based document index within File (Split's Index)
	Line int    // 1-based line of File where the document starts
	Kind string
	Name string
	// Obj is the typed object: *v1.Task, *v1.Pipeline, *v1.PipelineRun,
	// *v1.TaskRun, a Triggers type, or nil for kinds Kinds does not list.
	Obj any
}

func (o Object) String() string {
	if o.Doc > 0 {
		return fmt.Sprintf("%s (document %d) %s/%s", o.File, o.Doc+1, o.Kind, o.Name)
	}
	return fmt.Sprintf("%s %s/%s", o.File, o.Kind, o.Name)
}

// DecodeError is a document that does not decode: YAML that does not parse,
// or (strictly) a field its kind does not have or a value of the wrong type.
type DecodeError struct {
	File string
	Doc  int // 0-based document index
	Line int // 1-based line where the document starts
	Kind string
	Name string
	// Field is the unknown field's name as the decoder gave it (a dotted
	// path when it knows one), empty for other errors.
	Field string
	Err   error
}

func (e *DecodeError) Error() string {
	if e.Kind == "" && e.Name == "" {
		return fmt.Sprintf("%s: document %d: %v", e.File, e.Doc+1, e.Err)
	}
	return fmt.Sprintf("%s: %s %s: %v", e.File, e.Kind, e.Name, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }

// unknownField reads the field name out of encoding/json's strict-decoding
// error, which has no type of its own: the one place that reads error text.
var unknownField = regexp.MustCompile(`unknown field "([^"]+)"`)

type head struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
}

// Decode strictly decodes every document of a file. Kinds Kinds does not
// list (and converted kinds) decode to an Object with a nil Obj; an unknown
// field or a wrong type in a known kind is a *DecodeError naming the file.
func Decode(file string, data []byte) ([]Object, error) {
	return decodeAll(file, data, false)
}

// DecodeConverting is Decode that also decodes the Converted kinds
// (tekton.dev/v1beta1) into their v1 types.
func DecodeConverting(file string, data []byte) ([]Object, error) {
	return decodeAll(file, data, true)
}

func decodeAll(file string, data []byte, convert bool) ([]Object, error) {
	var out []Object
	for _, d := range Split(data) {
		o, err := DecodeDocument(file, d, convert)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// DecodeDocument decodes one document Split returned; convert decodes the
// Converted kinds too. The Object comes back with what is known (kind and
// name) when err is a *DecodeError for a known kind.
func DecodeDocument(file string, d Document, convert bool) (Object, error) {
	// The YAML is parsed once: the head and the object come from the JSON
	// it converts to (parsing is most of decoding's cost).
	var h head
	var j []byte
	var err error
	if r, ok := rendered.LoadAndDelete(sha256.Sum256(d.Text)); ok {
		j = r.([]byte) // Marshal wrote these bytes from it; decoded once
	} else {
		j, err = yaml.YAMLToJSONStrict(d.Text)
	}
	if err == nil && json.Unmarshal(j, &h) != nil {
		err = errors.New("not an object")
	}
	un := fromJSONStrict(j)
	if err != nil {
		// Not plain (duplicate keys, not a mapping, bad YAML): the YAML
		// decoders say what is wrong, as they always did.
		if err := yaml.Unmarshal(d.Text, &h); err != nil {
			return Object{File: file, Doc: d.Index, Line: d.Line}, &DecodeError{File: file, Doc: d.Index, Line: d.Line, Err: err}
		}
		un = fromYAML(d.Text, true)
	}
	o := Object{File: file, Doc: d.Index, Line: d.Line, Kind: h.Kind, Name: h.Metadata.Name}
	k, ok := LookupKind(h.APIVersion, h.Kind)
	if !ok || (k.Converted && !convert) {
		return o, nil
	}
	obj, name, err := k.decode(un)
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		// The YAML decoder turns a number or bool into the string a field
		// wants; the generic conversion does not. Decode it that way.
		obj, name, err = k.decode(fromYAML(d.Text, true))
	}
	if err != nil {
		return o, &DecodeError{File: file, Doc: d.Index, Line: d.Line, Kind: h.Kind, Name: h.Metadata.Name, Field: UnknownField(err), Err: err}
	}
	o.Obj, o.Name = obj, name
	return o, nil
}

// UnknownField is the field a strict decoder's error says is unknown (a
// dotted path when it knows one), "" for any other error. Decoders outside
// this package (lint's lenient ones) fill DecodeError.Field with it.
func UnknownField(err error) string {
	if m := unknownField.FindStringSubmatch(err.Error()); m != nil {
		return m[1]
	}
	return ""
}

// FieldName is the last element of a dotted field path.
func FieldName(path string) string {
	return path[strings.LastIndex(path, ".")+1:]
}

// DecodeLenient decodes one object of any kind Kinds lists (converted kinds
// included) without strictness: unknown fields are dropped. It is for
// objects inside others, such as a TriggerTemplate's resource templates,
// where $(tt.params.x) may stand in for a typed value; nil when the kind
// is not listed or the data does not fit its type.
func DecodeLenient(data []byte) any {
	var h head
	if yaml.Unmarshal(data, &h) != nil {
		return nil
	}
	k, ok := LookupKind(h.APIVersion, h.Kind)
	if !ok {
		return nil
	}
	obj, _, err := k.decode(fromYAML(data, false))
	if err != nil {
		return nil
	}
	return obj
}
