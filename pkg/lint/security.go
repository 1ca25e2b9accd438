package lint

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	"github.com/tektoncd/pipeline/pkg/apis/pipeline/v1alpha1"
	"github.com/tektoncd/pipeline/pkg/apis/pipeline/v1beta1"
	yaml "go.yaml.in/yaml/v3"
)

// The rules in this file read the YAML node tree as well as the decoded
// object, so they also see fields the Tekton types do not have (hostPID in a
// podTemplate) and objects decoded leniently.

// walkScalars calls f for every scalar with the map keys leading to it.
func walkScalars(n *yaml.Node, keys []string, f func(n *yaml.Node, keys []string)) {
	if n == nil {
		return
	}
	switch n.Kind {
	case yaml.ScalarNode:
		f(n, keys)
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			walkScalars(n.Content[i+1], append(keys[:len(keys):len(keys)], n.Content[i].Value), f)
		}
	case yaml.SequenceNode, yaml.DocumentNode:
		for _, c := range n.Content {
			walkScalars(c, keys, f)
		}
	}
}

// walkMaps calls f for every mapping's key/value pairs.
func walkPairs(n *yaml.Node, f func(k, v *yaml.Node, parent *yaml.Node)) {
	if n == nil {
		return
	}
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			f(n.Content[i], n.Content[i+1], n)
		}
	}
	for _, c := range n.Content {
		walkPairs(c, f)
	}
}

func (d *document) pos(n *yaml.Node) pos { return pos{n.Line + d.firstLine - 1, n.Column} }

// posIn is where needle is inside scalar n (see inScalar).
func (d *document) posIn(n *yaml.Node, needle string) pos {
	p := d.pos(n)
	i := strings.Index(n.Value, needle)
	if i < 0 {
		return p
	}
	switch n.Style {
	case yaml.LiteralStyle, yaml.FoldedStyle:
		text := strings.Split(string(d.text), "\n")
		for l := p.line + 1; l <= d.blockEnd(p.line); l++ {
			if c := strings.Index(text[l-d.firstLine], needle); c >= 0 {
				return pos{l, c + 1}
			}
		}
	default:
		if !strings.Contains(n.Value[:i], "\n") {
			col := p.col + i
			if n.Style == yaml.DoubleQuotedStyle || n.Style == yaml.SingleQuotedStyle {
				col++
			}
			return pos{p.line, col}
		}
	}
	return p
}

var (
	// pacUntrusted are Pipelines-as-Code placeholders whose text comes from
	// the event's author: the payload, the fork's branch name, the comment,
	// the changed files' names. Headers are GitHub's own (and signed).
	pacUntrusted = regexp.MustCompile(`\{\{\s*(?:body\.[^}\s]*|files\.[^}\s]*|source_branch|trigger_comment|pull_request_title)\s*\}\}`)
	// Payload fields GitHub fills with hex or numbers, which no author can
	// turn into code: shas, numbers, ids, timestamps.
	// Logins and usernames are restricted to [A-Za-z0-9-_.]; a call
	// (startsWith(...), ==) is a CEL expression whose value is a boolean.
	pacSafeField = regexp.MustCompile(`(?:[._](?:sha|number|id|node_id|created_at|updated_at|merged|draft|size|additions|deletions|login|username)|_count|\)|==.*|!=.*)\s*\}\}$`)
	tokenShaped  = regexp.MustCompile(`\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,}|glpat-[A-Za-z0-9_-]{20,}|AKIA[0-9A-Z]{16}|xox[abprs]-[A-Za-z0-9-]{10,}|npm_[A-Za-z0-9]{36})\b|-----BEGIN [A-Z ]*PRIVATE KEY-----`)
	secretName   = regexp.MustCompile(`(?i)(password|passwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential)`)
	// Names for a secret's name, key or location, not its value.
	secretMeta = regexp.MustCompile(`(?i)(name|ref|path|file|dir|url|type|header|key$|keys$|secret[_-]?key|env|mount|workspace|volume)`)
	k8sName    = regexp.MustCompile(`^[a-z0-9]([-a-z0-9._]*[a-z0-9])?$`)
	curlShell  = regexp.MustCompile(`(?i)\b(?:curl|wget)\b[^\n|;&]*\|\s*(?:sudo\s+(?:-\S+\s+)*)?(?:/usr)?(?:/bin/)?(?:env\s+)?(?:ba|z|da|k|a)?sh\b|\b(?:ba)?sh\s+<\(\s*(?:curl|wget)\b|\bsh\s+-c\s+["']?\$\(\s*(?:curl|wget)\b`)
	commitSHA  = regexp.MustCompile(`^[0-9a-f]{40}([0-9a-f]{24})?$`)
	// A branch (or tag) in a raw-file URL of the usual forges.
	rawRef = regexp.MustCompile(`^https?://(?:raw\.githubusercontent\.com/[^/]+/[^/]+/([^/]+)/|(?:github|gitlab)\.com/[^/]+/[^/]+(?:/-)?/(?:raw|blob)/([^/]+)/)`)
)

