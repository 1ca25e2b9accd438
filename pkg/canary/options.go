package canary

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
)

// Options are the canary command's flags, one field per flag, and the rules
// between them: which apply to which strategy, and what values are refused
// before anything is deployed. The CLI binds them and calls Resolve; the
// same rules check a config's deploy.canary (CheckPrometheusURL,
// ParseMetrics, ParseWebhooks).
type Options struct {
	Config  Config
	Cluster Cluster
	Files   ResultFiles
	Prom    Prometheus

	SuccessQuery, LatencyQuery string
	SuccessMin, LatencyMax     float64
	Metrics                    string // JSON list of MetricSpec; empty: the built-in two
	Webhooks                   string // JSON list of WebhookSpec
	// IgnoreUnused accepts flags the strategy does not read, naming them
	// on Warn, for Tasks, which pass every param.
	IgnoreUnused bool
	Warn         io.Writer
}

// NewOptions are the options with every default (the flags' defaults).
func NewOptions() *Options {
	return &Options{
		Config: Config{
			Namespace: "default", Steps: DefaultStepsList(), Interval: DefaultInterval, Samples: DefaultSamples,
			FailureLimit: DefaultFailureLimit, ConsecutiveErrorLimit: DefaultConsecutiveErrorLimit,
		},
		Cluster:    Cluster{Strategy: StrategyPipewright, Router: DefaultRouter, Deadline: DefaultDeadline, VerdictDeadline: DefaultVerdictDeadline},
		Prom:       Prometheus{URL: DefaultPrometheus, Timeout: DefaultQueryTimeout, Attempts: DefaultQueryAttempts, Backoff: DefaultQueryBackoff},
		SuccessMin: DefaultSuccessRate, LatencyMax: float64(DefaultLatencyP99 / time.Millisecond),
	}
}

// Flags that only one kind of strategy reads; given with the other they
// would silently do nothing.
var (
	BuiltInFlags = []string{"steps", "interval", "samples", "failure-limit", "consecutive-error-limit", "window", "prometheus",
		"query-timeout", "query-attempts", "query-backoff", "success-rate", "latency-p99", "success-query",
		"latency-query", "metrics", "webhooks", "router", "route", "stable-service", "canary-service", "deadline", "retry-reason"}
	ControllerFlags = []string{"object", "verdict-deadline"}
	// builtInMetricFlags set the two built-in metrics, which --metrics
	// replaces.
	builtInMetricFlags = []string{"success-rate", "latency-p99", "success-query", "latency-query"}
)

