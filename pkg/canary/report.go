package canary

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Markdown is the analysis report a reviewer reads to see why the release
// was promoted or rolled back.
func (r *Result) Markdown() string {
	if r.Controller != "" {
		return r.controllerMarkdown()
	}
	var b strings.Builder
	c := r.Config
	fmt.Fprintf(&b, "# Canary release of %s: %s\n\n", c.App, r.Outcome)
	fmt.Fprintf(&b, "- image: `%s`\n", c.Image)
	fmt.Fprintf(&b, "- outcome: **%s** (final canary weight %d%%)\n", r.Outcome, r.FinalWeight)
	if r.Reason != "" {
		fmt.Fprintf(&b, "- reason: %s\n", r.Reason)
	}
	fmt.Fprintf(&b, "- steps: %s; a sample every %s, %d passing per step; rollback at %d failures\n",
		ints(c.Steps), c.Interval, c.Samples, c.FailureLimit)
	fmt.Fprintf(&b, "- worst-case time to rollback %s, minimum time to promote %s; this release took %s\n",
		c.WorstCaseRollback(), c.MinimumPromote(), r.Duration.Round(time.Second))
	if r.Resumed {
		b.WriteString("- resumed from the progress kept on the cluster\n")
	}
	if r.RetryReason != "" {
		fmt.Fprintf(&b, "- released again after a rollback of the same digest, because: %s\n", r.RetryReason)
	}
	b.WriteString(r.chart())
	b.WriteString("\n## Metrics\n\n| metric | bound | query |\n|---|---|---|\n")
	for _, m := range c.Metrics {
		q, err := m.render(m.vars(newVars(c, "canary")))
		if err != nil {
			q = m.Query
		}
		fmt.Fprintf(&b, "| %s | %s | `%s` |\n", m.Name, m.bound(), strings.ReplaceAll(q, "|", `\|`))
	}
	b.WriteString("\n## Samples\n\n| step | weight | time | ")
	for _, m := range c.Metrics {
		b.WriteString(m.Name + " | ")
	}
	b.WriteString("sample |\n|---|---|---|")
	for range c.Metrics {
		b.WriteString("---|")
	}
	b.WriteString("---|\n")
	for i, st := range r.Steps {
		for _, s := range st.Samples {
			fmt.Fprintf(&b, "| %d | %d%% | %s | ", i+1, st.Weight, s.At.UTC().Format("15:04:05"))
			for j := range c.Metrics {
				if j < len(s.Checks) {
					ch := s.Checks[j]
					switch ch.Verdict {
					case NoData:
						b.WriteString(strings.TrimSuffix("no data, "+ch.Note, ", ") + " | ")
					case Errored:
						fmt.Fprintf(&b, "error: %.80s | ", strings.ReplaceAll(ch.Note, "|", `\|`))
					default:
						fmt.Fprintf(&b, "%s%s %s | ", formatValue(ch.Value), ch.Unit, ch.Verdict)
					}
				} else {
					b.WriteString("— | ")
				}
			}
			verdict := "pass"
			switch {
			case s.errored():
				verdict = "query error"
			case !s.Pass:
				verdict = "fail"
			}
			fmt.Fprintf(&b, "%s |\n", verdict)
		}
	}
	return b.String()
}

func (r *Result) controllerSummary() string {
	switch r.Outcome {
	case Promoted:
		s := fmt.Sprintf("promoted %s by %s (%s) in %s", r.Config.Image, r.Controller, r.Object, r.Duration.Round(time.Second))
		if ws := r.weightsSeen(); len(ws) > 0 {
			s += "; canary weights seen " + strings.Join(ws, "→")
		}
		return s
	case RolledBack:
		return fmt.Sprintf("rolled back %s at %d%% canary traffic: %s", r.Config.Image, r.FinalWeight, r.Reason)
	}
	return fmt.Sprintf("timed out: %s was neither promoted nor rolled back (%d%% canary traffic): %s", r.Config.Image, r.FinalWeight, r.Reason)
}

// weightsSeen are the distinct canary weights the controller reported for
// this release, in order.
func (r *Result) weightsSeen() []string {
	var ws []string
	last := -1
	for _, o := range r.Timeline {
		if o.Stale || o.Verdict != "" || o.Weight <= 0 || o.Weight == last {
			continue
		}
		ws = append(ws, fmt.Sprintf("%d%%", o.Weight))
		last = o.Weight
	}
	return ws
}

