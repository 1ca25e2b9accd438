package lint

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/pipewright/pipewright/pkg/tekton"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	"github.com/tektoncd/pipeline/pkg/apis/pipeline/v1alpha1"
	"github.com/tektoncd/pipeline/pkg/apis/pipeline/v1beta1"
	"github.com/tektoncd/triggers/pkg/apis/triggers/contexts"
	trv1alpha1 "github.com/tektoncd/triggers/pkg/apis/triggers/v1alpha1"
	triggers "github.com/tektoncd/triggers/pkg/apis/triggers/v1beta1"
	yaml3 "go.yaml.in/yaml/v3"
	"knative.dev/pkg/apis"
	"sigs.k8s.io/yaml"
)

// A kind decoder turns one document into the type the rules read. With
// strict false it ignores unknown fields and wrong types where it can, so a
// single misspelt field (reported as a decode finding) does not hide the
// object from the security rules. validateAs, when not nil, is the object
// Tekton's Validate should see (the original, before conversion).
type kindDecoder func(b []byte, strict bool) (obj, validateAs any, name string, err error)

func unmarshal(b []byte, v any, strict bool) error {
	if strict {
		return yaml.UnmarshalStrict(b, v)
	}
	// Lenient: JSON's decoder skips unknown fields and keeps going past a
	// wrong type, leaving the other fields filled in.
	j, err := yaml.YAMLToJSON(b)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(j, v); err != nil {
		if _, ok := err.(*json.UnmarshalTypeError); !ok {
			return err
		}
	}
	return nil
}

func plain[T any](name func(*T) string) kindDecoder {
	return func(b []byte, strict bool) (any, any, string, error) {
		var t T
		if err := unmarshal(b, &t, strict); err != nil {
			return nil, nil, "", err
		}
		return &t, nil, name(&t), nil
	}
}

// beta decodes a tekton.dev/v1beta1 object and converts it with Tekton's
// ConvertTo, as pkg/tekton's converted kinds do.
func beta[From any, To any, PF interface {
	*From
	apis.Convertible
}, PT interface {
	*To
	apis.Convertible
}](name func(PT) string) kindDecoder {
	return func(b []byte, strict bool) (any, any, string, error) {
		var from From
		if err := unmarshal(b, &from, strict); err != nil {
			return nil, nil, "", err
		}
		var to To
		if err := PF(&from).ConvertTo(context.Background(), PT(&to)); err != nil {
			return nil, nil, "", fmt.Errorf("converting to tekton.dev/v1: %w", err)
		}
		return PT(&to), nil, name(PT(&to)), nil
	}
}

// alphaTriggers decodes a triggers.tekton.dev/v1alpha1 object, upgrades its
// old-style interceptors (github:, cel:) with Triggers' own defaulting, and
// reads the result as the v1beta1 type, which has the same fields.
func alphaTriggers[A any, B any, PA interface {
	*A
	tekton.Validatable
}](name func(*B) string) kindDecoder {
	return func(b []byte, strict bool) (any, any, string, error) {
		var a A
		if err := unmarshal(b, &a, strict); err != nil {
			return nil, nil, "", err
		}
		var up A
		if err := yaml.Unmarshal(b, &up); err != nil {
			return nil, nil, "", err
		}
		PA(&up).SetDefaults(contexts.WithUpgradeViaDefaulting(context.Background()))
		j, err := json.Marshal(&up)
		if err != nil {
			return nil, nil, "", err
		}
		var out B
		if err := json.Unmarshal(j, &out); err != nil {
			return nil, nil, "", fmt.Errorf("reading as triggers.tekton.dev/v1beta1: %w", err)
		}
		return &out, PA(&a), name(&out), nil
	}
}

func runName(m interface{ GetName() string }, gen string) string { return m.GetName() + gen }

