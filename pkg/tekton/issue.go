package tekton

import "fmt"

// Severity says whether Tekton would refuse or fail what an Issue describes
// (Error), or accept it while it is likely a mistake (Warning).
type Severity int

const (
	Error Severity = iota
	Warning
)

func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// Issue is one problem in a Tekton object, as a value: what object, which
// field, how bad, and the message. Callers locate Path in their YAML and
// format the rest as they like; Error is the generator's format.
type Issue struct {
	File     string // the file the object came from; empty when not known
	Kind     string // the object's kind: Pipeline, PipelineRun, Task...
	Object   string // the object's name
	Severity Severity
	// Path leads from the object's root to the field: map keys as strings,
	// list indexes as ints (Tekton keeps list order, so an index in the Go
	// value is the index in the YAML).
	Path []any
	// Prefix is what Error puts before Message: who is talking about what
	// ("pipeline p, pipeline task \"t\" (task x)").
	Prefix  string
	Message string
}

func (i *Issue) Error() string {
	s := i.Message
	if i.Prefix != "" {
		s = i.Prefix + ": " + s
	}
	if i.File != "" {
		s = i.File + ": " + s
	}
	return s
}

// Field is Path in Kubernetes' notation: spec.tasks[2].params[0].
func (i *Issue) Field() string { return FieldPath(i.Path) }

// FieldPath renders a path of keys and indexes as a.b[0].c.
func FieldPath(path []any) string {
	s := ""
	for _, p := range path {
		switch p := p.(type) {
		case int:
			s += fmt.Sprintf("[%d]", p)
		default:
			if s != "" {
				s += "."
			}
			s += fmt.Sprint(p)
		}
	}
	return s
}
