package tekton

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	sigsyaml "sigs.k8s.io/yaml"
)

func TestSplit(t *testing.T) {
	in := "# header comment\n---\na: 1\n--- # the second\nb: 2\n---\n# only a comment\n---   \n\nc: 3\n----\nd: 4\n"
	type doc struct {
		Index, Line int
		Text        string
	}
	var got []doc
	for _, d := range Split([]byte(in)) {
		got = append(got, doc{d.Index, d.Line, string(d.Text)})
	}
	want := []doc{
		{0, 3, "a: 1\n"},
		{1, 5, "b: 2\n"},
		{2, 9, "\nc: 3\n----\nd: 4\n"}, // "----" is not a separator
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Split (-want +got):\n%s", d)
	}
}

func TestDecodeErrorsAreValues(t *testing.T) {
	_, err := Decode("f.yaml", []byte("apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: t\nspec:\n  steps:\n  - name: s\n    image: x\n    scirpt: echo\n"))
	var de *DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("error %v is not a *DecodeError", err)
	}
	if de.File != "f.yaml" || de.Kind != "Task" || de.Name != "t" || FieldName(de.Field) != "scirpt" || de.Line != 1 {
		t.Errorf("DecodeError = %+v", de)
	}
}

func TestValidationErrorEntries(t *testing.T) {
	objs, err := Decode("f.yaml", []byte("apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: t\nspec:\n  steps:\n  - name: s\n    image: x\n    script: echo\n  - name: s\n    image: x\n    script: echo\n"))
	if err != nil {
		t.Fatal(err)
	}
	var ve *ValidationError
	if err := Validate(objs[0]); !errors.As(err, &ve) {
		t.Fatalf("Validate = %v, want a *ValidationError", err)
	}
	entries := ve.Entries()
	if len(entries) != 1 || entries[0].Severity != Error || len(entries[0].Fields) == 0 || !strings.HasPrefix(entries[0].Fields[0], "spec.steps[") {
		t.Errorf("entries = %+v", entries)
	}
	if !strings.HasPrefix(ve.Error(), "f.yaml Task/t: ") {
		t.Errorf("Error() = %q", ve.Error())
	}
}

// wiringOf decodes a Pipeline and its Tasks and returns the wiring issues
// as "severity field: message".
func wiringOf(t *testing.T, yaml string) []string {
	t.Helper()
	objs, err := Decode("p.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if err := Validate(o); err != nil {
			t.Fatal(err)
		}
	}
	var out []string
	for _, is := range Wiring(objs) {
		out = append(out, is.Severity.String()+" "+is.Field()+": "+is.Message)
	}
	return out
}

const task = `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: build
spec:
  params:
  - name: package
  - name: flags
    default: ""
  workspaces:
  - name: source
  results:
  - name: digest
  steps:
  - name: build
    image: x@sha256:0000000000000000000000000000000000000000000000000000000000000000
    script: echo $(params.package) $(params.flags) $(workspaces.source.path)
---
`

