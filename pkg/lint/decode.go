package lint

import (
	"context"
	"encoding/json"

	"github.com/pipewright/pipewright/pkg/tekton"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	"github.com/tektoncd/pipeline/pkg/apis/pipeline/v1beta1"
)

type head struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
}

// decodeDoc decodes one document with every kind tekton.Kinds lists,
// v1beta1 converted to v1.
func decodeDoc(file string, d *document) (tekton.Object, error) {
	return tekton.DecodeDocument(file, tekton.Document{Index: d.index, Line: d.firstLine, Text: d.text}, true)
}

// decodeTemplate decodes a TriggerTemplate's resource template leniently:
// $(tt.params.x) may stand where a duration or number belongs.
func decodeTemplate(raw []byte) any {
	var h head
	if json.Unmarshal(raw, &h) != nil {
		return nil
	}
	switch h.APIVersion + "/" + h.Kind {
	case "tekton.dev/v1/PipelineRun":
		var pr v1.PipelineRun
		if json.Unmarshal(raw, &pr) == nil {
			return &pr
		}
	case "tekton.dev/v1/TaskRun":
		var tr v1.TaskRun
		if json.Unmarshal(raw, &tr) == nil {
			return &tr
		}
	case "tekton.dev/v1beta1/PipelineRun":
		var from v1beta1.PipelineRun
		var to v1.PipelineRun
		if json.Unmarshal(raw, &from) == nil && from.ConvertTo(context.Background(), &to) == nil {
			return &to
		}
	case "tekton.dev/v1beta1/TaskRun":
		var from v1beta1.TaskRun
		var to v1.TaskRun
		if json.Unmarshal(raw, &from) == nil && from.ConvertTo(context.Background(), &to) == nil {
			return &to
		}
	}
	return nil
}
