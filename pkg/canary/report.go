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

// ResultFiles are the paths the outcome is written to, e.g. a Tekton step's
// $(results.outcome.path); empty paths are skipped.
type ResultFiles struct {
	Outcome, FinalWeight, Summary, Report string
}

// Write writes r's outcome, final weight, one-line summary and Markdown
// report to the paths in f.
func (f ResultFiles) Write(r *Result) error {
	for _, w := range []struct{ path, content string }{
		{f.Outcome, string(r.Outcome)},
		{f.FinalWeight, fmt.Sprint(r.FinalWeight)},
		{f.Summary, r.Summary()},
		{f.Report, r.Markdown()},
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