// Resolve applies the rules to the flags given (changed says whether a
// flag was set on the command line) and returns the release's settings.
// Every refusal happens here, before a cluster is looked for.
func (o *Options) Resolve(changed func(flag string) bool) (Config, Cluster, error) {
	warn := o.Warn
	if warn == nil {
		warn = io.Discard
	}
	unused := func(names []string, strategy, hint string) error {
		var ignored []string
		for _, n := range names {
			if !changed(n) {
				continue
			}
			if !o.IgnoreUnused {
				return fmt.Errorf("--%s does not apply to --strategy %s (%s)", n, strategy, hint)
			}
			ignored = append(ignored, "--"+n)
		}
		if len(ignored) > 0 {
			fmt.Fprintf(warn, "canary: not used by --strategy %s, ignored: %s\n", strategy, strings.Join(ignored, " "))
		}
		return nil
	}
	cfg, cl := o.Config, o.Cluster
	switch cl.Strategy {
	case StrategyPipewright:
		if err := unused(ControllerFlags, cl.Strategy, "it is for flagger and argo-rollouts"); err != nil {
			return cfg, cl, err
		}
	case StrategyFlagger:
		if err := unused(BuiltInFlags, cl.Strategy, "Flagger's steps and analysis are in the Canary's spec.analysis"); err != nil {
			return cfg, cl, err
		}
		return cfg, cl, cfg.validateTarget()
	case StrategyArgoRollouts:
		if err := unused(BuiltInFlags, cl.Strategy, "Argo Rollouts' steps and analysis are in the Rollout's spec.strategy"); err != nil {
			return cfg, cl, err
		}
		return cfg, cl, cfg.validateTarget()
	default:
		return cfg, cl, fmt.Errorf("--strategy %q: want %s, %s or %s", cl.Strategy, StrategyPipewright, StrategyFlagger, StrategyArgoRollouts)
	}

	if err := cfg.validateTarget(); err != nil {
		return cfg, cl, err
	}
	// Zero means "the default" in a Config; on the command line it is a
	// value, and these have none that makes sense.
	for _, c := range []struct {
		flag  string
		value int
		hint  string
	}{
		{"failure-limit", cfg.FailureLimit, "1 rolls back at the first failing sample"},
		{"samples", cfg.Samples, "at least one passing sample per step"},
		{"consecutive-error-limit", cfg.ConsecutiveErrorLimit, "1 tolerates one query error in a row"},
		{"query-attempts", o.Prom.Attempts, "1 asks once"},
	} {
		if c.value < 1 && (changed(c.flag) || c.value < 0) {
			return cfg, cl, fmt.Errorf("--%s %d: at least 1 (hint: %s)", c.flag, c.value, c.hint)
		}
	}
	for _, d := range []struct {
		flag  string
		value time.Duration
	}{{"interval", cfg.Interval}, {"query-timeout", o.Prom.Timeout}, {"query-backoff", o.Prom.Backoff}, {"deadline", cl.Deadline}} {
		if d.value < 0 || d.flag == "interval" && d.value == 0 {
			return cfg, cl, fmt.Errorf("--%s %s: want a positive duration (hint: 30s, 1m)", d.flag, d.value)
		}
	}
	if err := CheckPrometheusURL(o.Prom.URL); err != nil {
		return cfg, cl, fmt.Errorf("--prometheus: %w (hint: %s)", err, DefaultPrometheus)
	}

	if o.Metrics != "" {
		var set []string
		for _, n := range builtInMetricFlags {
			if changed(n) {
				set = append(set, "--"+n)
			}
		}
		switch {
		case len(set) > 0 && !o.IgnoreUnused:
			return cfg, cl, fmt.Errorf("%s: --metrics replaces the built-in metrics (hint: put the thresholds in --metrics)", strings.Join(set, " "))
		case len(set) > 0:
			fmt.Fprintf(warn, "canary: --metrics replaces the built-in metrics, ignored: %s\n", strings.Join(set, " "))
		}
		ms, err := ParseMetrics(o.Metrics)
		if err != nil {
			return cfg, cl, fmt.Errorf("--metrics: %w", err)
		}
		cfg.Metrics = ms
	} else {
		if err := checkPercent("--success-rate", o.SuccessMin); err != nil {
			return cfg, cl, err
		}
		if o.LatencyMax < 0 || math.IsNaN(o.LatencyMax) || math.IsInf(o.LatencyMax, 0) {
			return cfg, cl, fmt.Errorf("--latency-p99 %v: want milliseconds, 0 or more", o.LatencyMax)
		}
		ms := DefaultMetrics()
		ms[0].Min, ms[1].Max = ptr(o.SuccessMin), ptr(o.LatencyMax)
		if o.SuccessQuery != "" {
			ms[0].Query = o.SuccessQuery
		}
		if o.LatencyQuery != "" {
			ms[1].Query = o.LatencyQuery
		}
		cfg.Metrics = ms
	}
	if o.Webhooks != "" {
		hs, err := ParseWebhooks(o.Webhooks)
		if err != nil {
			return cfg, cl, fmt.Errorf("--webhooks: %w", err)
		}
		cfg.Webhooks = hs
	}
	prom := o.Prom
	cfg.Prometheus = &prom
	check := cfg
	check.setDefaults()
	return cfg, cl, check.validate()
}

