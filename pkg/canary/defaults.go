package canary

import "github.com/pipewright/pipewright/pkg/canary/defaults"

// The defaults of a release, from package defaults (their one definition).
const (
	DefaultInterval              = defaults.Interval
	DefaultSamples               = defaults.Samples
	DefaultFailureLimit          = defaults.FailureLimit
	DefaultConsecutiveErrorLimit = defaults.ConsecutiveErrorLimit
	DefaultSuccessRate           = defaults.SuccessRate
	DefaultLatencyP99            = defaults.LatencyP99
	DefaultPrometheus            = defaults.Prometheus
	DefaultDeadline              = defaults.Deadline
	DefaultVerdictDeadline       = defaults.VerdictDeadline
	DefaultQueryTimeout          = defaults.QueryTimeout
	DefaultQueryAttempts         = defaults.QueryAttempts
	DefaultQueryBackoff          = defaults.QueryBackoff
	DefaultWebhookTimeout        = defaults.WebhookTimeout
	DefaultRouter                = defaults.Router
	RouterHTTPRoute              = defaults.RouterHTTPRoute
	RouterSMI                    = defaults.RouterSMI
)

// DefaultSteps are the canary's traffic weights when none are given.
var DefaultSteps = defaults.Steps()

// DefaultStepsList returns a copy of DefaultSteps, for callers that keep
// and may change it.
func DefaultStepsList() []int { return defaults.Steps() }
