package canary

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"text/template"
	"time"
)

// Metric is one check run at every sample: a PromQL query templated on the
// canary (see QueryVars) and the bound its value must keep.
type Metric struct {
	Name  string
	Query string // text/template over QueryVars
	// Min is a lower bound (success rate), Max an upper bound (latency);
	// set exactly one.
	Min, Max *float64
	Unit     string // for reports: "%", "ms"; "%" thresholds are 0..100
	// Interval is the range of this metric's rate() (its .Window and
	// .Interval); zero: the release's window.
	Interval time.Duration
}

// QueryVars is what a Metric's query template sees.
type QueryVars struct {
	App, Namespace, Track string
	// Canary and Stable are the Deployments (and Services) of the two
	// versions: <app>-canary and <app>.
	Canary, Stable string
	Window         string // Prometheus duration for rate(), e.g. "1m"
	Interval       string // the same as Window, by Flagger's name
}

// newVars are the query variables of the release's track.
func newVars(cfg Config, track string) QueryVars {
	return QueryVars{App: cfg.App, Namespace: cfg.Namespace, Track: track, Canary: CanaryName(cfg.App), Stable: cfg.App,
		Window: cfg.Window, Interval: cfg.Window}
}

// DefaultMetrics are the request success rate (>= 99 %) and the p99 latency
// (<= 500 ms) of the canary track, from the conventional
// http_requests_total and http_request_duration_seconds metrics labelled
// app and track.
func DefaultMetrics() []Metric {
	return []Metric{
		{
			Name: "success-rate",
			Query: `100 * sum(rate(http_requests_total{app="{{.App}}",track="{{.Track}}",code!~"5.."}[{{.Window}}]))` +
				` / sum(rate(http_requests_total{app="{{.App}}",track="{{.Track}}"}[{{.Window}}]))`,
			Min: ptr(99), Unit: "%",
		},
		{
			Name:  "latency-p99",
			Query: `1000 * histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{app="{{.App}}",track="{{.Track}}"}[{{.Window}}])))`,
			Max:   ptr(500), Unit: "ms",
		},
	}
}

func ptr(f float64) *float64 { return &f }

// Verdict is the state of one metric at one sample.
type Verdict string

const (
	Pass   Verdict = "pass"
	Fail   Verdict = "fail"    // value beyond its threshold
	NoData Verdict = "no data" // empty result, NaN or ±Inf: cannot judge, counts as a failure
	// Errored: the query failed in a way that may pass (Prometheus down,
	// overloaded, restarting). Neither a pass nor a failure: it counts
	// towards the consecutive-error limit instead.
	Errored Verdict = "error"
)

// Check is one metric's value at one sample.
type Check struct {
	Metric  string
	Value   float64 // meaningless when Verdict is NoData
	Bound   string  // "≥ 99%"
	Unit    string
	Verdict Verdict
	Note    string // NoData: the non-finite value if any; Errored: the error
}

func (c Check) String() string {
	switch {
	case c.Verdict == NoData && c.Note != "":
		return fmt.Sprintf("%s=no data, %s (want %s)", c.Metric, c.Note, c.Bound)
	case c.Verdict == NoData:
		return fmt.Sprintf("%s=no data (want %s)", c.Metric, c.Bound)
	case c.Verdict == Errored:
		return fmt.Sprintf("%s=query error: %s", c.Metric, c.Note)
	case c.Note != "":
		return fmt.Sprintf("%s: %s (want %s) %s", c.Metric, c.Note, c.Bound, c.Verdict)
	}
	return fmt.Sprintf("%s=%s%s (want %s) %s", c.Metric, formatValue(c.Value), c.Unit, c.Bound, c.Verdict)
}

func formatValue(v float64) string {
	if math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// AbortError ends the analysis at once: the metrics cannot be read at all
// (Prometheus unreachable past its retry budget, a query it refuses, a
// timeout). The release rolls back.
type AbortError struct {
	Metric string
	Err    error
}

func (e *AbortError) Error() string { return fmt.Sprintf("metric %s: %v", e.Metric, e.Err) }
func (e *AbortError) Unwrap() error { return e.Err }

// vars are what m's query sees at one sample.
func (m Metric) vars(v QueryVars) QueryVars {
	if m.Interval > 0 {
		v.Window = promDuration(m.Interval)
		v.Interval = v.Window
	}
	return v
}

// render expands m's query for vars.
func (m Metric) render(vars QueryVars) (string, error) {
	t, err := template.New(m.Name).Option("missingkey=error").Parse(m.Query)
	if err != nil {
		return "", fmt.Errorf("metric %s: query template: %w", m.Name, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, vars); err != nil {
		return "", fmt.Errorf("metric %s: query template: %w (hint: the template sees .App, .Canary, .Stable, .Namespace, .Track, .Window and .Interval)", m.Name, err)
	}
	return b.String(), nil
}

func (m Metric) bound() string {
	if m.Min != nil {
		return "≥ " + strconv.FormatFloat(*m.Min, 'f', -1, 64) + m.Unit
	}
	return "≤ " + strconv.FormatFloat(*m.Max, 'f', -1, 64) + m.Unit
}

func (m Metric) validate() error {
	if m.Name == "" {
		return errors.New("metric without a name")
	}
	if (m.Min == nil) == (m.Max == nil) {
		return fmt.Errorf("metric %s: set exactly one of min and max", m.Name)
	}
	for _, b := range []*float64{m.Min, m.Max} {
		if b == nil {
			continue
		}
		if math.IsNaN(*b) || math.IsInf(*b, 0) {
			return fmt.Errorf("metric %s: threshold %v is not a number", m.Name, *b)
		}
		if m.Unit == "%" && (*b < 0 || *b > 100) {
			return fmt.Errorf("metric %s: threshold %v%%: want a percentage from 0 to 100", m.Name, *b)
		}
		if m.Unit == "ms" && *b < 0 {
			return fmt.Errorf("metric %s: threshold %vms: a duration is not negative", m.Name, *b)
		}
	}
	if _, err := m.render(QueryVars{}); err != nil {
		return err
	}
	return nil
}

// evaluate runs m once. Only errors that make judging impossible for good
// are returned (as *AbortError); no data is a Check with Verdict NoData, and
// an error that may pass (Transient) one with Verdict Errored.
func (m Metric) evaluate(ctx context.Context, prom *Prometheus, vars QueryVars) (Check, error) {
	c := Check{Metric: m.Name, Bound: m.bound(), Unit: m.Unit}
	q, err := m.render(vars)
	if err != nil {
		return c, &AbortError{Metric: m.Name, Err: err}
	}
	v, err := prom.Query(ctx, q)
	var nf *NotFiniteError
	switch {
	case errors.As(err, &nf):
		c.Verdict, c.Note = NoData, "the value is "+nf.Value
		return c, nil
	case errors.Is(err, ErrNoData):
		c.Verdict = NoData
		return c, nil
	case err != nil && Transient(err) && ctx.Err() == nil:
		c.Verdict, c.Note = Errored, err.Error()
		return c, nil
	case err != nil:
		return c, &AbortError{Metric: m.Name, Err: fmt.Errorf("%w (query: %s)", err, q)}
	}
	c.Value = v
	c.Verdict = Pass
	if (m.Min != nil && !(v >= *m.Min)) || (m.Max != nil && !(v <= *m.Max)) {
		c.Verdict = Fail
	}
	return c, nil
}