// CheckPrometheusURL refuses what is not an http(s) base URL with a host.
func CheckPrometheusURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case s == "":
		return errors.New("no URL")
	case err != nil:
		return fmt.Errorf("%.100q is not a URL: %v", s, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%.100q: want an http or https URL", s)
	case u.Host == "" || u.Hostname() == "":
		return fmt.Errorf("%.100q has no host", s)
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return fmt.Errorf("%.100q: want a base URL without query, fragment or credentials", s)
	}
	return nil
}

// CheckImage refuses an image that is not pinned by digest: a tag could
// point at another image by the time the canary is promoted.
func CheckImage(image string) error {
	if _, err := name.NewDigest(image); err != nil {
		return fmt.Errorf("%.200q is not pinned by digest (REPO@sha256:<64 hex>): %v", image, err)
	}
	return nil
}

func checkPercent(what string, v float64) error {
	if !(v >= 0 && v <= 100) {
		return fmt.Errorf("%s %v: want a percentage from 0 to 100", what, v)
	}
	return nil
}

// MetricSpec is one analysis metric as the config and --metrics write it,
// in the manner of Flagger's metrics: a PromQL template, a threshold and
// which side of it passes.
type MetricSpec struct {
	Name string `json:"name"`
	// Query is a text/template over QueryVars: {{ .App }}, {{ .Canary }},
	// {{ .Stable }}, {{ .Namespace }}, {{ .Track }}, {{ .Interval }}.
	Query     string  `json:"query"`
	Threshold float64 `json:"threshold"`
	// Direction: min (the value must stay at or above the threshold) or
	// max (at or below).
	Direction string `json:"direction"`
	// Interval is the range of the query's rate() ({{ .Interval }}); empty:
	// the release's window.
	Interval string `json:"interval,omitempty"`
	Unit     string `json:"unit,omitempty"` // "%" bounds the threshold to 0..100
}

// Metric turns s into a Metric, checking it.
func (s MetricSpec) Metric() (Metric, error) {
	m := Metric{Name: s.Name, Query: s.Query, Unit: s.Unit}
	if s.Name == "" {
		return m, errors.New("a metric without a name")
	}
	if strings.TrimSpace(s.Query) == "" {
		return m, fmt.Errorf("metric %s: no query", s.Name)
	}
	if math.IsNaN(s.Threshold) || math.IsInf(s.Threshold, 0) {
		return m, fmt.Errorf("metric %s: threshold %v is not a number", s.Name, s.Threshold)
	}
	if s.Unit == "%" {
		if err := checkPercent("metric "+s.Name+": threshold", s.Threshold); err != nil {
			return m, err
		}
	}
	switch s.Direction {
	case "min":
		m.Min = ptr(s.Threshold)
	case "max":
		m.Max = ptr(s.Threshold)
	default:
		return m, fmt.Errorf("metric %s: direction %q: want min (the value stays at or above the threshold) or max", s.Name, s.Direction)
	}
	if s.Interval != "" {
		d, err := time.ParseDuration(s.Interval)
		if err != nil || d < time.Second {
			return m, fmt.Errorf("metric %s: interval %q: want a duration of 1s or more, such as 1m", s.Name, s.Interval)
		}
		m.Interval = d
	}
	return m, m.validate()
}

// ParseMetrics reads a JSON list of MetricSpec.
func ParseMetrics(s string) ([]Metric, error) {
	var specs []MetricSpec
	if err := strictJSON(s, &specs); err != nil {
		return nil, fmt.Errorf("want a JSON list of {name, query, threshold, direction, interval, unit}: %w", err)
	}
	if len(specs) == 0 {
		return nil, errors.New("an empty list (hint: leave it out for the built-in success rate and latency)")
	}
	seen := map[string]bool{}
	var ms []Metric
	for _, sp := range specs {
		m, err := sp.Metric()
		if err != nil {
			return nil, err
		}
		if seen[m.Name] {
			return nil, fmt.Errorf("metric %s: named twice", m.Name)
		}
		seen[m.Name] = true
		ms = append(ms, m)
	}
	return ms, nil
}

func strictJSON(s string, v any) error {
	d := json.NewDecoder(strings.NewReader(s))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("text after the JSON value")
	}
	return nil
}
