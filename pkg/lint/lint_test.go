package lint

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

func lintPaths(t testing.TB, cfg *Config, paths ...string) []Finding {
	t.Helper()
	fs, err := Run(paths, strings.NewReader(""), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

func short(fs []Finding) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%d:%d %s", f.Line, f.Column, f.Rule))
	}
	return out
}

// TestFixtures lints each bad file alone and expects exactly these findings,
// as line:column rule.
func TestFixtures(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []string
	}{
		{"task-injection.yaml", []string{
			"14:7 unused-param",      // VERBOSE
			"19:16 unpinned-image",   // BASE_IMAGE default, used as $(params.BASE_IMAGE)
			"23:7 unwritten-result",  // status (commit is written through RESULT_COMMIT_PATH)
			"28:7 missing-resources", // step git
			"28:7 missing-run-as-non-root",
			"37:40 injection", // "$(params.GIT_USER_NAME)" in the script
			"38:9 injection",  // $(params.GIT_SCRIPT) as a script line
			"40:7 missing-resources",
			"40:7 missing-run-as-non-root",
			"41:14 latest-tag", // ubuntu, no tag
			"41:14 unpinned-image",
			"42:42 injection", // bash -c script; the $0 argument after it is not flagged
			"45:18 injection", // command[0] from a param
		}},
		{"task-privileged.yaml", []string{ // v1beta1, converted with Tekton's ConvertTo
			"13:7 run-as-root", // stepTemplate
			"16:14 unpinned-image",
			"28:9 privileged",
			"30:11 added-capabilities",
			"36:7 host-path",
		}},
		{"pipeline-wiring.yaml", []string{
			"37:7 unused-param",    // pipeline param "unused"
			"42:3 tekton-validate", // Tekton's own DAG check on runAfter: lint
			"43:7 wiring",          // test: does not bind workspace source
			"43:7 wiring",          // test: does not pass package
			"47:11 wiring",         // test: passes pkg
			"49:11 wiring",         // test: passes url
			"52:7 missing-timeout", // report
			"52:7 wiring",          // report reads results.coverge
			"53:26 run-after-missing",
		}},
		{".tekton/pull-request.yaml", []string{
			"10:3 missing-timeout",
			"16:25 secrets-in-untrusted-run", // serviceAccountName with an automounted token
			"28:11 unpinned-ref",             // hub git-clone without a version
			"47:13 secrets-in-untrusted-run", // docker-config Secret to the build task
			"58:19 secrets-in-untrusted-run", // secretKeyRef env in the build step
			// basic-auth goes to fetch-repository (git-clone), which is fine.
		}},
		{"triggers.yaml", []string{
			"10:11 webhook-secret",           // github interceptor without secretRef
			"14:22 cel-accept-all",           // pull_request without an action check
			"34:22 cel-accept-all",           // push without a ref check
			"34:22 cel-accept-all",           // filter "true"
			"39:7 webhook-secret",            // cel only
			"45:22 cel-accept-all",           // matches('.*')
			"86:13 secrets-in-untrusted-run", // EventListener PR trigger -> template -> Pipeline task test gets npmrc
			"99:32 injection",                // $(tt.params.title) in an embedded script
		}},
		{"suppressed.yaml", []string{
			"18:14 unpinned-image", // its ignore comment has no reason
			"18:26 bad-ignore",
			"26:7 bad-ignore", // unknown rule
		}},
		{"root-steps.yaml", []string{
			"6:5 bad-ignore", // ghost is not a step
			"6:5 bad-ignore", // push: no reason
			"24:9 run-as-root",
		}},
		{"tool-image.yaml", []string{ // a Task that leaves its step image to the caller
			"30:16 unpinned-image", // by-param: the pipeline param's default is a tag
			"37:18 unpinned-image", // by-tag
			// by-digest is pinned
		}},
		{"kinds.yaml", []string{ // issue 19's completeness cases
			"11:3 tekton-validate", // StepAction: Tekton refuses $(params) in its script
			"12:5 curl-pipe-shell",
			"12:62 injection",
			"15:1 removed-kind", // ClusterTask, still linted:
			"20:7 missing-resources",
			"20:7 missing-run-as-non-root",
			"23:9 privileged",
			"46:15 injection", // the "# pipewright:ignore" above it is the script's, not YAML's
			"52:14 injection", // in a folded (>) script, on its own line; step "two" overrides the merged *base
			"53:7 duplicate-key",
			"63:11 cel-accept-all", // triggers.tekton.dev/v1alpha1 github: interceptor
			"63:11 webhook-secret",
			"75:3 hardcoded-secret", // Secret stringData
			"77:1 skipped",          // Helm template
			"87:1 skipped",          // a fragment without apiVersion/kind
			"92:1 skipped",          // {{PLACEHOLDER}} where a value belongs
			// $(inputs.params.old-style) is a use; cp out/* /tekton/results/ may write digest.
		}},
		{".tekton/on-comment.yaml", []string{ // comment-triggered PaC run: untrusted
			"7:5 unpinned-ref", // annotation: raw URL on main
			"7:5 unpinned-ref", // annotation: hub git-clone, no version (the local .tekton/ file is fine)
			"13:15 pac-untrusted-param",
			"15:14 hardcoded-secret", // ghp_ token as a param value
			"18:7 host-namespace",
			"19:7 host-namespace",            // hostPID is not a Tekton podTemplate field:
			"19:7 unknown-field",             // reported, and the run is still linted leniently
			"34:22 unpinned-ref",             // git resolver revision main
			"46:22 unpinned-ref",             // http resolver refs/heads URL
			"53:22 unpinned-ref",             // bundle by tag
			"77:19 secrets-in-untrusted-run", // envFrom Secret
			"80:19 secrets-in-untrusted-run", // Secret volume mount
			"83:17 privilege-escalation",
			"84:15 on-error-continue",
			"86:30 pac-injection", // {{ source_branch }} in a script
			"87:23 pac-injection", // {{ trigger_comment }}
			"90:50 injection",     // python3 -c
			"93:61 injection",     // /usr/bin/env bash -c
			"97:63 injection",     // kubectl exec -- sh -c
			"100:26 hardcoded-secret",
			// step safe-placeholders: shas, logins, headers are not flagged
		}},
		{"v1beta1-run.yaml", []string{ // positions in v1beta1's own field names
			"7:12 missing-timeout", // timeout: "0", v1's timeouts.pipeline
			"10:7 run-as-root",     // podTemplate, v1's taskRunTemplate.podTemplate
			"32:23 injection",
		}},
		{"constant-params.yaml", []string{
			"13:15 pac-untrusted-param",
			"39:30 injection", // ref comes from {{ source_branch }}; version and mode are fixed by the run
		}},
		{"cel-when.yaml", []string{
			"14:11 tekton-validate", // CEL in when needs a feature flag (TestFeatureFlags sets it)
		}},
		{"invalid.yaml", []string{
			"7:7 missing-resources", // read leniently despite the unknown field
			"7:7 missing-run-as-non-root",
			"9:7 unknown-field",    // scirpt
			"24:7 tekton-validate", // duplicate step name
			"37:1 decode",          // YAML syntax
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got := short(lintPaths(t, nil, filepath.Join("testdata/fixtures", tc.file)))
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
		})
	}
}