func TestWiringFollowsTektonsRules(t *testing.T) {
	for _, tc := range []struct {
		name, pipeline string
		want           []string
	}{
		{"an extra param is a warning, a missing one an error", `
  workspaces: [{name: ws}]
  tasks:
  - name: b
    taskRef: {name: build}
    params: [{name: pakage, value: x}]
    workspaces: [{name: source, workspace: ws}]`, []string{
			`warning spec.tasks[0].params[0]: passes param "pakage", which task build does not declare (it declares: flags, package); Tekton ignores it`,
			`error spec.tasks[0]: does not pass param "package", which task build requires`,
		}},
		{"matrix params count as given", `
  workspaces: [{name: ws}]
  tasks:
  - name: b
    taskRef: {name: build}
    matrix:
      params: [{name: package, value: [a, b]}]
    workspaces: [{name: source, workspace: ws}]`, nil},
		{"a binding the Task does not declare fails the run; a missing one too", `
  workspaces: [{name: ws}]
  tasks:
  - name: b
    taskRef: {name: build}
    params: [{name: package, value: x}]
    workspaces: [{name: cache, workspace: ws}]`, []string{
			`error spec.tasks[0].workspaces[0]: binds workspace "cache", which task build does not declare (it declares: source)`,
			`error spec.tasks[0]: does not bind workspace "source", which task build requires`,
		}},
		{"embedded specs get params and workspaces propagated", `
  params: [{name: greeting}, {name: who}]
  workspaces: [{name: source}]
  tasks:
  - name: e
    params: [{name: who, value: me}]
    workspaces: [{name: extra, workspace: source}]
    taskSpec:
      workspaces: [{name: source}]
      steps:
      - name: s
        image: x@sha256:0000000000000000000000000000000000000000000000000000000000000000
        script: echo $(params.greeting) $(params.who) $(workspaces.source.path) $(workspaces.extra.path)`, nil},
		{"an embedded spec's extra param it does not read is still a likely typo", `
  tasks:
  - name: e
    params: [{name: unused, value: me}]
    taskSpec:
      steps:
      - name: s
        image: x@sha256:0000000000000000000000000000000000000000000000000000000000000000
        script: echo`, []string{
			`warning spec.tasks[0].params[0]: passes param "unused", which embedded taskSpec does not declare (it declares: none); Tekton ignores it`,
		}},
		{"a result nobody declares", `
  workspaces: [{name: ws}]
  tasks:
  - name: b
    taskRef: {name: build}
    params: [{name: package, value: x}]
    workspaces: [{name: source, workspace: ws}]
  results:
  - name: d
    value: $(tasks.b.results.digets)`, []string{
			`error spec.results[0]: reads $(tasks.b.results.digets), but task build (pipeline task "b") has no result "digets" (it has: digest)`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := wiringOf(t, task+"apiVersion: tekton.dev/v1\nkind: Pipeline\nmetadata:\n  name: p\nspec:"+tc.pipeline+"\n")
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("wiring (-want +got):\n%s", d)
			}
		})
	}
}

func TestWiringInPipelineRunSpec(t *testing.T) {
	objs, err := Decode("r.yaml", []byte(task+`apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  generateName: r-
spec:
  pipelineSpec:
    tasks:
    - name: b
      taskRef: {name: build}
`))
	if err != nil {
		t.Fatal(err)
	}
	issues := Wiring(objs)
	if len(issues) != 2 {
		t.Fatalf("issues: %v", issues)
	}
	is := issues[0]
	if is.Kind != "PipelineRun" || is.Object != "r-" || is.File != "r.yaml" || is.Field() != "spec.pipelineSpec.tasks[0]" {
		t.Errorf("issue = %+v", is)
	}
	if want := `r.yaml: pipeline r-, pipeline task "b" (task build): does not pass param "package", which task build requires`; is.Error() != want {
		t.Errorf("Error() = %q, want %q", is.Error(), want)
	}
}

func TestMarshalIsDeterministic(t *testing.T) {
	task := &v1.Task{}
	task.APIVersion, task.Kind, task.Name = "tekton.dev/v1", "Task", "t"
	task.Spec.Steps = []v1.Step{{Name: "s", Image: "x", Script: "#!/bin/sh\necho\n"}}
	task.Spec.Params = []v1.ParamSpec{{Name: "p", Default: v1.NewStructuredValues("")}}
	want := "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: t\nspec:\n  params:\n    - name: p\n      default: \"\"\n  steps:\n    - name: s\n      image: x\n      script: |\n        #!/bin/sh\n        echo\n"
	for range 3 {
		b, err := Marshal(task)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != want {
			t.Fatalf("Marshal:\n%s\nwant:\n%s", b, want)
		}
	}
}

