// Package defaults holds the canary release's defaults, defined once: the
// canary command's flags (pkg/canary re-exports them), the canary-release
// Task's params and the config's deploy.canary fields all take them from
// here, so a release behaves the same however it is started. It imports
// nothing of the project, so the catalog can use it without importing the
// release code (which its tests' control plane imports the catalog for).
package defaults

import (
	"strconv"
	"strings"
	"time"
)

// Strategies: who shifts the traffic and judges the canary.
const (
	StrategyPipewright   = "pipewright"
	StrategyFlagger      = "flagger"
	StrategyArgoRollouts = "argo-rollouts"
)

// Routers: how traffic is shifted.
const (
	RouterHTTPRoute = "httproute" // Gateway API HTTPRoute weights
	RouterSMI       = "smi"       // SMI TrafficSplit
)

const (
	Interval     = time.Minute
	Samples      = 3 // passing samples per step
	FailureLimit = 2 // failing samples over the release that roll back
	// ConsecutiveErrorLimit is how many samples in a row whose queries
	// failed (a Prometheus that is down, restarting or overloaded) are
	// tolerated: Argo Rollouts' default consecutiveErrorLimit. One more
	// rolls back.
	ConsecutiveErrorLimit = 4
	SuccessRate           = 99.0 // percent, minimum
	LatencyP99            = 500 * time.Millisecond
	Prometheus            = "http://prometheus.monitoring:9090"
	// Deadline bounds the wait for a Deployment to become available.
	Deadline = 10 * time.Minute
	// VerdictDeadline bounds the wait for Flagger's or Argo Rollouts'
	// verdict, whose own analysis takes longer.
	VerdictDeadline = 30 * time.Minute
	QueryTimeout    = 10 * time.Second
	QueryAttempts   = 3
	QueryBackoff    = 2 * time.Second
	WebhookTimeout  = 10 * time.Second
	// Drain bounds how long a canary at weight 0 keeps its pods before
	// removal, so the router has moved every request off it (Argo
	// Rollouts waits 30 s before scaling an aborted canary down:
	// abortScaleDownDelaySeconds).
	Drain    = 30 * time.Second
	Router   = RouterHTTPRoute
	Strategy = StrategyPipewright
)

// Steps returns the canary's traffic weights when none are given (a new
// slice each time: callers keep and may change it).
func Steps() []int { return []int{10, 25, 50, 100} }

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