// TestCorpus lints real public Tekton files (testdata/corpus, with their
// licenses) and expects exactly the findings in expected.txt, whose verdicts
// were judged by reading each file; the precision of the security rules on
// it must stay at or above 0.95 (debatable findings count as neither).
func TestCorpus(t *testing.T) {
	dir := "testdata/corpus"
	b, err := os.ReadFile(filepath.Join(dir, "expected.txt"))
	if err != nil {
		t.Fatal(err)
	}
	verdict := map[string]string{}
	var want []string
	for _, l := range strings.Split(string(b), "\n") {
		l, _, _ = strings.Cut(l, "#")
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			t.Fatalf("expected.txt: bad line %q", l)
		}
		key := f[0] + " " + f[1]
		want = append(want, key)
		verdict[key] = f[2]
	}
	var got []string
	for _, f := range lintPaths(t, nil, dir) {
		rel, err := filepath.Rel(dir, f.File)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s:%d:%d %s", filepath.ToSlash(rel), f.Line, f.Column, f.Rule))
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("corpus findings (-want +got):\n%s", d)
	}
	count := func(security bool) (tp, fp, deb int) {
		for k, v := range verdict {
			rule := strings.Fields(k)[1]
			if security && rulesByID[rule].Security == "" {
				continue
			}
			switch v {
			case "tp":
				tp++
			case "fp":
				fp++
			case "debatable":
				deb++
			}
		}
		return
	}
	tp, fp, deb := count(true)
	precision := float64(tp) / float64(tp+fp)
	t.Logf("security rules on the corpus: %d true, %d false, %d debatable: precision %.3f", tp, fp, deb, precision)
	atp, afp, adeb := count(false)
	t.Logf("all judged rules (with wiring, validation): %d true, %d false, %d debatable: precision %.3f", atp, afp, adeb, float64(atp)/float64(atp+afp))
	if tp < 40 || precision < 0.95 {
		t.Errorf("security precision %.3f over %d true positives, want >= 0.95 over at least 40", precision, tp)
	}
}