// kinds are the kinds lint reads: every kind of tekton.Kinds (a test keeps
// them in step) and the ones pipewright reads nowhere else (StepAction,
// ClusterTask, Triggers v1alpha1). Lint keeps its own table because its
// decoders differ from pkg/tekton's: the lenient mode keeps going past a
// wrongly typed field (so one bad field does not hide an object from the
// security rules), v1alpha1 Triggers objects are upgraded and validated as
// written (validateAs), and the extra kinds must not become kinds that
// generate, bundle or simulate accept.
var kinds = map[string]kindDecoder{
	"tekton.dev/v1/Task":             plain(func(t *v1.Task) string { return t.Name }),
	"tekton.dev/v1/Pipeline":         plain(func(t *v1.Pipeline) string { return t.Name }),
	"tekton.dev/v1/PipelineRun":      plain(func(t *v1.PipelineRun) string { return runName(t, t.GenerateName) }),
	"tekton.dev/v1/TaskRun":          plain(func(t *v1.TaskRun) string { return runName(t, t.GenerateName) }),
	"tekton.dev/v1beta1/Task":        beta[v1beta1.Task, v1.Task](func(t *v1.Task) string { return t.Name }),
	"tekton.dev/v1beta1/Pipeline":    beta[v1beta1.Pipeline, v1.Pipeline](func(t *v1.Pipeline) string { return t.Name }),
	"tekton.dev/v1beta1/PipelineRun": beta[v1beta1.PipelineRun, v1.PipelineRun](func(t *v1.PipelineRun) string { return runName(t, t.GenerateName) }),
	"tekton.dev/v1beta1/TaskRun":     beta[v1beta1.TaskRun, v1.TaskRun](func(t *v1.TaskRun) string { return runName(t, t.GenerateName) }),
	// ClusterTask has a Task's spec; Tekton no longer serves it (removed-kind
	// says so) but its steps still deserve the security rules.
	"tekton.dev/v1beta1/ClusterTask":                    beta[v1beta1.Task, v1.Task](func(t *v1.Task) string { return t.Name }),
	"tekton.dev/v1beta1/StepAction":                     plain(func(t *v1beta1.StepAction) string { return t.Name }),
	"tekton.dev/v1alpha1/StepAction":                    plain(func(t *v1alpha1.StepAction) string { return t.Name }),
	"triggers.tekton.dev/v1beta1/Trigger":               plain(func(t *triggers.Trigger) string { return t.Name }),
	"triggers.tekton.dev/v1beta1/EventListener":         plain(func(t *triggers.EventListener) string { return t.Name }),
	"triggers.tekton.dev/v1beta1/TriggerTemplate":       plain(func(t *triggers.TriggerTemplate) string { return t.Name }),
	"triggers.tekton.dev/v1beta1/TriggerBinding":        plain(func(t *triggers.TriggerBinding) string { return t.Name }),
	"triggers.tekton.dev/v1beta1/ClusterTriggerBinding": plain(func(t *triggers.ClusterTriggerBinding) string { return t.Name }),
	"triggers.tekton.dev/v1alpha1/ClusterInterceptor":   plain(func(t *trv1alpha1.ClusterInterceptor) string { return t.Name }),
	"triggers.tekton.dev/v1alpha1/ClusterTriggerBinding": alphaTriggers[trv1alpha1.ClusterTriggerBinding, triggers.ClusterTriggerBinding](func(t *triggers.ClusterTriggerBinding) string {
		return t.Name
	}),
	"triggers.tekton.dev/v1alpha1/EventListener": alphaTriggers[trv1alpha1.EventListener, triggers.EventListener](func(t *triggers.EventListener) string { return t.Name }),
	"triggers.tekton.dev/v1alpha1/Trigger":       alphaTriggers[trv1alpha1.Trigger, triggers.Trigger](func(t *triggers.Trigger) string { return t.Name }),
	"triggers.tekton.dev/v1alpha1/TriggerTemplate": alphaTriggers[trv1alpha1.TriggerTemplate, triggers.TriggerTemplate](func(t *triggers.TriggerTemplate) string {
		return t.Name
	}),
	"triggers.tekton.dev/v1alpha1/TriggerBinding": alphaTriggers[trv1alpha1.TriggerBinding, triggers.TriggerBinding](func(t *triggers.TriggerBinding) string {
		return t.Name
	}),
}

// removedKinds are kinds Tekton Pipelines v1 no longer serves.
var removedKinds = map[string]string{
	"tekton.dev/v1beta1/ClusterTask":       "ClusterTask is not served by Tekton Pipelines v1 (deprecated in v0.41, since removed): kubectl apply fails. Use a Task and the cluster resolver",
	"tekton.dev/v1alpha1/Condition":        "Condition was removed in Tekton Pipelines v0.16: use when expressions",
	"tekton.dev/v1alpha1/PipelineResource": "PipelineResource was removed in Tekton Pipelines v0.48: use Tasks (git-clone) and workspaces",
}

// decodeMore decodes one document of a kind in kinds; obj is nil for
// other kinds.
func decodeMore(h head, doc []byte, strict bool) (obj, validateAs any, name string, err error) {
	d, ok := kinds[h.APIVersion+"/"+h.Kind]
	if !ok {
		return nil, nil, "", nil
	}
	return d(doc, strict)
}

// head is what every Kubernetes object starts with.
type head struct {
	APIVersion string
	Kind       string
	Metadata   struct{ Name string }
}

