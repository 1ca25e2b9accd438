package github

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	gogithub "github.com/google/go-github/v62/github"
	"github.com/pipewright/pipewright/pkg/boundedio"
)

// TaskOutcome is one pipeline task and how it ended, in the words of
// Tekton's $(tasks.<name>.status), which a finally task receives.
type TaskOutcome struct {
	Name    string
	Outcome string // Succeeded, Failed or None (did not run)
	// Duration is how long the task's step ran; 0 when unknown.
	Duration time.Duration
}

var outcomes = map[string]string{"succeeded": "Succeeded", "failed": "Failed", "none": "None"}

// ParseTasks reads NAME=OUTCOME pairs such as "test=Failed".
func ParseTasks(pairs []string) ([]TaskOutcome, error) {
	var out []TaskOutcome
	seen := map[string]bool{}
	for _, p := range pairs {
		name, outcome, ok := strings.Cut(p, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("task %s: want NAME=OUTCOME, e.g. test=$(tasks.test.status)", boundedio.Quote(p))
		}
		canon, ok := outcomes[strings.ToLower(outcome)]
		if !ok {
			return nil, fmt.Errorf("task %s: outcome %s is not Succeeded, Failed or None (Tekton's $(tasks.%s.status))", boundedio.Short(name), boundedio.Quote(outcome), boundedio.Short(name))
		}
		if seen[name] {
			return nil, fmt.Errorf("task %s: given twice", name)
		}
		seen[name] = true
		out = append(out, TaskOutcome{Name: name, Outcome: canon})
	}
	return out, nil
}

// Annotation is one problem a tool reported at a place in the source.
type Annotation struct {
	Path    string // relative to the repository root
	Line    int
	Column  int // 0 when the tool gave none
	Message string
}

// problemRE matches compiler and linter lines: file:line:col: message, or
// file:line: message. The path has no colon or space, which keeps URLs and
// prose out.
// Leading blanks are allowed: go test indents a failing test's lines.
var problemRE = regexp.MustCompile(`^[ \t]*([^\s:]+):(\d+):(?:(\d+):)?\s*(\S.*)$`)

