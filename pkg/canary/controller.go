package canary

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/pipewright/pipewright/pkg/canary/defaults"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// Strategies: who shifts the traffic and judges the canary.
const (
	// StrategyPipewright is the built-in release (Run): Deployments, a
	// route's weights and a Prometheus analysis driven from here.
	StrategyPipewright = defaults.StrategyPipewright
	// StrategyFlagger hands the release to a Flagger controller already in
	// the cluster (FlaggerCanary).
	StrategyFlagger = defaults.StrategyFlagger
	// StrategyArgoRollouts hands it to Argo Rollouts (ArgoRollout).
	StrategyArgoRollouts = defaults.StrategyArgoRollouts
)

// TimedOut is the outcome of a release handed to a controller that gave no
// verdict before the deadline. It is a failure: nothing was promoted, and
// nothing was rolled back by pipewright either; the controller may still be
// at work.
const TimedOut Phase = "timed-out"

// Controller is a progressive-delivery controller that runs the analysis
// itself; pipewright only gives it the new image and waits for its verdict.
type Controller interface {
	// Name is the controller's name for people, e.g. "Flagger".
	Name() string
	// Object names the object whose status is followed.
	Object() string
	// Start gives the watched workload the image (unless it has it already:
	// resumed) and remembers what lets Observe tell this release's status
	// from the one the previous release left.
	Start(ctx context.Context, image string) (resumed bool, err error)
	// Observe reads the controller's status.
	Observe(ctx context.Context) (Observation, error)
}

// Observation is one reading of a controller's status.
type Observation struct {
	At     time.Time
	Phase  string // as the controller names it
	Weight int    // the canary's traffic weight in percent; -1 unknown
	Detail string // the controller's message, failed checks, step
	// Stale: the status still describes the revision before this release,
	// so its phase is no verdict on the new image.
	Stale bool
	// Verdict is Promoted or RolledBack once the controller has decided
	// about this release's revision; empty before.
	Verdict Phase
}

func (o Observation) String() string {
	s := o.Phase
	if s == "" {
		s = "no status"
	}
	if o.Weight >= 0 {
		s += fmt.Sprintf(", canary weight %d%%", o.Weight)
	}
	if o.Detail != "" {
		s += ": " + o.Detail
	}
	if o.Stale {
		s += " (the previous revision's status)"
	}
	return s
}

// Follow gives the controller the image and polls its status until it
// promotes or rolls back the release, or until deadline, which is a
// TimedOut result. Progress lines go to cfg.Progress when the status
// changes. Errors are for what kept a verdict from being read (the object
// missing, no permission), not for a failed release.
func Follow(ctx context.Context, cfg Config, c Controller, deadline, poll time.Duration) (*Result, error) {
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	if deadline <= 0 {
		deadline = DefaultVerdictDeadline
	}
	if poll <= 0 {
		poll = 5 * time.Second
	}
	res := &Result{Config: cfg, Started: time.Now(), Controller: c.Name(), Object: c.Object(), Deadline: deadline, Poll: poll}
	logf := func(format string, args ...any) {
		fmt.Fprintf(cfg.Progress, "canary: %s: "+format+"\n", append([]any{c.Name()}, args...)...)
	}
	resumed, err := c.Start(ctx, cfg.Image)
	if err != nil {
		return nil, err
	}
	res.Resumed = resumed
	if resumed {
		logf("%s already runs %s; following its release", c.Object(), cfg.Image)
	} else {
		logf("set the image %s on the workload of %s", cfg.Image, c.Object())
	}
	logf("waiting up to %s for the verdict (status read every %s); the steps and the analysis are %s's own", deadline, poll, c.Name())

	timeout := time.NewTimer(deadline)
	defer timeout.Stop()
	var last Observation
	lastErr, staleLogged := "", false
	for first := true; ; first = false {
		o, err := c.Observe(ctx)
		switch {
		case err != nil && !retryable(err):
			return nil, err
		case err != nil:
			if err.Error() != lastErr {
				logf("reading the status: %v (retrying)", err)
				lastErr = err.Error()
			}
		default:
			lastErr = ""
			if o.At.IsZero() {
				o.At = time.Now()
			}
			if first || o.Phase != last.Phase || o.Weight != last.Weight || o.Detail != last.Detail || o.Stale != last.Stale {
				res.Timeline = append(res.Timeline, o)
				switch {
				case o.Stale && !staleLogged:
					logf("%s; waiting for %s to take up the new revision", o, c.Name())
					staleLogged = true
				case !o.Stale:
					logf("%s", o)
				}
			}
			last = o
			if !o.Stale && o.Verdict == "" && o.Weight > 0 {
				res.FinalWeight = o.Weight
			}
			switch o.Verdict {
			case Promoted:
				res.Outcome, res.FinalWeight, res.Reason = Promoted, 100, o.Detail
				res.Duration = time.Since(res.Started)
				logf("promoted %s", cfg.Image)
				return res, nil
			case RolledBack:
				res.Outcome, res.Reason = RolledBack, fmt.Sprintf("%s: %s", c.Name(), o.Detail)
				res.Duration = time.Since(res.Started)
				logf("rolled back %s at %d%% canary traffic", cfg.Image, res.FinalWeight)
				return res, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-timeout.C:
			res.Outcome = TimedOut
			res.Duration = time.Since(res.Started)
			switch {
			case lastErr != "":
				res.Reason = fmt.Sprintf("no verdict from %s within %s; the status could not be read: %s", c.Name(), deadline, lastErr)
			default:
				res.Reason = fmt.Sprintf("no verdict from %s within %s; last status: %s", c.Name(), deadline, last)
			}
			logf("timed out: %s", res.Reason)
			return res, nil
		case <-time.After(poll):
		}
	}
}

// retryable: reading the status may work on the next poll (the API server
// busy, restarting or out of reach), unlike a missing object or a missing
// permission.
func retryable(err error) bool {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) || apierrors.IsTooManyRequests(err) ||
			apierrors.IsInternalError(err) || apierrors.IsServiceUnavailable(err) || apierrors.IsUnexpectedServerError(err)
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// number reads an integer field of an unstructured object; the CRDs type
// some of them "number", which JSON may give as a float.
func number(v any) (int, bool) {
	switch n := v.(type) {
	case int64:
		return int(n), true
	case int32:
		return int(n), true
	case int:
		return n, true
	case float64:
		return int(n), true
	}
	return 0, false
}