// Resource templates decode leniently, v1beta1 converted, so the rules see
// runs whose fields hold $(tt.params.x); a value that cannot fit its type
// gives nil, not a partial object.
func TestDecodeLenient(t *testing.T) {
	pr, ok := DecodeLenient([]byte(`{"apiVersion": "tekton.dev/v1beta1", "kind": "PipelineRun", "metadata": {"generateName": "r-"}, "spec": {"serviceAccountName": "$(tt.params.sa)", "pipelineRef": {"name": "p"}, "extra": 1}}`)).(*v1.PipelineRun)
	if !ok || pr.GenerateName != "r-" || pr.Spec.TaskRunTemplate.ServiceAccountName != "$(tt.params.sa)" {
		t.Errorf("DecodeLenient = %+v", pr)
	}
	if got := DecodeLenient([]byte(`{"apiVersion": "tekton.dev/v1", "kind": "PipelineRun", "spec": {"timeouts": {"pipeline": "$(tt.params.t)"}}}`)); got != nil {
		t.Errorf("a param where a duration belongs decoded to %+v", got)
	}
	if got := DecodeLenient([]byte(`{"apiVersion": "v1", "kind": "ConfigMap"}`)); got != nil {
		t.Errorf("an unlisted kind decoded to %+v", got)
	}
}

// TestDecodeParsesOnceAsBefore: decoding from the JSON the YAML converts to
// keeps what decoding the YAML into the type did: a number where a string
// goes is that string, a duplicate key and an unknown field are errors
// naming the object.
func TestDecodeParsesOnceAsBefore(t *testing.T) {
	objs, err := Decode("t.yaml", []byte("apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: t\n  labels:\n    version: 1\nspec:\n  steps:\n  - name: s\n    image: alpine\n"))
	if err != nil {
		t.Fatal(err)
	}
	if task := objs[0].Obj.(*v1.Task); task.Labels["version"] != "1" || task.Spec.Steps[0].Image != "alpine" {
		t.Fatalf("decoded %+v", task)
	}
	for in, want := range map[string]string{
		"apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: t\nspec:\n  stepz: []\n":                    `t.yaml: Task t: error unmarshaling JSON: while decoding JSON: json: unknown field "stepz"`,
		"apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: t\n  name: u\nspec: {}\n":                   `t.yaml: Task u: error converting YAML to JSON: yaml: unmarshal errors:`,
		"apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: t\nspec:\n  steps: [{name: s, image: 3}]\n": "",
	} {
		_, err := Decode("t.yaml", []byte(in))
		if want == "" {
			if err != nil {
				t.Errorf("%q: %v", in, err)
			}
			continue
		}
		var de *DecodeError
		if !errors.As(err, &de) || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q: got %v, want %s…", in, err, want)
		}
	}
}