// documentRules are the node-tree rules for any object, Tekton or not.
func documentRules(r reporter, h head) {
	d := r.u.doc
	root := d.root()
	if root == nil {
		return
	}
	if h.Kind == "Secret" && h.APIVersion == "v1" {
		for _, field := range []string{"data", "stringData"} {
			m := child(root, field)
			if m == nil || m.Kind != yaml.MappingNode {
				continue
			}
			for i := 0; i+1 < len(m.Content); i += 2 {
				if v := m.Content[i+1].Value; v != "" && !templated(v) {
					r.add("hardcoded-secret", d.pos(m.Content[i]), "Secret %s has %s.%s written in the file", h.Metadata.Name, field, m.Content[i].Value)
				}
			}
		}
		return
	}
	isRun := h.Kind == "PipelineRun" || h.Kind == "TaskRun"
	walkScalars(root, nil, func(n *yaml.Node, keys []string) {
		if isRun && !under(keys, "annotations") {
			for _, m := range uniq(pacUntrusted.FindAllString(n.Value, -1)) {
				if pacSafeField.MatchString(m) {
					continue
				}
				if codeKey(keys) {
					r.add("pac-injection", d.posIn(n, m), "%s is replaced by Pipelines-as-Code with text from the event before the run starts; in %s it becomes code", m, keys[len(keys)-1])
				} else if under(keys, "params") {
					r.add("pac-untrusted-param", d.posIn(n, m), "param value %s is text an outsider chooses; every Task reading it must pass it through env", m)
				}
			}
		}
		if m := tokenShaped.FindString(n.Value); m != "" {
			r.add("hardcoded-secret", d.posIn(n, m), "a credential (%s...) is written in the file", m[:min(len(m), 6)])
		}
	})
	declared := declaredContexts(root, h)
	walkPairs(root, func(k, v, parent *yaml.Node) {
		switch k.Value {
		case "hostNetwork", "hostPID", "hostIPC":
			if v.Value == "true" {
				r.add("host-namespace", d.pos(k), "%s: true shares the node's %s namespace with the pod", k.Value, strings.TrimPrefix(strings.ToLower(k.Value), "host"))
			}
		case "allowPrivilegeEscalation":
			if v.Value == "true" && !declared[parent] {
				r.add("privilege-escalation", d.pos(k), "allowPrivilegeEscalation: true lets the step gain root through setuid binaries")
			}
		case "onError":
			if v.Value == "continue" {
				name := ""
				if c := child(parent, "name"); c != nil {
					name = c.Value
				}
				r.add("on-error-continue", d.pos(k), "step %q has onError: continue, so its failure does not fail the run", name)
			}
		case "name":
			// {name: GITHUB_TOKEN, value: ghp...} params and env vars.
			val := child(parent, "value")
			if val == nil {
				val = child(parent, "default")
			}
			if val == nil || val.Kind != yaml.ScalarNode || !secretName.MatchString(k.Value+v.Value) {
				return
			}
			if secretName.MatchString(v.Value) && !secretMeta.MatchString(v.Value) && looksSecret(val.Value) && !tokenShaped.MatchString(val.Value) {
				r.add("hardcoded-secret", d.pos(val), "%q is given a literal value that looks like a credential", v.Value)
			}
		}
	})
}