// controllerMarkdown is the report of a release a controller ran: what it
// said at each change of its status.
func (r *Result) controllerMarkdown() string {
	var b strings.Builder
	c := r.Config
	fmt.Fprintf(&b, "# Canary release of %s: %s\n\n", c.App, r.Outcome)
	fmt.Fprintf(&b, "- image: `%s`\n", c.Image)
	fmt.Fprintf(&b, "- released by: %s, following `%s`; the steps and the analysis are %s's own\n", r.Controller, r.Object, r.Controller)
	fmt.Fprintf(&b, "- outcome: **%s** (final canary weight %d%%)\n", r.Outcome, r.FinalWeight)
	if r.Reason != "" {
		fmt.Fprintf(&b, "- reason: %s\n", r.Reason)
	}
	fmt.Fprintf(&b, "- waited up to %s, reading the status every %s; this release took %s\n", r.Deadline, r.Poll, r.Duration.Round(time.Second))
	if r.Resumed {
		b.WriteString("- the workload already had the image when this run started\n")
	}
	fmt.Fprintf(&b, "\n## %s status\n\n| time | phase | canary weight | detail |\n|---|---|---|---|\n", r.Controller)
	for _, o := range r.Timeline {
		w := "—"
		if o.Weight >= 0 {
			w = fmt.Sprintf("%d%%", o.Weight)
		}
		d := o.Detail
		if o.Stale {
			d = strings.TrimSpace("previous revision's status. " + d)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", o.At.UTC().Format("15:04:05"), o.Phase, w, strings.ReplaceAll(d, "|", `\|`))
	}
	return b.String()
}

// ResultFiles are the paths the outcome is written to, e.g. a Tekton step's
// $(results.outcome.path); empty paths are skipped.
type ResultFiles struct {
	Outcome, FinalWeight, Summary, Report string
}

// Write writes r's Markdown report, one-line summary, final weight and
// outcome to the paths in f. The outcome goes last: a reader that sees it
// (a pipeline's finally) never sees it without the rest, and a failed
// write never leaves an outcome that contradicts the exit status.
func (f ResultFiles) Write(r *Result) error {
	for _, w := range []struct{ path, content string }{
		{f.Report, r.Markdown()},
		{f.Summary, r.Summary()},
		{f.FinalWeight, fmt.Sprint(r.FinalWeight)},
		{f.Outcome, string(r.Outcome)},
	} {
		if w.path == "" {
			continue
		}
		if err := os.WriteFile(w.path, []byte(w.content), 0o644); err != nil {
			return fmt.Errorf("writing result: %w", err)
		}
	}
	return nil
}

func (s Sample) errored() bool {
	for _, c := range s.Checks {
		if c.Verdict == Errored {
			return true
		}
	}
	return false
}

// chart is a Mermaid xychart (GitHub renders it in the report) of the
// canary's weight (bars) and success rate (line) at each step, so a
// reader sees the release at a glance; empty before the first step. The
// success rate is the step's last reading of the first metric bounded
// below in percent; a step without one shows 0.
func (r *Result) chart() string {
	if len(r.Steps) == 0 {
		return ""
	}
	rate := -1
	for i, m := range r.Config.Metrics {
		if m.Min != nil && m.Unit == "%" {
			rate = i
			break
		}
	}
	var xs, ws, rs []string
	missing := false
	for i, st := range r.Steps {
		xs = append(xs, fmt.Sprintf(`"%d: %d%%"`, i+1, st.Weight))
		ws = append(ws, fmt.Sprint(st.Weight))
		if rate < 0 {
			continue
		}
		v, ok := 0.0, false
		for _, s := range st.Samples {
			if rate < len(s.Checks) && (s.Checks[rate].Verdict == Pass || s.Checks[rate].Verdict == Fail) {
				v, ok = min(max(s.Checks[rate].Value, 0), 100), true
			}
		}
		missing = missing || !ok
		rs = append(rs, strconv.FormatFloat(v, 'f', 2, 64))
	}
	var b strings.Builder
	title := "canary weight % (bars)"
	if rate >= 0 {
		title += ", " + r.Config.Metrics[rate].Name + " % (line)"
	}
	fmt.Fprintf(&b, "\n## Steps\n\n```mermaid\nxychart-beta\n    title \"%s\"\n", title)
	fmt.Fprintf(&b, "    x-axis \"step: weight\" [%s]\n", strings.Join(xs, ", "))
	b.WriteString("    y-axis \"percent\" 0 --> 100\n")
	fmt.Fprintf(&b, "    bar [%s]\n", strings.Join(ws, ", "))
	if rate >= 0 {
		fmt.Fprintf(&b, "    line [%s]\n", strings.Join(rs, ", "))
	}
	b.WriteString("```\n")
	if missing {
		b.WriteString("\nA step without a reading of " + r.Config.Metrics[rate].Name + " is drawn at 0.\n")
	}
	return b.String()
}