// ParseAnnotations collects the file:line[:col]: message lines of r and
// ignores the rest. strip is removed from the front of each path (e.g. the
// workspace path the task ran in); a leading "./" always is.
func ParseAnnotations(r io.Reader, strip string) ([]Annotation, error) {
	var out []Annotation
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		m := problemRE.FindStringSubmatch(strings.TrimRight(sc.Text(), "\r"))
		if m == nil {
			continue
		}
		path := strings.TrimPrefix(m[1], strip)
		path = strings.TrimPrefix(strings.TrimPrefix(path, "/"), "./")
		line, err := strconv.Atoi(m[2])
		if err != nil || line < 1 {
			continue
		}
		col, _ := strconv.Atoi(m[3])
		out = append(out, Annotation{Path: path, Line: line, Column: col, Message: m[4]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("annotations: %w", err)
	}
	return out, nil
}

// CheckRun is the pipeline's check run on one commit.
type CheckRun struct {
	Repo        string // OWNER/NAME
	SHA         string // the head sha
	Name        string // the check's name; one run per name and sha
	State       string // pending (in progress), success, failure or error
	DetailsURL  string // optional, e.g. the PipelineRun's dashboard page
	Title       string // optional; counted from Tasks when empty
	Tasks       []TaskOutcome
	Annotations []Annotation
	// Logs are the last lines of failed tasks, shown under the table.
	Logs []TaskLog
}

// TaskLog is the end of one task's output.
type TaskLog struct {
	Name, Tail string
}

// CheckRunResult says what SetCheckRun did.
type CheckRunResult struct {
	ID      int64
	Created bool // false: an existing run for the sha and name was updated
}

const (
	// annotationsPerRequest is GitHub's limit; more go in follow-up updates,
	// which GitHub appends.
	annotationsPerRequest = 50
	// maxAnnotations bounds the requests one report makes.
	maxAnnotations = 250
)

// SetCheckRun creates the check run r, or updates the one already on r.SHA
// with r.Name, so a re-run pipeline reports on the same line. Check runs need
// a GitHub App installation token.
func (c *Client) SetCheckRun(ctx context.Context, r CheckRun) (CheckRunResult, error) {
	owner, repo, err := splitRepo(r.Repo)
	if err != nil {
		return CheckRunResult{}, err
	}
	if err := checkSHA(r.SHA); err != nil {
		return CheckRunResult{}, err
	}
	if r.Name == "" {
		return CheckRunResult{}, fmt.Errorf("check run name is empty: pass --check-run NAME")
	}
	if !states[r.State] {
		return CheckRunResult{}, fmt.Errorf("state %s: want pending, success, failure or error", boundedio.Quote(r.State))
	}
	status, conclusion := "completed", "failure"
	switch r.State {
	case "pending":
		status, conclusion = "in_progress", ""
	case "success":
		conclusion = "success"
	}
	anns := r.Annotations
	dropped := 0
	if len(anns) > maxAnnotations {
		dropped = len(anns) - maxAnnotations
		anns = anns[:maxAnnotations]
	}
	title := r.Title
	if title == "" {
		title = countTitle(r.Tasks, r.State)
	}
	summary := Summary(r.Tasks) + logSections(r.Logs)
	if dropped > 0 {
		summary += fmt.Sprintf("\n%d more problems are not annotated; see the task's log.\n", dropped)
	}
	output := func(batch []Annotation) *gogithub.CheckRunOutput {
		return &gogithub.CheckRunOutput{Title: &title, Summary: &summary, Annotations: toGitHub(batch)}
	}
	first, rest := batches(anns)
	notFound := "unknown repository or sha, or the token cannot see the repository"

	existing, err := c.findCheckRun(ctx, owner, repo, r.SHA, r.Name)
	if err != nil {
		return CheckRunResult{}, explainChecks(err, notFound)
	}
	res := CheckRunResult{}
	if existing == 0 {
		opts := gogithub.CreateCheckRunOptions{
			Name: r.Name, HeadSHA: r.SHA, Status: &status, Output: output(first),
			DetailsURL: optional(r.DetailsURL), Conclusion: optional(conclusion),
		}
		run, _, err := c.gh.Checks.CreateCheckRun(ctx, owner, repo, opts)
		if err != nil {
			return CheckRunResult{}, explainChecks(err, notFound)
		}
		res = CheckRunResult{ID: run.GetID(), Created: true}
	} else {
		opts := gogithub.UpdateCheckRunOptions{
			Name: r.Name, Status: &status, Output: output(first),
			DetailsURL: optional(r.DetailsURL), Conclusion: optional(conclusion),
		}
		if _, _, err := c.gh.Checks.UpdateCheckRun(ctx, owner, repo, existing, opts); err != nil {
			return CheckRunResult{}, explainChecks(err, notFound)
		}
		res = CheckRunResult{ID: existing}
	}
	for _, b := range rest {
		opts := gogithub.UpdateCheckRunOptions{Name: r.Name, Output: output(b)}
		if _, _, err := c.gh.Checks.UpdateCheckRun(ctx, owner, repo, res.ID, opts); err != nil {
			return res, fmt.Errorf("adding annotations: %w", explainChecks(err, notFound))
		}
	}
	return res, nil
}

// findCheckRun returns the newest check run named name on sha, or 0.
func (c *Client) findCheckRun(ctx context.Context, owner, repo, sha, name string) (int64, error) {
	list, _, err := c.gh.Checks.ListCheckRunsForRef(ctx, owner, repo, sha, &gogithub.ListCheckRunsOptions{CheckName: &name})
	if err != nil {
		return 0, err
	}
	var id int64
	for _, run := range list.CheckRuns {
		if run.GetName() == name && run.GetHeadSHA() == sha && run.GetID() > id {
			id = run.GetID()
		}
	}
	return id, nil
}

// explainChecks adds the usual cause of a 403 on the checks API.
func explainChecks(err error, notFound string) error {
	err = explain(err, notFound)
	if strings.Contains(err.Error(), "HTTP 403") {
		return fmt.Errorf("%w (check runs need a GitHub App installation token with checks:write)", err)
	}
	return err
}

func batches(anns []Annotation) ([]Annotation, [][]Annotation) {
	if len(anns) <= annotationsPerRequest {
		return anns, nil
	}
	first := anns[:annotationsPerRequest]
	var rest [][]Annotation
	for i := annotationsPerRequest; i < len(anns); i += annotationsPerRequest {
		rest = append(rest, anns[i:min(i+annotationsPerRequest, len(anns))])
	}
	return first, rest
}

func toGitHub(anns []Annotation) []*gogithub.CheckRunAnnotation {
	var out []*gogithub.CheckRunAnnotation
	for _, a := range anns {
		ga := &gogithub.CheckRunAnnotation{
			Path:            gogithub.String(a.Path),
			StartLine:       gogithub.Int(a.Line),
			EndLine:         gogithub.Int(a.Line),
			AnnotationLevel: gogithub.String("failure"),
			Message:         gogithub.String(a.Message),
		}
		// GitHub takes columns only for a one-line annotation, which these are.
		if a.Column > 0 {
			ga.StartColumn, ga.EndColumn = gogithub.Int(a.Column), gogithub.Int(a.Column)
		}
		out = append(out, ga)
	}
	return out
}

var marks = map[string]string{"Succeeded": "✅", "Failed": "❌", "None": "⏭️"}

// Summary is the Markdown table of the pipeline's tasks and their outcomes,
// in the order given.
func Summary(tasks []TaskOutcome) string {
	if len(tasks) == 0 {
		return "No task outcomes were reported.\n"
	}
	var b strings.Builder
	b.WriteString("| Task | Outcome | Duration |\n| --- | --- | --- |\n")
	for _, t := range tasks {
		outcome := t.Outcome
		if t.Outcome == "None" {
			outcome = "None (did not run)"
		}
		d := "—"
		if t.Duration > 0 {
			d = t.Duration.Round(time.Second).String()
		}
		fmt.Fprintf(&b, "| %s | %s %s | %s |\n", strings.ReplaceAll(t.Name, "|", `\|`), marks[t.Outcome], outcome, d)
	}
	return b.String()
}

// maxSummary is GitHub's limit on a check run's summary, in characters;
// logs are cut to fit under it.
const maxSummary = 65535

// logSections shows each log in a fenced block longer than any run of
// backticks in it, so the log cannot end the block and inject Markdown.
func logSections(logs []TaskLog) string {
	var b strings.Builder
	for _, l := range logs {
		fence := "```"
		for strings.Contains(l.Tail, fence) {
			fence += "`"
		}
		fmt.Fprintf(&b, "\n**%s**: last lines of its output\n\n%s\n%s\n%s\n", strings.ReplaceAll(l.Name, "*", `\*`), fence, strings.TrimRight(l.Tail, "\n"), fence)
	}
	out := b.String()
	if len(out) > maxSummary-4096 {
		out = string([]rune(out[:maxSummary-4096])) + "\n…(cut)\n"
	}
	return out
}

// countTitle sums the outcomes up, e.g. "1 failed, 2 succeeded".
func countTitle(tasks []TaskOutcome, state string) string {
	n := map[string]int{}
	for _, t := range tasks {
		n[t.Outcome]++
	}
	var parts []string
	for _, o := range []struct{ key, word string }{{"Failed", "failed"}, {"Succeeded", "succeeded"}, {"None", "did not run"}} {
		if n[o.key] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[o.key], o.word))
		}
	}
	if len(parts) == 0 {
		return "Pipeline " + state
	}
	return strings.Join(parts, ", ")
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