// TestOwnYAML keeps the project's committed Tekton YAML lint clean.
func TestOwnYAML(t *testing.T) {
	var paths []string
	for _, d := range []string{"tasks", "pipelines", "triggers"} {
		p := filepath.Join("..", "..", d)
		if _, err := os.Stat(p); err == nil {
			paths = append(paths, p)
		}
	}
	if len(paths) == 0 {
		t.Fatal("no tasks/, pipelines/ or triggers/ found")
	}
	for _, f := range lintPaths(t, nil, paths...) {
		t.Error(f)
	}
}

func TestSARIFValidatesAgainstSchema(t *testing.T) {
	findings := lintPaths(t, nil, "testdata/fixtures")
	if len(findings) < 30 {
		t.Fatalf("got %d findings from the fixtures, want them all", len(findings))
	}
	var buf bytes.Buffer
	if err := Write(&buf, "sarif", findings); err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	sch, err := c.Compile("testdata/sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(doc); err != nil {
		t.Fatalf("SARIF does not validate: %v", err)
	}
	// The schema is really checked: a wrong level must be rejected.
	bad, _ := jsonschema.UnmarshalJSON(strings.NewReader(strings.Replace(buf.String(), `"level": "error"`, `"level": "fatal"`, 1)))
	if sch.Validate(bad) == nil {
		t.Fatal("schema accepted level \"fatal\"")
	}
	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Rules []struct {
						ID         string `json:"id"`
						Help       struct{ Text string }
						Properties map[string]any `json:"properties"`
					}
				}
			}
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex int    `json:"ruleIndex"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }
						Region           struct{ StartLine int }
					}
				}
			}
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	run := log.Runs[0]
	if len(run.Results) != len(findings) {
		t.Fatalf("%d results for %d findings", len(run.Results), len(findings))
	}
	for i, r := range run.Results {
		rule := run.Tool.Driver.Rules[r.RuleIndex]
		if r.RuleID != "pipewright/"+findings[i].Rule || rule.ID != r.RuleID {
			t.Errorf("result %d: ruleId %s, rules[%d] %s, finding %s", i, r.RuleID, r.RuleIndex, rule.ID, findings[i].Rule)
		}
		loc := r.Locations[0].PhysicalLocation
		if loc.Region.StartLine != findings[i].Line || strings.Contains(loc.ArtifactLocation.URI, `\`) {
			t.Errorf("result %d: location %+v, finding %s", i, loc, findings[i])
		}
	}
	for _, rule := range run.Tool.Driver.Rules {
		r, _ := Lookup(rule.ID)
		if _, has := rule.Properties["security-severity"]; has != (r.Security != "") || rule.Help.Text == "" {
			t.Errorf("rule %s: properties %v, help %q", rule.ID, rule.Properties, rule.Help.Text)
		}
	}
}

var update = flag.Bool("update", false, "rewrite golden files")

// TestRulesDoc keeps docs/lint-rules.md, which SARIF's helpUri names, equal
// to the rules.
func TestRulesDoc(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "lint-rules.md")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(RulesMarkdown()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(RulesMarkdown(), string(b)); d != "" {
		t.Errorf("%s is stale (go test ./pkg/lint -run TestRulesDoc -update):\n%s", path, d)
	}
	for _, r := range Rules {
		if !strings.Contains(string(b), `<a id="`+r.ID+`"></a>`) {
			t.Errorf("no anchor for %s", r.ID)
		}
	}
}

// TestSARIFTracking checks what code scanning needs to track alerts: the
// same fingerprints on a second run and after lines move, repository-relative
// URIs under %SRCROOT%, the driver's version and each rule's helpUri.
func TestSARIFTracking(t *testing.T) {
	fps := func(data []byte) []string {
		t.Helper()
		var buf bytes.Buffer
		fs, err := Run([]string{"-"}, bytes.NewReader(data), nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := Write(&buf, "sarif", fs); err != nil {
			t.Fatal(err)
		}
		var log sarifLog
		if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range log.Runs[0].Results {
			out = append(out, r.PartialFingerprints["pipewright/v1"])
		}
		return out
	}
	b, err := os.ReadFile("testdata/fixtures/task-injection.yaml")
	if err != nil {
		t.Fatal(err)
	}
	first := fps(b)
	if len(first) < 5 || !slices.Equal(first, fps(b)) {
		t.Fatalf("fingerprints differ between runs or are missing: %v", first)
	}
	moved := fps(append([]byte("# a comment that moves every line\n\n"), b...))
	if !slices.Equal(first, moved) {
		t.Errorf("fingerprints change when lines move:\n%v\n%v", first, moved)
	}
	if len(slices.Compact(slices.Sorted(slices.Values(first)))) != len(first) {
		t.Errorf("fingerprints repeat: %v", first)
	}

	log := sarifReport(LintReport([]Input{{Path: "testdata/fixtures/task-injection.yaml", Data: b}}, nil))
	run := log.Runs[0]
	loc := run.Results[0].Locations[0].PhysicalLocation.ArtifactLocation
	if loc.URIBaseID != srcRoot || loc.URI != "pkg/lint/testdata/fixtures/task-injection.yaml" {
		t.Errorf("artifact location %+v, want pkg/lint/... under %s", loc, srcRoot)
	}
	if base := run.OriginalURIBaseIDs[srcRoot].URI; !strings.HasPrefix(base, "file:///") || !strings.HasSuffix(base, "/") {
		t.Errorf("originalUriBaseIds %q", base)
	}
	if run.Tool.Driver.Version == "" || len(run.Invocations) != 1 || !run.Invocations[0].ExecutionSuccessful {
		t.Errorf("driver version %q, invocations %+v", run.Tool.Driver.Version, run.Invocations)
	}
	for _, r := range run.Tool.Driver.Rules {
		if r.HelpURI != HelpURI(strings.TrimPrefix(r.ID, "pipewright/")) {
			t.Errorf("rule %s helpUri %q", r.ID, r.HelpURI)
		}
	}
}

func TestJSONFormat(t *testing.T) {
	var buf bytes.Buffer
	fs := lintPaths(t, nil, "testdata/fixtures/task-privileged.yaml")
	if err := Write(&buf, "json", fs); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"file": "testdata/fixtures/task-privileged.yaml", "line": 28.0, "column": 9.0, "rule": "privileged",
		"severity": "error", "message": `step "build" runs privileged`, "fix": rulesByID["privileged"].Fix,
	}
	if d := cmp.Diff(want, got[2]); d != "" {
		t.Errorf("third finding (-want +got):\n%s", d)
	}
}

func TestHumanFormat(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, "human", lintPaths(t, nil, "testdata/fixtures/task-privileged.yaml")); err != nil {
		t.Fatal(err)
	}
	first := strings.SplitN(buf.String(), "\n", 2)[0]
	if want := "testdata/fixtures/task-privileged.yaml:13:7: warning run-as-root: stepTemplate runs as root (runAsUser: 0)"; first != want {
		t.Errorf("got %q, want %q", first, want)
	}
}

func TestConfig(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, ConfigFile)
	write := func(s string) {
		if err := os.WriteFile(cfgPath, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(`disable: [missing-resources, missing-run-as-non-root]
