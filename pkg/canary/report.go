package canary

import (
	"fmt"
	"os"
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
	b.WriteString("\n## Metrics\n\n| metric | bound | query |\n|---|---|---|\n")
	for _, m := range c.Metrics {
		q, err := m.render(QueryVars{App: c.App, Namespace: c.Namespace, Track: "canary", Window: c.Window})
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
					if ch.Verdict == NoData {
						b.WriteString("no data | ")
					} else {
						fmt.Fprintf(&b, "%s%s %s | ", formatValue(ch.Value), ch.Unit, ch.Verdict)
					}
				} else {
					b.WriteString("— | ")
				}
			}
			verdict := "pass"
			if !s.Pass {
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