// TestEmitIsYAMLv3: the fast emitter writes what yaml.v3 writes, for every
// committed YAML file of the repository and for scalars yaml.v3 quotes,
// folds into blocks or leaves plain, at every depth and place.
func TestEmitIsYAMLv3(t *testing.T) {
	var values []any
	committedYAML(t, func(p string, data []byte) error {
		for _, doc := range Split(data) {
			j, err := sigsyaml.YAMLToJSON(doc.Text)
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			dec := json.NewDecoder(bytes.NewReader(j))
			dec.UseNumber()
			var v any
			if err := dec.Decode(&v); err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			values = append(values, v)
		}
		return nil
	})
	if len(values) < 50 {
		t.Fatalf("only %d documents found", len(values))
	}
	tricky := []string{"", "true", "false", "1", "1.5", "-2", "1e3", "0x1F", "0o17", "null", "~", "yes", "on", "Y", "2001-12-14",
		"a: b", "a:b", "- x", "#x", "x #y", " lead", "trail ", "multi\nline", "multi\nline\n", "ends\n\n", "a\n\nb\n", "  indented\nfirst",
		"tab\there", "ünïcödé ✓", "'quote", "\"dq", "@at", "`bt", "%p", "*star", "&amp", "!bang", "{", "[x]", ">", "|", "?", ":",
		"crlf\r\nline", "True", "NULL", "Yes", "oN", "y", "N", "inf", "nan", "e3", "x1", "a.b/c_d-e", "ghcr.io/acme/x", "Infinity", "No.", "a..b", "a//b", "x-", "z_", "abc-1.25.0", "trailing space \nline", strings.Repeat("long ", 40), "$(params.x)", "a\tb\n\tc\n", "\n", "\nstarts", "- - -"}
	for i, s := range tricky {
		nested := map[string]any{"k": s, "list": []any{s, map[string]any{"in": s, "deeper": []any{s, map[string]any{"x": s}}}}}
		values = append(values, map[string]any{"top": s, "n": json.Number(fmt.Sprint(i)), "b": i%2 == 0, "m": nested, "empty": map[string]any{}, "s": []any{s, s}})
		if s != "" && !strings.ContainsAny(s, "\r\n") {
			// As keys (yaml.v3 writes a key of more than 128 characters
			// as "? key": left to it).
			values = append(values, map[string]any{s: map[string]any{s + "-key": []any{map[string]any{s: s}}}})
		}
	}
	fast := 0
	for i, v := range values {
		v, _ = prune(v)
		want, err := encodeV3(v)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if !emit(&b, v, 0, ctxTop) {
			continue // left to yaml.v3
		}
		fast++
		if got := b.String(); got != string(want) {
			t.Errorf("document %d:\n got %q\nwant %q", i, got, want)
		}
	}
	if fast < len(values)-3 {
		t.Errorf("the fast emitter wrote %d of %d documents", fast, len(values))
	}
}

// TestDecodeOfRenderedIsDecodeOfYAML: decoding bytes Marshal wrote (from
// the JSON they were written from) gives what parsing their YAML gives,
// for every object of the committed YAML files.
func TestDecodeOfRenderedIsDecodeOfYAML(t *testing.T) {
	n := 0
	committedYAML(t, func(p string, data []byte) error {
		objs, err := Decode(p, data)
		if err != nil {
			return err
		}
		for _, o := range objs {
			if o.Obj == nil {
				continue
			}
			y, err := Marshal(o.Obj)
			if err != nil {
				return err
			}
			fromJSON, err := Decode(p, y)
			if err != nil {
				return err
			}
			// A comment makes other bytes, which Marshal did not
			// write: their YAML is parsed.
			fromYAML, err := Decode(p, append([]byte("# parsed\n"), y...))
			if err != nil {
				return err
			}
			if diff := cmp.Diff(fromYAML[0].Obj, fromJSON[0].Obj); diff != "" {
				t.Errorf("%s %s/%s decodes otherwise from its YAML (-) than from its JSON (+):\n%s", p, o.Kind, o.Name, diff)
			}
			n++
		}
		return nil
	})
	if n < 50 {
		t.Fatalf("only %d objects compared", n)
	}
}

// committedYAML calls f with every committed YAML file of the catalog and
// the examples.
func committedYAML(t *testing.T, f func(path string, data []byte) error) {
	t.Helper()
	for _, dir := range []string{"../../tasks", "../../pipelines", "../../triggers", "../../examples"} {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return f(p, data)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestCacheStartsOver: a cache holds at most its max entries.
func TestCacheStartsOver(t *testing.T) {
	c := &cache{max: 2}
	c.Store("a", 1)
	c.Store("b", 2)
	if _, ok := c.Load("a"); !ok {
		t.Fatal("a is gone before the cache is full")
	}
	c.Store("c", 3)
	_, a := c.Load("a")
	_, cc := c.Load("c")
	if a || !cc {
		t.Errorf("after a third entry: a kept %v, c kept %v; want the cache started over with c", a, cc)
	}
}