ignore:
  - path: "**/task-injection.yaml"
    rules: [injection]
    reason: the fixture is meant to be bad
`)
	cfg, err := LoadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg.dir = "." // paths below are relative to the package folder
	got := short(lintPaths(t, cfg, "testdata/fixtures/task-injection.yaml"))
	want := []string{"14:7 unused-param", "19:16 unpinned-image", "23:7 unwritten-result", "41:14 latest-tag", "41:14 unpinned-image"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}

	// An absolute path in ignore matches the file wherever lint runs from.
	abs, err := filepath.Abs("testdata/fixtures/task-injection.yaml")
	if err != nil {
		t.Fatal(err)
	}
	write("ignore:\n  - path: " + abs + "\n    reason: fixture\n")
	if cfg, err = LoadConfig(cfgPath); err != nil {
		t.Fatal(err)
	}
	if got := lintPaths(t, cfg, "testdata/fixtures/task-injection.yaml"); len(got) != 0 {
		t.Errorf("absolute ignore path: %v", got)
	}

	for _, bad := range []string{
		"ignore:\n  - path: x\n", // no reason
		"disable: [nope]\n",
		"disabel: [injection]\n",
	} {
		write(bad)
		if _, err := LoadConfig(cfgPath); err == nil {
			t.Errorf("config %q: no error", bad)
		}
	}
}

func TestFeatureFlags(t *testing.T) {
	cfg := &Config{}
	if err := cfg.SetFeatureFlags(map[string]string{"enable-cel-in-whenexpression": "true"}); err != nil {
		t.Fatal(err)
	}
	if got := lintPaths(t, cfg, "testdata/fixtures/cel-when.yaml"); len(got) != 0 {
		t.Errorf("with the flag declared: %v", got)
	}
	if err := (&Config{}).SetFeatureFlags(map[string]string{"enable-api-fields": "nope"}); err == nil {
		t.Error("a bad flag value is accepted")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, ConfigFile)
	if err := os.WriteFile(path, []byte("featureFlags:\n  enable-cel-in-whenexpression: \"true\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := lintPaths(t, cfg, "testdata/fixtures/cel-when.yaml"); len(got) != 0 {
		t.Errorf("with featureFlags in the config: %v", got)
	}
	if _, err := ParseFeatureFlags("enable-api-fields"); err == nil {
		t.Error("ParseFeatureFlags accepts a flag without a value")
	}
}

// TestSkippedAndSummary: a kustomize patch and a dangling symlink are
// counted, not linted and not fatal.
func TestSkippedAndSummary(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"kustomization.yaml", "task.yaml", "patch.yaml"} {
		b, err := os.ReadFile(filepath.Join("testdata/kustomize", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(dir, "gone.yaml"), filepath.Join(dir, "dangling.yaml")); err != nil {
		t.Fatal(err)
	}
	rep, err := RunReport([]string{dir, "testdata/fixtures/kinds.yaml"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Findings {
		if strings.HasPrefix(f.File, dir) {
			t.Errorf("finding in the kustomize folder: %v", f)
		}
	}
	want := "lint: 2 files, 6 objects (1 ClusterTask, 1 EventListener, 1 Secret, 1 StepAction, 2 Task); " +
		"skipped 3 documents (1 not a Kubernetes object, 2 templated YAML); skipped 2 files (1 kustomize patch, 1 unreadable)"
	if got := rep.Summary.String(); got != want {
		t.Errorf("summary\n got %s\nwant %s", got, want)
	}
}

// TestIgnoreOnlyYAMLComments: "# pipewright:ignore" in a script, a quoted
// string or glued to a value is text, not a suppression.
func TestIgnoreOnlyYAMLComments(t *testing.T) {
	data := []byte(`apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: t
