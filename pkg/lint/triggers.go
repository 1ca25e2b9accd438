package lint

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/pipewright/pipewright/pkg/tekton"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	triggers "github.com/tektoncd/triggers/pkg/apis/triggers/v1beta1"
)

// Pipelines-as-Code reads PipelineRuns from .tekton/ and starts them for the
// events this annotation names.
const pacOnEvent = "pipelinesascode.tekton.dev/on-event"

// pacTrigger says why a PipelineRun runs for pull requests, if it does:
// a Pipelines-as-Code on-event or on-cel-expression annotation, or a
// Lighthouse presubmit file.
func pacTrigger(file string, o tekton.Object) string {
	pr, ok := o.Obj.(*v1.PipelineRun)
	if !ok {
		return ""
	}
	if ev := pr.Annotations[pacOnEvent]; strings.Contains(ev, "pull_request") || strings.Contains(ev, "issue_comment") {
		return "Pipelines-as-Code on-event " + ev
	}
	if cel := pr.Annotations["pipelinesascode.tekton.dev/on-cel-expression"]; strings.Contains(cel, "pull_request") || strings.Contains(cel, "issue_comment") {
		return "Pipelines-as-Code on-cel-expression"
	}
	// A /test or /retest comment on a pull request runs the pull request's
	// code just the same.
	if _, ok := pr.Annotations["pipelinesascode.tekton.dev/on-comment"]; ok {
		return "Pipelines-as-Code on-comment"
	}
	slash := filepath.ToSlash(file)
	base := strings.ToLower(filepath.Base(file))
	if strings.Contains(slash, ".lighthouse/") && (strings.Contains(base, "pullrequest") || strings.Contains(base, "presubmit")) {
		return "Lighthouse presubmit " + filepath.Base(file)
	}
	return ""
}

// interceptorView is what the trigger rules read from a trigger's
// interceptors.
type interceptorView struct {
	eventTypes   []string
	eventTypesAt []any
	filters      []string
	filterAt     []any // the first CEL filter
	verifiers    int
	missingRef   []any // a verifying interceptor without secretRef
	github       []any
}

var verifiers = map[string]bool{"github": true, "gitlab": true, "bitbucket": true}

func viewInterceptors(ics []*triggers.TriggerInterceptor, at []any) interceptorView {
	var v interceptorView
	for i, ic := range ics {
		if ic == nil {
			continue
		}
		icAt := join(at, "interceptors", i)
		params := map[string]json.RawMessage{}
		paramAt := map[string][]any{}
		for j, p := range ic.Params {
			params[p.Name] = p.Value.Raw
			paramAt[p.Name] = join(icAt, "params", j, "value")
		}
		name := ic.Ref.Name
		if _, lookup := params["addChangedFiles"]; lookup && name == "github" && len(params) == 1 {
			// Triggers' changed-files lookup (after the checks) verifies
			// nothing and needs no secretRef: the verifier is another.
			continue
		}
		if verifiers[name] {
			if raw, ok := params["secretRef"]; ok && len(raw) > 0 && string(raw) != "null" {
				v.verifiers++
			} else if v.missingRef == nil {
				v.missingRef = icAt
			}
			if name == "github" && v.github == nil {
				v.github = icAt
			}
			var et []string
			if json.Unmarshal(params["eventTypes"], &et) == nil && len(et) > 0 {
				v.eventTypes = append(v.eventTypes, et...)
				v.eventTypesAt = paramAt["eventTypes"]
			}
		}
		if name == "cel" {
			var f string
			if json.Unmarshal(params["filter"], &f) == nil && f != "" {
				v.filters = append(v.filters, f)
				if v.filterAt == nil {
					v.filterAt = paramAt["filter"]
				}
			}
		}
	}
	return v
}

func (v interceptorView) has(event ...string) bool {
	for _, e := range v.eventTypes {
		for _, want := range event {
			if e == want {
				return true
			}
		}
	}
	for _, f := range v.filters {
		for _, want := range event {
			if strings.Contains(f, "'"+want+"'") || strings.Contains(f, `"`+want+`"`) {
				return true
			}
		}
	}
	return false
}

func (v interceptorView) filterMentions(re *regexp.Regexp) bool {
	for _, f := range v.filters {
		if re.MatchString(f) {
			return true
		}
	}
	return false
}

var (
	// Comments on pull requests (issue_comment, GitLab's Note Hook) start
	// runs of the pull request's code too.
	prEvents    = []string{"pull_request", "pull_request_target", "issue_comment", "Merge Request Hook", "Note Hook", "pullrequest:created", "pullrequest:updated", "pullrequest:comment_created"}
	pushEvents  = []string{"push", "Push Hook", "Tag Push Hook", "repo:push"}
	actionCheck = regexp.MustCompile(`\.action\b|\[['"]action['"]\]`)
	refCheck    = regexp.MustCompile(`body\.ref\b|body\[['"]ref['"]\]|\.ref_name\b|\.changes`)
	matchAll    = regexp.MustCompile(`matches\(\s*['"]\.\*['"]\s*\)|startsWith\(\s*['"]['"]\s*\)`)
)

// prTrigger says whether the interceptors let pull-request events through.
func prTrigger(ics []*triggers.TriggerInterceptor) bool {
	return viewInterceptors(ics, nil).has(prEvents...)
}

func triggerRules(r reporter, name string, ics []*triggers.TriggerInterceptor, at []any) {
	v := viewInterceptors(ics, at)
	d := r.u.doc
	switch {
	case v.missingRef != nil:
		r.add("webhook-secret", d.at(v.missingRef...), "trigger %q: the interceptor has no secretRef, so forged webhooks are accepted", name)
	case v.verifiers == 0:
		r.add("webhook-secret", d.at(at...), "trigger %q has no github, gitlab or bitbucket interceptor with a secretRef; anyone who can reach the EventListener can start it", name)
	}
	where := func() []any {
		switch {
		case v.filterAt != nil:
			return v.filterAt
		case v.eventTypesAt != nil:
			return v.eventTypesAt
		}
		return at
	}
	for _, f := range v.filters {
		if strings.TrimSpace(f) == "true" {
			r.add("cel-accept-all", d.at(v.filterAt...), "trigger %q: CEL filter \"true\" accepts every event", name)
		}
	}
	if v.filterMentions(matchAll) {
		r.add("cel-accept-all", d.at(v.filterAt...), "trigger %q: CEL filter matches everything (.* or an empty prefix)", name)
	}
	if v.has(prEvents...) && !v.filterMentions(actionCheck) {
		r.add("cel-accept-all", d.at(where()...), "trigger %q accepts pull-request events without checking the action, so closed, labeled and edited pull requests start runs too", name)
	}
	if v.has(pushEvents...) && !v.filterMentions(refCheck) {
		r.add("cel-accept-all", d.at(where()...), "trigger %q accepts push events without checking body.ref, so every branch and tag starts a run", name)
	}
	if v.github != nil && len(v.eventTypes) == 0 && len(v.filters) == 0 {
		r.add("cel-accept-all", d.at(v.github...), "trigger %q: the github interceptor has no eventTypes and no CEL filter follows, so every event type starts a run", name)
	}
}
