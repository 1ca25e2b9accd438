package canary

import (
	"errors"
	"fmt"
	"io"
	"time"
)

// Config is one release.
type Config struct {
	App       string // the stable Deployment; the canary is <App>-canary
	Namespace string
	Image     string // the new image, by digest
	// Steps are the canary's traffic weights in percent, ascending, ending
	// at 100. Default 10, 25, 50, 100.
	Steps []int
	// Interval is the time between samples. Each step needs Samples passing
	// samples; FailureLimit failing ones (a threshold breached or no data),
	// counted over the whole release, roll it back.
	Interval     time.Duration
	Samples      int
	FailureLimit int
	// ConsecutiveErrorLimit is how many samples in a row whose queries
	// failed transiently (Prometheus unreachable, 503, 422) are tolerated;
	// one more rolls back. They are not failures: a sample that reads its
	// metrics resets the count. Default DefaultConsecutiveErrorLimit.
	ConsecutiveErrorLimit int
	// Window is the range of rate() in the queries (a Prometheus duration);
	// default: the interval, at least 1m.
	Window  string
	Metrics []Metric
	// Webhooks are called at Flagger's points: pre-rollout, rollout,
	// confirm-promotion.
	Webhooks []Webhook
	// Drain is how long the canary's pods keep running after its weight
	// went to 0, before they are removed or scaled down: a Gateway applies
	// a route change a moment later, and requests it still sends to a
	// removed canary fail for users. Default: the interval, at most
	// defaults.Drain.
	Drain time.Duration
	// RetryReason allows releasing a digest that was rolled back before
	// on this route; it is kept with the progress and in the report.
	RetryReason string
	Prometheus  *Prometheus
	// Progress receives the progress lines; nil discards them.
	Progress io.Writer
}

func (c *Config) setDefaults() {
	if len(c.Steps) == 0 {
		c.Steps = DefaultStepsList()
	}
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.Samples == 0 {
		c.Samples = DefaultSamples
	}
	if c.FailureLimit == 0 {
		c.FailureLimit = DefaultFailureLimit
	}
	if c.ConsecutiveErrorLimit == 0 {
		c.ConsecutiveErrorLimit = DefaultConsecutiveErrorLimit
	}
	if c.Window == "" {
		c.Window = promDuration(max(c.Interval, time.Minute))
	}
	if c.Metrics == nil {
		c.Metrics = DefaultMetrics()
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
}

func (c *Config) validate() error {
	if err := c.validateTarget(); err != nil {
		return err
	}
	switch {
	case c.Prometheus == nil || c.Prometheus.URL == "":
		return errors.New("prometheus: no URL (hint: --prometheus http://prometheus.monitoring:9090)")
	case c.Interval < 0 || c.Samples < 0 || c.FailureLimit < 0 || c.ConsecutiveErrorLimit < 0:
		return errors.New("interval, samples, failure limit and consecutive-error limit must not be negative")
	case c.Prometheus.Timeout < 0 || c.Prometheus.Backoff < 0 || c.Prometheus.Attempts < 0:
		return errors.New("prometheus: the query timeout, backoff and attempts must not be negative")
	}
	if err := CheckPrometheusURL(c.Prometheus.URL); err != nil {
		return fmt.Errorf("prometheus: %w (hint: --prometheus %s)", err, DefaultPrometheus)
	}
	for _, h := range c.Webhooks {
		if err := h.validate(); err != nil {
			return err
		}
	}
	prev := 0
	for i, w := range c.Steps {
		if w <= prev || w > 100 {
			return fmt.Errorf("steps[%d]: %d: weights must rise strictly within 1..100 (hint: 10,25,50,100)", i, w)
		}
		prev = w
	}
	if prev != 100 {
		return fmt.Errorf("steps: the last weight is %d, want 100 (the canary takes all traffic before it is promoted)", prev)
	}
	if len(c.Metrics) == 0 {
		return errors.New("metrics: none (hint: a release is promoted on evidence only)")
	}
	for _, m := range c.Metrics {
		if err := m.validate(); err != nil {
			return err
		}
	}
	return nil
}

// validateTarget checks what every strategy needs: the app and the image.
func (c *Config) validateTarget() error {
	switch {
	case c.App == "":
		return errors.New("app: empty (hint: the name of the stable Deployment; with flagger or argo-rollouts also the default --object)")
	case c.Image == "":
		return errors.New("image: empty (hint: the new image, e.g. registry/app@sha256:...)")
	}
	if err := CheckImage(c.Image); err != nil {
		return fmt.Errorf("image: %w", err)
	}
	return nil
}

// WorstCaseRollback is how long a canary that fails every sample takes to
// be rolled back: one interval per allowed failure.
func (c Config) WorstCaseRollback() time.Duration {
	c.setDefaults()
	return c.Interval * time.Duration(c.FailureLimit)
}

// MinimumPromote is how long a canary that passes every sample takes to be
// promoted.
func (c Config) MinimumPromote() time.Duration {
	c.setDefaults()
	return c.Interval * time.Duration(c.Samples*len(c.Steps))
}

// promDuration formats d as a Prometheus duration (whole seconds).
func promDuration(d time.Duration) string {
	return fmt.Sprintf("%ds", max(int(d.Round(time.Second)/time.Second), 1))
}
