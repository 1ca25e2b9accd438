package lint

import "github.com/pipewright/pipewright/pkg/tekton"

// decodeDoc decodes one document with every kind tekton.Kinds lists,
// v1beta1 converted to v1.
func decodeDoc(file string, d *document) (tekton.Object, error) {
	return tekton.DecodeDocument(file, tekton.Document{Index: d.index, Line: d.firstLine, Text: d.text}, true)
}

// decodeTemplate decodes a TriggerTemplate's resource template leniently:
// $(tt.params.x) may stand where a duration or number belongs.
func decodeTemplate(raw []byte) any { return tekton.DecodeLenient(raw) }
