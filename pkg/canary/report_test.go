package canary

import (
	"strings"
	"testing"
	"time"
)

// TestReportChart: the Markdown report draws the canary's weight and its
// success rate at each step as a Mermaid xychart; a step without a reading
// (a query error) is drawn at 0 and said so.
func TestReportChart(t *testing.T) {
	at := time.Date(2026, 12, 1, 18, 0, 0, 0, time.UTC)
	check := func(v float64, verdict Verdict) []Check {
		return []Check{{Metric: "success-rate", Value: v, Unit: "%", Verdict: verdict}, {Metric: "latency-p99", Value: 12, Unit: "ms", Verdict: Pass}}
	}
	cfg := Config{App: "shop", Image: "registry.example/shop@sha256:" + strings.Repeat("ab", 32)}
	cfg.setDefaults()
	r := &Result{Config: cfg, Outcome: RolledBack, FinalWeight: 50, Reason: "failure limit reached", Steps: []StepReport{
		{Weight: 10, Verdict: Pass, Samples: []Sample{{At: at, Checks: check(99.9, Pass), Pass: true}}},
		{Weight: 25, Verdict: Pass, Samples: []Sample{{At: at, Checks: check(99.25, Pass), Pass: true}}},
		{Weight: 50, Verdict: Fail, Samples: []Sample{
			{At: at, Checks: check(97.5, Fail)},
			{At: at, Checks: []Check{{Metric: "success-rate", Verdict: Errored, Note: "prometheus: unavailable: overloaded"}, {Metric: "latency-p99", Verdict: Errored, Note: "x"}}},
		}},
		{Weight: 100, Samples: []Sample{{At: at, Checks: []Check{{Metric: "success-rate", Verdict: Errored, Note: "down"}}}}},
	}}
	md := r.Markdown()
	want := "\n## Steps\n\n```mermaid\nxychart-beta\n" +
		"    title \"canary weight % (bars), success-rate % (line)\"\n" +
		"    x-axis \"step: weight\" [\"1: 10%\", \"2: 25%\", \"3: 50%\", \"4: 100%\"]\n" +
		"    y-axis \"percent\" 0 --> 100\n" +
		"    bar [10, 25, 50, 100]\n" +
		"    line [99.90, 99.25, 97.50, 0.00]\n" +
		"```\n\nA step without a reading of success-rate is drawn at 0.\n"
	if !strings.Contains(md, want) {
		t.Fatalf("report without the chart %q:\n%s", want, md)
	}
	if !strings.Contains(md, "| 3 | 50% | 18:00:00 | error: prometheus: unavailable: overloaded | error: x | query error |") {
		t.Errorf("the errored sample is not shown as one:\n%s", md)
	}
	if md := (&Result{Config: cfg, Outcome: Refused, Reason: "preflight"}).Markdown(); strings.Contains(md, "mermaid") {
		t.Errorf("a release without steps has a chart:\n%s", md)
	}
}
