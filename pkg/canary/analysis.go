package canary

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"text/template"
)

// Metric is one check run at every sample: a PromQL query templated on the
// canary (see QueryVars) and the bound its value must keep.
type Metric struct {
	Name  string
	Query string // text/template over QueryVars
	// Min is a lower bound (success rate), Max an upper bound (latency);
	// set exactly one.
	Min, Max *float64
	Unit     string // for reports: "%", "ms"
}

// QueryVars is what a Metric's query template sees.
type QueryVars struct {
	App, Namespace, Track string
	Window                string // Prometheus duration for rate(), e.g. "1m"
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
	NoData Verdict = "no data" // empty result or NaN: cannot judge, counts as a failure
)

// Check is one metric's value at one sample.
type Check struct {
	Metric  string
	Value   float64 // meaningless when Verdict is NoData
	Bound   string  // "≥ 99%"
	Unit    string
	Verdict Verdict
}

func (c Check) String() string {
	if c.Verdict == NoData {
		return fmt.Sprintf("%s=no data (want %s)", c.Metric, c.Bound)
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

// render expands m's query for vars.
func (m Metric) render(vars QueryVars) (string, error) {
	t, err := template.New(m.Name).Option("missingkey=error").Parse(m.Query)
	if err != nil {
		return "", fmt.Errorf("metric %s: query template: %w", m.Name, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, vars); err != nil {
		return "", fmt.Errorf("metric %s: query template: %w (hint: the template sees .App, .Namespace, .Track and .Window)", m.Name, err)
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
	if _, err := m.render(QueryVars{}); err != nil {
		return err
	}
	return nil
}

// evaluate runs m once. Only errors that make judging impossible for good
// are returned (as *AbortError); no data is a Check with Verdict NoData.
func (m Metric) evaluate(ctx context.Context, prom *Prometheus, vars QueryVars) (Check, error) {
	c := Check{Metric: m.Name, Bound: m.bound(), Unit: m.Unit}
	q, err := m.render(vars)
	if err != nil {
		return c, &AbortError{Metric: m.Name, Err: err}
	}
	v, err := prom.Query(ctx, q)
	switch {
	case errors.Is(err, ErrNoData):
		c.Verdict = NoData
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