spec:
  params:
    - name: x
      description: "see # pipewright:ignore injection in quotes"
  steps:
    - name: a # pipewright:ignore unpinned-image the caller pins it
      image: alpine
      script: |
        # pipewright:ignore injection a shell comment
        echo $(params.x)
    - name: b
      image: alpine@sha256:beefed2d3a7a3b48e4a0a1e0e1b1b0c3e0e1b1b0c3e0e1b1b0c3e0e1b1b0c3e0
      args: ["x#pipewright:ignore injection glued"]
`)
	docs := splitDocuments(data)
	ig := parseIgnores("t.yaml", data, docs)
	if len(ig.spans) != 1 || ig.spans[0].from != 10 || !ig.spans[0].rules["unpinned-image"] {
		t.Errorf("spans %+v, want one from line 10 for unpinned-image", ig.spans)
	}
	if !yamlComment("  - a # c", 6) || yamlComment(`  v: "a # c"`, 9) || yamlComment("  v: a#c", 8) {
		t.Error("yamlComment misjudges")
	}
}

// TestValidationReuse: copies of a Task under other names get the same
// validation findings from the reused result, and a copy with an invalid
// name still gets its own.
func TestValidationReuse(t *testing.T) {
	b, err := os.ReadFile("testdata/fixtures/invalid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var in []Input
	for i, name := range []string{"copy-a", "copy-b", "Bad_Name"} {
		in = append(in, Input{Path: fmt.Sprintf("%d.yaml", i), Data: bytes.Replace(b, []byte("name: duplicate-steps"), []byte("name: "+name), 1)})
	}
	count := map[string]int{}
	for _, f := range Lint(in, nil) {
		if f.Rule == "tekton-validate" {
			count[f.File]++
		}
	}
	if count["0.yaml"] == 0 || count["1.yaml"] != count["0.yaml"] || count["2.yaml"] != count["0.yaml"]+1 {
		t.Errorf("tekton-validate findings per copy: %v (want equal, and one more for the bad name)", count)
	}
}

func TestStdinAndMultiDocument(t *testing.T) {
	b, err := os.ReadFile("testdata/fixtures/pipeline-wiring.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fs, err := Run([]string{"-"}, bytes.NewReader(b), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 9 || fs[0].File != "-" || fs[0].Line != 37 {
		t.Errorf("got %v", fs)
	}
}

func TestRules(t *testing.T) {
	for _, r := range Rules {
		if r.Short == "" || r.Explain == "" || r.Fix == "" {
			t.Errorf("rule %s lacks text", r.ID)
		}
		got, err := Lookup("pipewright/" + r.ID)
		if err != nil || got.ID != r.ID {
			t.Errorf("Lookup(%s) = %v, %v", r.ID, got, err)
		}
		if !strings.Contains(r.ExplainText(), r.Fix) {
			t.Errorf("explain %s lacks the fix", r.ID)
		}
	}
	if _, err := Lookup("nope"); err == nil {
		t.Error("Lookup(nope): no error")
	}
}

// BenchmarkLint1000Tasks lints 1,000 Task files (the catalog's Tasks, renamed)
// read from disk, as `pipewright lint dir` does.
func BenchmarkLint1000Tasks(b *testing.B) {
	src, err := filepath.Glob("../../tasks/*/*/*.yaml")
	if err != nil || len(src) == 0 {
		b.Fatalf("no catalog tasks: %v", err)
	}
	var orig []Input
	for _, f := range src {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		orig = append(orig, Input{Path: f, Data: data})
	}
	// Each copy must find what its original finds (so the work is real).
	want := 0
	for _, f := range Lint(orig, nil) {
		copies := 1000 / len(src) // task-i.yaml is a copy of src[i%len(src)]
		if slices.Index(src, f.File) < 1000%len(src) {
			copies++
		}
		want += copies
	}
	dir := b.TempDir()
	for i := 0; i < 1000; i++ {
		data, err := os.ReadFile(src[i%len(src)])
		if err != nil {
			b.Fatal(err)
		}
		data = bytes.Replace(data, []byte("\n  name: "), []byte(fmt.Sprintf("\n  name: t%d-", i)), 1)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("task-%04d.yaml", i)), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	// Other work on a shared machine stretches wall time; CPU time per run
	// (cpu-s/op) divided by the cores is what an idle machine would take.
	// peak-x is the most heap in use during a run, over what was in use
	// before it, as a multiple of the input's size.
	inputBytes := 0
	cpu0 := cpuSeconds(b)
	peak := 0.0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		base := ms.HeapInuse
		stop := make(chan struct{})
		done := make(chan uint64)
		go func() {
			var top uint64
			t := time.NewTicker(5 * time.Millisecond)
			defer t.Stop()
			for {
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				top = max(top, m.HeapInuse)
				select {
				case <-stop:
					done <- top
					return
				case <-t.C:
				}
			}
		}()
		in, err := Collect([]string{dir}, nil)
		if err != nil || len(in) != 1000 {
			b.Fatalf("collected %d files: %v", len(in), err)
		}
		inputBytes = 0
		for _, f := range in {
			inputBytes += len(f.Data)
		}
		// As the CLI runs it.
		if fs := Lint(in, &Config{MemoryBudget: 2}); len(fs) != want {
			b.Fatalf("got %d findings, want %d", len(fs), want)
		}
		close(stop)
		top := <-done
		peak = max(peak, float64(top-min(top, base))/float64(inputBytes))
	}
	b.StopTimer()
	b.ReportMetric((cpuSeconds(b)-cpu0)/float64(b.N), "cpu-s/op")
	b.ReportMetric(peak, "peak-x")
	b.ReportMetric(float64(inputBytes)/1e6, "input-MB")
}

func cpuSeconds(b *testing.B) float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// TestPrivilegeEscalationDeclared: a root-steps entry with a reason waives
// privilege-escalation for that step only (the catalog's BuildKit step is
// one); an entry without a reason, or another step, waives nothing.
func TestPrivilegeEscalationDeclared(t *testing.T) {
	task := func(annotation string) string {
		return `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: t
  annotations:
    pipewright.dev/root-steps: "` + annotation + `"