// headOf reads apiVersion, kind and name off the node tree.
func headOf(n *yaml3.Node) head {
	var h head
	str := func(n *yaml3.Node) string {
		if n != nil && n.Kind == yaml3.ScalarNode {
			return n.Value
		}
		return ""
	}
	if n == nil {
		return h
	}
	h.APIVersion, h.Kind = str(child(n, "apiVersion")), str(child(n, "kind"))
	if m := child(n, "metadata"); m != nil {
		h.Metadata.Name = str(child(m, "name"))
	}
	return h
}

// goTemplate matches Go template actions ({{ .Values.x }}, {{- if }}), as in
// Helm charts; Pipelines-as-Code's {{ revision }} has no dot or keyword and
// is left alone.
var goTemplate = regexp.MustCompile(`\{\{-?\s*(?:\.|if\b|else\b|end\b|range\b|with\b|include\b|template\b|define\b|toYaml\b|\$)`)

// goTemplated is true when a Go template action stands in n's YAML itself:
// in a key or a plain scalar, or as a flow mapping ({{ .Values.x }} parses
// as one). The same text inside a quoted or block scalar is data (a
// parameter's description, a script's own templating) and does not make
// the document a template.
func goTemplated(d *document, n *yaml3.Node) bool {
	if n == nil {
		return false
	}
	switch n.Kind {
	case yaml3.ScalarNode:
		return n.Style == 0 && goTemplate.MatchString(n.Value)
	case yaml3.MappingNode, yaml3.SequenceNode:
		if n.Style&yaml3.FlowStyle != 0 {
			if l := d.docLine(n.Line); n.Column >= 1 && n.Column <= len(l) && goTemplate.MatchString(l[n.Column-1:]) {
				return true
			}
		}
	}
	for _, c := range n.Content {
		if goTemplated(d, c) {
			return true
		}
	}
	return false
}

// normalize rebuilds a document from its node tree: merge keys (<<) are
// resolved with the mapping's own keys winning, as YAML specifies, and a key
// repeated in one mapping keeps its last value, as the API server does. The
// repeats come back with their positions; the result is JSON.
func normalize(d *document) ([]byte, []dupKey, error) {
	if err := d.parse(); err != nil {
		return nil, nil, err
	}
	var dups []dupKey
	var conv func(n *yaml3.Node) (any, error)
	conv = func(n *yaml3.Node) (any, error) {
		switch n.Kind {
		case yaml3.AliasNode:
			return conv(n.Alias)
		case yaml3.DocumentNode:
			if len(n.Content) == 0 {
				return nil, nil
			}
			return conv(n.Content[0])
		case yaml3.SequenceNode:
			out := make([]any, 0, len(n.Content))
			for _, c := range n.Content {
				v, err := conv(c)
				if err != nil {
					return nil, err
				}
				out = append(out, v)
			}
			return out, nil
		case yaml3.MappingNode:
			out := map[string]any{}
			own := map[string]bool{}
			var merged []*yaml3.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if k.Tag == "!!merge" || k.Value == "<<" && k.Style == 0 {
					merged = append(merged, v)
					continue
				}
				if own[k.Value] {
					dups = append(dups, dupKey{k.Value, pos{k.Line + d.firstLine - 1, k.Column}})
				}
				own[k.Value] = true
				cv, err := conv(v)
				if err != nil {
					return nil, err
				}
				out[k.Value] = cv
			}
			for _, m := range merged {
				for m.Kind == yaml3.AliasNode {
					m = m.Alias
				}
				srcs := []*yaml3.Node{m}
				if m.Kind == yaml3.SequenceNode {
					srcs = m.Content
				}
				for _, s := range srcs {
					sv, err := conv(s)
					if err != nil {
						return nil, err
					}
					sm, ok := sv.(map[string]any)
					if !ok {
						return nil, fmt.Errorf("line %d: merge key << needs a mapping", s.Line+d.firstLine-1)
					}
					for k, v := range sm {
						if _, set := out[k]; !set {
							out[k] = v
						}
					}
				}
			}
			return out, nil
		}
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, err
		}
		return v, nil
	}
	v, err := conv(d.tree)
	if err != nil {
		return nil, nil, err
	}
	j, err := json.Marshal(v)
	return j, dups, err
}

type dupKey struct {
	key string
	at  pos
}

// isDuplicateKey is true for the strict decoder's complaint about a key set
// twice, which merge keys that override a field also cause.
func isDuplicateKey(err error) bool {
	return err != nil && strings.Contains(err.Error(), "already set in map")
}
