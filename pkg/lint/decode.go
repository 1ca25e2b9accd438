package lint

import "github.com/pipewright/pipewright/pkg/tekton"

// decodeTemplate decodes a TriggerTemplate's resource template leniently:
// $(tt.params.x) may stand where a duration or number belongs.
func decodeTemplate(raw []byte) any { return tekton.DecodeLenient(raw) }
