// Package tekton is pipewright's bottom layer for Tekton YAML: one list of
// the kinds it decodes (Kinds), one document splitter (Split), strict
// decoding into Tekton's and Triggers' own Go types (Decode), their own
// defaulting and Validate (Validate), the checks across objects that
// Validate does not do (Wiring, ParallelWriters), and deterministic YAML
// rendering (Marshal). Problems come back as values (Issue, ValidationError,
// DecodeError) naming kind, object, field path, position and severity; each
// caller formats them.
//
// Import direction: tekton imports only Tekton, Triggers, Kubernetes and
// YAML libraries, never another pipewright package. generator/, pkg/lint,
// pkg/bundle and pkg/simulate import it; the dependency test
// (internal/depcheck) fails on any other direction.
package tekton