func looksSecret(v string) bool {
	return len(v) >= 8 && !strings.ContainsAny(v, " \t\n/") && !templated(v) && !k8sName.MatchString(v) &&
		!strings.HasPrefix(v, "http") && strings.ContainsAny(v, "0123456789")
}

func templated(v string) bool {
	return strings.Contains(v, "{{") || strings.Contains(v, "$(") || strings.Contains(v, "${")
}

func under(keys []string, k string) bool {
	for _, x := range keys {
		if x == k {
			return true
		}
	}
	return false
}

// codeKey is true for a scalar that is run: a script, a command or an
// argument (an argument is code for sh -c; flagging every argument with an
// event placeholder errs on the side of a finding).
func codeKey(keys []string) bool {
	if len(keys) == 0 {
		return false
	}
	switch keys[len(keys)-1] {
	case "script", "command", "args":
		return true
	}
	return false
}

func uniq(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// stepActionRules checks a StepAction like a one-step Task.
func stepActionRules(r reporter) {
	var spec v1beta1.StepActionSpec
	switch o := r.u.obj.Obj.(type) {
	case *v1beta1.StepAction:
		spec = o.Spec
	case *v1alpha1.StepAction:
		spec = v1beta1.StepActionSpec{Image: o.Spec.Image, Command: o.Spec.Command, Args: o.Spec.Args, Env: o.Spec.Env,
			Script: o.Spec.Script, Params: o.Spec.Params, SecurityContext: o.Spec.SecurityContext}
	default:
		return
	}
	ts := &v1.TaskSpec{Params: spec.Params}
	c := container{kind: "StepAction", name: r.u.obj.Name, image: spec.Image, command: spec.Command, args: spec.Args,
		script: spec.Script, sc: spec.SecurityContext, env: spec.Env, at: []any{"spec"}}
	what := fmt.Sprintf("StepAction %q", c.name)
	if c.image != "" {
		imageRules(r, ts, c.image, what, []any{"spec", "image"}, []any{"spec"})
	}
	injectionRules(r, c, what)
	securityContextRules(r, what, c.sc, c.at, false)
	scriptRules(r, c, what)
}

// scriptRules are the rules on what a container's script or shell -c
// argument does.
func scriptRules(r reporter, c container, what string) {
	check := func(text string, at []any) {
		if m := curlShell.FindString(text); m != "" {
			r.add("curl-pipe-shell", r.u.doc.inScalar(m, at...), "%s pipes a download into a shell (%s)", what, strings.TrimSpace(m))
		}
	}
	check(c.script, join(c.at, "script"))
	argv := append(append([]string{}, c.command...), c.args...)
	if i := codeArg(argv, len(c.command) == 0); i >= 0 {
		field, idx := "command", i
		if i >= len(c.command) {
			field, idx = "args", i-len(c.command)
		}
		check(argv[i], join(c.at, field, idx))
	}
}

var interpreters = map[string]string{
	"python": "-c", "python2": "-c", "python3": "-c", "node": "-e", "nodejs": "-e", "perl": "-e", "ruby": "-e", "php": "-r",
	"pwsh": "-c", "powershell": "-c",
}

// codeArg is the index in argv of the text an interpreter runs as code: the
// argument after a shell's -c (also behind /usr/bin/env, kubectl/oc exec --,
// docker exec) or python -c, node -e...; -1 when there is none. entrypoint
// is true when argv are args only (the image's entrypoint, often a shell).
func codeArg(argv []string, entrypoint bool) int {
	if entrypoint && len(argv) > 0 && shellFlag.MatchString(argv[0]) {
		return min(1, len(argv)-1)
	}
	for i := 0; i < len(argv); i++ {
		base := argv[i]
		if j := strings.LastIndex(base, "/"); j >= 0 {
			base = base[j+1:]
		}
		switch {
		case base == "env":
			for i+1 < len(argv) && (strings.HasPrefix(argv[i+1], "-") || strings.Contains(argv[i+1], "=")) {
				i++
			}
			continue
		case base == "kubectl" || base == "oc" || base == "docker" || base == "podman":
			for j := i + 1; j < len(argv); j++ {
				if argv[j] == "--" {
					i = j
					break
				}
			}
			continue
		case shells[base]:
			for j := i + 1; j < len(argv); j++ {
				if shellFlag.MatchString(argv[j]) && j+1 < len(argv) {
					return j + 1
				}
			}
			return -1
		}
		if flag, ok := interpreters[strings.TrimRight(base, "0123456789.")]; ok || interpreters[base] != "" {
			if !ok {
				flag = interpreters[base]
			}
			for j := i + 1; j < len(argv); j++ {
				if argv[j] == flag && j+1 < len(argv) {
					return j + 1
				}
			}
			return -1
		}
		if i == 0 {
			return -1 // some other program: its arguments are data
		}
	}
	return -1
}

// refRules reports a Task, Pipeline or StepAction reference that resolves to
// something that can move.
func refRules(r reporter, resolver string, params v1.Params, bundle string, at []any) {
	get := func(name string) (string, int) {
		for i, p := range params {
			if p.Name == name {
				return p.Value.StringVal, i
			}
		}
		return "", -1
	}
	pAt := func(i int) []any {
		if i < 0 {
			return at
		}
		return join(at, "params", i, "value")
	}
	d := r.u.doc
	if bundle != "" && !strings.Contains(bundle, "@sha256:") && !templated(bundle) {
		r.add("unpinned-ref", d.key(join(at, "bundle")...), "bundle %s is not pinned by digest", bundle)
	}
	switch resolver {
	case "git":
		rev, i := get("revision")
		switch {
		case i < 0:
			r.add("unpinned-ref", d.at(at...), "git resolver without a revision resolves the default branch at run time")
		case !commitSHA.MatchString(rev) && !templated(rev):
			r.add("unpinned-ref", d.at(pAt(i)...), "git resolver revision %q is a branch or tag, not a commit", rev)
		}
	case "http":
		if u, i := get("url"); i >= 0 && unpinnedURL(u) {
			r.add("unpinned-ref", d.at(pAt(i)...), "http resolver URL %s names a branch, not a commit", u)
		}
	case "bundles":
		if b, i := get("bundle"); i >= 0 && !strings.Contains(b, "@sha256:") && !templated(b) {
			r.add("unpinned-ref", d.at(pAt(i)...), "bundle %s is not pinned by digest", b)
		}
	case "hub":
		name, _ := get("name")
		v, i := get("version")
		if i < 0 {
			r.add("unpinned-ref", d.at(at...), "hub reference %s has no version: the latest is used at run time", name)
		} else if !templated(v) {
			r.add("unpinned-ref", d.at(pAt(i)...), "hub reference %s version %s has no digest; the hub can serve other content under it", name, v)
		}
	}
}

func unpinnedURL(u string) bool {
	if templated(u) {
		return false
	}
	if strings.Contains(u, "/refs/heads/") {
		return true
	}
	m := rawRef.FindStringSubmatch(u)
	return m != nil && !commitSHA.MatchString(m[1]+m[2])
}

// pacAnnotationRules checks Pipelines-as-Code's remote task and pipeline
// annotations: a URL on a branch, or a hub name, moves.
func pacAnnotationRules(r reporter, annotations map[string]string) {
	for k, v := range annotations {
		if !strings.HasPrefix(k, "pipelinesascode.tekton.dev/task") && k != "pipelinesascode.tekton.dev/pipeline" {
			continue
		}
		at := r.u.doc.key("metadata", "annotations", k)
		for _, item := range strings.Split(strings.Trim(strings.TrimSpace(v), "[]"), ",") {
			item = strings.Trim(strings.TrimSpace(item), `"'`)
			switch {
			case item == "" || templated(item):
			case strings.HasPrefix(item, "http://") || strings.HasPrefix(item, "https://"):
				if unpinnedURL(item) {
					r.add("unpinned-ref", at, "%s fetches %s, which names a branch, not a commit", k, item)
				}
			case strings.Contains(item, "/") || strings.HasSuffix(item, ".yaml") || strings.HasSuffix(item, ".yml"):
				// a file in the repository: reviewed with the change
			default:
				if name, ver, ok := strings.Cut(item, ":"); ok {
					r.add("unpinned-ref", at, "%s uses hub task %s version %s, fetched from the hub at run time without a digest", k, name, ver)
				} else {
					r.add("unpinned-ref", at, "%s uses hub task %s without a version: the latest is fetched at run time", k, item)
				}
			}
		}
	}
}

// untrustedSecretRefs reports envFrom Secret refs and mounted Secret volumes
// of the steps of a task that runs a pull request's code.
func untrustedSecretRefs(ts *v1.TaskSpec, report func(at []any, what string)) {
	secretVols := map[string]string{}
	for _, v := range ts.Volumes {
		if v.Secret != nil {
			secretVols[v.Name] = v.Secret.SecretName
		}
	}
	for i, s := range ts.Steps {
		for k, e := range s.EnvFrom {
			if e.SecretRef != nil {
				report([]any{"steps", i, "envFrom", k}, fmt.Sprintf("step %q reads every key of Secret %s into its environment (envFrom)", s.Name, e.SecretRef.Name))
			}
		}
		for k, m := range s.VolumeMounts {
			if name, ok := secretVols[m.Name]; ok {
				report([]any{"steps", i, "volumeMounts", k}, fmt.Sprintf("step %q mounts Secret %s (volume %q)", s.Name, name, m.Name))
			}
		}
	}
}

// moreObjectRules are the object rules added for issue 19 that do not fit
// the walks in task.go.
func moreObjectRules(r reporter) {
	stepActionRules(r)
	if pr, ok := r.u.obj.Obj.(*v1.PipelineRun); ok {
		pacAnnotationRules(r, pr.Annotations)
	}
}

// constants are the declared params whose text the caller fixes: given as a
// literal (no $(...), no Pipelines-as-Code {{...}}), as $(params.x) of a
// constant x one level up, or left to a literal default (or propagated from
// a constant one level up). Only embedded
// specs have a known caller; injection skips their constants.
func constants(given v1.Params, declared v1.ParamSpecs, up map[string]bool) map[string]bool {
	out := map[string]bool{}
	set := map[string]bool{}
	literal := func(v v1.ParamValue) bool {
		b, _ := json.Marshal(v)
		return !templated(string(b))
	}
	for _, p := range given {
		set[p.Name] = true
		if literal(p.Value) {
			out[p.Name] = true
		} else if m := imageParam.FindStringSubmatch(p.Value.StringVal); m != nil && up[m[1]] {
			out[p.Name] = true
		}
	}
	for _, d := range declared {
		if !set[d.Name] && d.Default != nil && literal(*d.Default) {
			out[d.Name] = true
		}
	}
	// Tekton propagates the params of the level above into embedded specs.
	for name := range up {
		if !set[name] {
			out[name] = true
		}
	}
	return out
}

// declaredContexts are the securityContexts of the steps a Task's root-steps
// annotation names with a reason: that declared exception, reviewed like
// code, waives privilege-escalation as it waives run-as-root.
func declaredContexts(root *yaml.Node, h head) map[*yaml.Node]bool {
	if h.Kind != "Task" {
		return nil
	}
	path := func(n *yaml.Node, p ...any) *yaml.Node {
		for _, k := range p {
			if n == nil {
				return nil
			}
			n = child(n, k)
		}
		return n
	}
	ann := path(root, "metadata", "annotations", RootStepsAnnotation)
	if ann == nil || ann.Kind != yaml.ScalarNode {
		return nil
	}
	named := map[string]bool{}
	for _, e := range strings.FieldsFunc(ann.Value, func(c rune) bool { return c == '\n' || c == ';' }) {
		if step, reason, _ := strings.Cut(e, ":"); strings.TrimSpace(reason) != "" {
			named[strings.TrimSpace(step)] = true
		}
	}
	out := map[*yaml.Node]bool{}
	steps := path(root, "spec", "steps")
	for i := 0; steps != nil && i < len(steps.Content); i++ {
		if n := path(steps, i, "name"); n != nil && named[n.Value] {
			if sc := path(steps, i, "securityContext"); sc != nil {
				out[sc] = true
			}
		}
	}
	return out
}
