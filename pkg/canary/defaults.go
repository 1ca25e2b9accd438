package canary

import (
	"strconv"
	"strings"
	"time"
)

// The defaults of a release, defined once: the CLI's flags, the
// canary-release Task's params and the config's deploy.canary fields all
// take them from here, so a release behaves the same however it is started.
const (
	DefaultInterval     = time.Minute
	DefaultSamples      = 3 // passing samples per step
	DefaultFailureLimit = 2 // failing samples over the release that roll back
	// DefaultConsecutiveErrorLimit is how many query errors in a row (a
	// Prometheus that is down, restarting or overloaded) are tolerated:
	// Argo Rollouts' default consecutiveErrorLimit. One more rolls back.
	DefaultConsecutiveErrorLimit = 4
	DefaultSuccessRate           = 99.0 // percent, minimum
	DefaultLatencyP99            = 500 * time.Millisecond
	DefaultPrometheus            = "http://prometheus.monitoring:9090"
	// DefaultDeadline bounds the wait for a Deployment to become available.
	DefaultDeadline = 10 * time.Minute
	// DefaultVerdictDeadline bounds the wait for Flagger's or Argo
	// Rollouts' verdict, whose own analysis takes longer.
	DefaultVerdictDeadline = 30 * time.Minute
	DefaultQueryTimeout    = 10 * time.Second
	DefaultQueryAttempts   = 3
	DefaultQueryBackoff    = 2 * time.Second
	DefaultWebhookTimeout  = 10 * time.Second
	DefaultRouter          = RouterHTTPRoute
)

// Routers: how traffic is shifted.
const (
	RouterHTTPRoute = "httproute" // Gateway API HTTPRoute weights
	RouterSMI       = "smi"       // SMI TrafficSplit
)

// DefaultSteps are the canary's traffic weights when none are given.
var DefaultSteps = []int{10, 25, 50, 100}

// DefaultStepsList returns a copy of DefaultSteps, for callers that keep
// and may change it.
func DefaultStepsList() []int { return append([]int(nil), DefaultSteps...) }

// FormatSteps writes weights as the --steps flag and the steps param take
// them: 10,25,50,100.
func FormatSteps(is []int) string {
	s := make([]string, len(is))
	for i, n := range is {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

// FormatDuration writes d as people do (1m, 10m, 500ms), not as
// time.Duration.String's 1m0s.
func FormatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