spec:
  steps:
    - name: build
      image: alpine@sha256:beefed2d3a7a3b48e4a0a1e0e1b1b0c3e0e1b1b0c3e0e1b1b0c3e0e1b1b0c3e0
      securityContext: {allowPrivilegeEscalation: true, runAsNonRoot: true, runAsUser: 1000}
      script: echo build
    - name: other
      image: alpine@sha256:beefed2d3a7a3b48e4a0a1e0e1b1b0c3e0e1b1b0c3e0e1b1b0c3e0e1b1b0c3e0
      securityContext: {allowPrivilegeEscalation: true, runAsNonRoot: true, runAsUser: 1000}
      script: echo other
`
	}
	for _, tc := range []struct {
		annotation string
		want       []int // lines of privilege-escalation findings
	}{
		{"build: newuidmap needs it", []int{15}},
		{"build", []int{11, 15}},
		{"nobody: reason", []int{11, 15}},
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, "t.yaml")
		if err := os.WriteFile(path, []byte(task(tc.annotation)), 0o644); err != nil {
			t.Fatal(err)
		}
		var got []int
		for _, f := range lintPaths(t, &Config{}, path) {
			if f.Rule == "privilege-escalation" {
				got = append(got, f.Line)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("root-steps %q: privilege-escalation at lines %v, want %v", tc.annotation, got, tc.want)
		}
	}
}

// TestChangedFilesLookupIsNoVerifier: Triggers' github interceptor that only
// adds the changed files (after the signature check) needs no secretRef; a
// trigger whose only github interceptor is that lookup still verifies
// nothing.
func TestChangedFilesLookupIsNoVerifier(t *testing.T) {
	trigger := func(verify string) string {
		return `apiVersion: triggers.tekton.dev/v1beta1
kind: Trigger
metadata:
  name: api
spec:
  interceptors:
` + verify + `    - ref: {name: cel}
      params:
        - name: filter
          value: body.action in ['opened'] && body.pull_request.base.ref == 'main'
    - ref: {name: github}
      params:
        - name: addChangedFiles
          value: {enabled: true}
  bindings:
    - ref: api
  template:
    ref: api
`
	}
	verified := `    - ref: {name: github}
      params:
        - name: secretRef
          value: {secretName: hook, secretKey: secret}
        - name: eventTypes
          value: [pull_request]
`
	for in, want := range map[string]string{trigger(verified): "", trigger(""): "has no github, gitlab or bitbucket interceptor with a secretRef"} {
		fs, err := Run([]string{"-"}, strings.NewReader(in), nil)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range fs {
			if f.Rule == "webhook-secret" {
				got = append(got, f.Message)
			}
		}
		if (want == "") != (len(got) == 0) || want != "" && !strings.Contains(strings.Join(got, "\n"), want) {
			t.Errorf("webhook-secret findings %q, want %q", got, want)
		}
	}
}
