package canary

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pipewright/pipewright/pkg/canary/defaults"
)

// Router shifts traffic between the stable and the canary version.
type Router interface {
	// SetWeight sends weight percent of the traffic to the canary and the
	// rest to the stable version.
	SetWeight(ctx context.Context, weight int) error
}

// Workload manages the Deployments.
type Workload interface {
	// DeployCanary creates or updates the canary with image and waits until
	// it is available.
	DeployCanary(ctx context.Context, image string) error
	// PromoteStable gives the stable version image and waits until it is
	// available.
	PromoteStable(ctx context.Context, image string) error
	// ScaleDownCanary keeps the canary's objects but runs no pods.
	ScaleDownCanary(ctx context.Context) error
	// RemoveCanary deletes the canary Deployment.
	RemoveCanary(ctx context.Context) error
}

// Store keeps the release's progress where a re-run finds it.
type Store interface {
	Load(ctx context.Context) (State, error)
	Save(ctx context.Context, s State) error
}

// Phase is where a release stands.
type Phase string

const (
	Progressing Phase = "progressing"
	Promoting   Phase = "promoting"
	RollingBack Phase = "rolling-back"
	Promoted    Phase = "promoted"
	RolledBack  Phase = "rolled-back"
	// Refused: the release did not start; no traffic moved and nothing
	// was deployed (the preflight failed, or the digest was rolled back
	// before and no retry was asked for).
	Refused Phase = "refused"
)

// State is the progress a Store keeps.
type State struct {
	Image    string
	Phase    Phase
	Step     int // index into Config.Steps
	Weight   int // the canary's current weight
	Failures int
	Errors   int    // samples in a row whose queries failed transiently
	Reason   string // why it rolled back
	// RolledBack are the digests (sha256:...) of the releases that were
	// rolled back on this route, most recent last, at most
	// maxRolledBack: none is released again without a retry reason.
	RolledBack []string
	// RetryReason is why this image is released again after a rollback.
	RetryReason string
}

// maxRolledBack bounds the rolled-back digests a Store keeps.
const maxRolledBack = 20

// digestOf is the sha256:... of an image reference by digest, or the
// reference itself.
func digestOf(image string) string {
	if i := strings.LastIndex(image, "@"); i >= 0 {
		return image[i+1:]
	}
	return image
}

func (s State) rolledBack(digest string) bool {
	return slices.Contains(s.RolledBack, digest)
}

// markRolledBack records digest as rolled back, once.
func (s *State) markRolledBack(digest string) {
	s.RolledBack = append(slices.DeleteFunc(s.RolledBack, func(d string) bool { return d == digest }), digest)
	if n := len(s.RolledBack); n > maxRolledBack {
		s.RolledBack = s.RolledBack[n-maxRolledBack:]
	}
}

// Result is what a release ended in.
type Result struct {
	Outcome Phase // Promoted or RolledBack; TimedOut when a controller gave no verdict
	// FinalWeight is the canary's weight when the decision was taken: 100
	// when promoted, the weight of the failing step when rolled back (0 if
	// it failed before taking traffic); when a controller timed out, the
	// last weight it reported.
	FinalWeight int
	Reason      string
	Steps       []StepReport
	Resumed     bool
	RetryReason string // set when a rolled-back digest was released again
	Started     time.Time
	Duration    time.Duration
	Config      Config

	// Set when a controller (Follow) ran the release instead of Run: its
	// name, the object followed, how long and how often it was read, and
	// each change of its status.
	Controller string
	Object     string
	Deadline   time.Duration
	Poll       time.Duration
	Timeline   []Observation
}

// StepReport is one traffic step's analysis.
type StepReport struct {
	Weight  int
	Samples []Sample
	Verdict Verdict // Pass, Fail (failure limit reached) or "" (aborted)
}

// Sample is one round of checks.
type Sample struct {
	At     time.Time
	Checks []Check
	Pass   bool
}

// Summary is the one-line account of the release.
func (r *Result) Summary() string {
	if r.Controller != "" {
		return r.controllerSummary()
	}
	switch r.Outcome {
	case Promoted:
		return fmt.Sprintf("promoted %s after %d steps (%s) in %s", r.Config.Image, len(r.Steps), weights(r.Steps), r.Duration.Round(time.Second))
	case Refused:
		return fmt.Sprintf("refused %s before any traffic moved: %s", r.Config.Image, r.Reason)
	}
	return fmt.Sprintf("rolled back %s at %d%% canary traffic: %s", r.Config.Image, r.FinalWeight, r.Reason)
}

func weights(steps []StepReport) string {
	var s []string
	for _, st := range steps {
		s = append(s, fmt.Sprintf("%d%%", st.Weight))
	}
	return strings.Join(s, "→")
}

// Run drives one release: deploy the canary, shift traffic step by step with
// an analysis at each, then promote or roll back. It is safe to run again
// after a crash: the Store's state says where to continue. The error is for
// what prevented a decision from being carried out; a rollback is a Result,
// not an error.
func Run(ctx context.Context, cfg Config, w Workload, r Router, s Store) (*Result, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	run := &release{cfg: cfg, w: w, r: r, s: s, res: &Result{Config: cfg, Started: time.Now()}}
	err := run.run(ctx)
	if err != nil && ctx.Err() != nil && run.st.Phase == Progressing {
		// Stopped before a decision (the TaskRun was cancelled or timed
		// out, and Tekton sent SIGTERM): a split left in place would keep
		// sending users to an unjudged version, so undo it now. A crash
		// that allows no rollback is cleaned up by the next run instead.
		err = run.rollback(ctx, fmt.Sprintf("stopped before a decision (%v)", context.Cause(ctx)))
	}
	run.res.Duration = time.Since(run.res.Started)
	if err != nil {
		return nil, err
	}
	return run.res, nil
}

type release struct {
	cfg Config
	w   Workload
	r   Router
	s   Store
	st  State
	res *Result
}

func (rl *release) logf(format string, args ...any) {
	fmt.Fprintf(rl.cfg.Progress, "canary: "+format+"\n", args...)
}

func (rl *release) save(ctx context.Context) error {
	if err := rl.s.Save(ctx, rl.st); err != nil {
		return fmt.Errorf("saving progress: %w", err)
	}
	return nil
}

func (rl *release) run(ctx context.Context) error {
	cfg := rl.cfg
	st, err := rl.s.Load(ctx)
	if err != nil {
		return fmt.Errorf("loading progress: %w", err)
	}
	digest := digestOf(cfg.Image)
	retry := cfg.RetryReason != "" && (st.rolledBack(digest) || st.Image == cfg.Image && st.Phase == RolledBack)
	if !retry && st.Image != cfg.Image && st.rolledBack(digest) {
		rl.st = st
		rl.refuse(fmt.Sprintf("%s was rolled back before; it is not released again without a reason (hint: --retry-reason \"...\", e.g. what changed since)", digest))
		return nil
	}
	if st.Image == cfg.Image && st.Phase != "" && st.Phase != Interrupted && !retry {
		rl.st = st
		rl.res.Resumed = true
		rl.res.FinalWeight = st.Weight
		rl.res.Reason = st.Reason
		switch st.Phase {
		case Promoted, RolledBack:
			rl.logf("%s was already %s; nothing to do", cfg.Image, st.Phase)
			rl.res.Outcome = st.Phase
			return nil
		case Promoting:
			rl.logf("resuming the promotion of %s", cfg.Image)
			return rl.promote(ctx)
		case RollingBack:
			rl.logf("resuming the rollback of %s", cfg.Image)
			return rl.rollback(ctx, st.Reason)
		}
		rl.logf("resuming %s at step %d/%d (%d%%), %d failure(s) so far", cfg.Image, st.Step+1, len(cfg.Steps), cfg.Steps[st.Step], st.Failures)
	} else {
		if reason, err := rl.preflight(ctx); err != nil || reason != "" {
			if err == nil {
				rl.refuse(reason)
			}
			return err
		}
		if st.Image != "" && (st.Phase == Progressing || st.Phase == Promoting || st.Phase == RollingBack) {
			// An earlier release died half-way; undo it before starting.
			rl.logf("cleaning up the interrupted release of %s (%s)", st.Image, st.Phase)
			if err := rl.r.SetWeight(ctx, 0); err != nil {
				return fmt.Errorf("cleaning up %s: %w", st.Image, err)
			}
			if err := rl.w.RemoveCanary(ctx); err != nil {
				return fmt.Errorf("cleaning up %s: %w", st.Image, err)
			}
		}
		rl.st = State{Image: cfg.Image, Phase: Progressing, RolledBack: st.RolledBack}
		if retry {
			rl.st.RetryReason = cfg.RetryReason
			rl.st.RolledBack = slices.DeleteFunc(slices.Clone(st.RolledBack), func(d string) bool { return d == digest })
			rl.res.RetryReason = cfg.RetryReason
			rl.logf("releasing %s again after its rollback, because: %s", digest, cfg.RetryReason)
		}
		if err := rl.save(ctx); err != nil {
			return err
		}
	}

	rl.logf("releasing %s of %s: steps %s, a sample every %s, %d per step, rollback at %d failures or after %d query errors in a row",
		cfg.Image, cfg.App, ints(cfg.Steps), cfg.Interval, cfg.Samples, cfg.FailureLimit, cfg.ConsecutiveErrorLimit+1)
	rl.logf("worst-case time to rollback: %s (interval × failure limit); minimum time to promote: %s (interval × samples × steps)",
		cfg.WorstCaseRollback(), cfg.MinimumPromote())

	if err := rl.w.DeployCanary(ctx, cfg.Image); err != nil {
		if ctx.Err() != nil {
			return err
		}
		return rl.rollback(ctx, fmt.Sprintf("the canary did not become available: %v", err))
	}
	rl.logf("canary available")
	if rl.st.Step == 0 && rl.st.Weight == 0 {
		// Before the canary's first traffic: an acceptance test that fails
		// leaves users on the stable version all along.
		if err := rl.hooks(ctx, PreRollout, "Progressing"); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return rl.rollback(ctx, "pre-rollout: "+err.Error())
		}
	}

	for i := rl.st.Step; i < len(cfg.Steps); i++ {
		weight := cfg.Steps[i]
		if err := rl.r.SetWeight(ctx, weight); err != nil {
			return fmt.Errorf("setting the canary's weight to %d%%: %w", weight, err)
		}
		rl.st.Step, rl.st.Weight = i, weight
		rl.res.FinalWeight = weight
		if err := rl.save(ctx); err != nil {
			return err
		}
		verdict, reason, err := rl.analyse(ctx, i)
		if err != nil {
			return err
		}
		if verdict != Pass {
			return rl.rollback(ctx, reason)
		}
	}
	if err := rl.confirmPromotion(ctx); err != nil {
		return err
	}
	return rl.promote(ctx)
}

// confirmPromotion waits for every confirm-promotion webhook to answer 2xx,
// asking again every interval; the canary keeps its last weight meanwhile.
// A release cancelled while it waits is rolled back (Run).
func (rl *release) confirmPromotion(ctx context.Context) error {
	for {
		err := rl.hooks(ctx, ConfirmPromotion, "Promoting")
		if err == nil || ctx.Err() != nil {
			return ctx.Err()
		}
		rl.logf("waiting for the promotion to be confirmed: %v; asking again in %s", err, rl.cfg.Interval)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(rl.cfg.Interval):
		}
	}
}

// analyse samples the metrics at step i until the step has enough passing
// samples (Pass) or the release has too many failures (Fail, with the
// reason). An abort (metrics unreadable) is a Fail with its reason.
func (rl *release) analyse(ctx context.Context, i int) (Verdict, string, error) {
	cfg := rl.cfg
	step := StepReport{Weight: cfg.Steps[i]}
	defer func() { rl.res.Steps = append(rl.res.Steps, step) }()
	vars := newVars(cfg, "canary")
	passed := 0
	for passed < cfg.Samples {
		select {
		case <-ctx.Done():
			return "", "", ctx.Err()
		case <-time.After(cfg.Interval):
		}
		sample := Sample{At: time.Now(), Pass: true}
		errored := false
		for _, h := range cfg.Webhooks {
			if h.Type != Rollout {
				continue
			}
			// A load test, run before the metrics are read; its failure
			// fails the sample, as in Flagger.
			c := Check{Metric: "webhook " + h.Name, Bound: "2xx", Verdict: Pass, Note: "2xx"}
			if err := h.call(ctx, WebhookPayload{Name: cfg.App, Namespace: cfg.Namespace, Phase: "Progressing", Image: cfg.Image, Weight: step.Weight}); err != nil {
				if ctx.Err() != nil {
					return "", "", ctx.Err()
				}
				c.Verdict, c.Note, sample.Pass = Fail, err.Error(), false
			}
			sample.Checks = append(sample.Checks, c)
		}
		for _, m := range cfg.Metrics {
			c, err := m.evaluate(ctx, cfg.Prometheus, m.vars(vars))
			if err != nil {
				if ctx.Err() != nil {
					return "", "", ctx.Err()
				}
				step.Samples = append(step.Samples, sample)
				reason := "analysis aborted: " + err.Error()
				rl.logf("step %d/%d weight %3d%%: %s → rollback", i+1, len(cfg.Steps), step.Weight, reason)
				return Fail, reason, nil
			}
			sample.Checks = append(sample.Checks, c)
			if c.Verdict != Pass {
				sample.Pass = false
			}
			errored = errored || c.Verdict == Errored
		}
		step.Samples = append(step.Samples, sample)
		if errored {
			// Not a verdict on the canary: the metrics could not be read.
			rl.st.Errors++
			if err := rl.save(ctx); err != nil {
				return "", "", err
			}
			line := fmt.Sprintf("step %d/%d weight %3d%%: %s", i+1, len(cfg.Steps), step.Weight, checks(sample.Checks))
			if rl.st.Errors > cfg.ConsecutiveErrorLimit {
				reason := fmt.Sprintf("analysis aborted: %d consecutive query errors (limit %d): %s", rl.st.Errors, cfg.ConsecutiveErrorLimit, erroring(sample.Checks))
				rl.logf("%s → rollback", line)
				return Fail, reason, nil
			}
			rl.logf("%s → query error %d in a row (limit %d), sampling again", line, rl.st.Errors, cfg.ConsecutiveErrorLimit)
			continue
		}
		if rl.st.Errors > 0 {
			rl.st.Errors = 0
			if err := rl.save(ctx); err != nil {
				return "", "", err
			}
		}
		if sample.Pass {
			passed++
		} else {
			rl.st.Failures++
			if err := rl.save(ctx); err != nil {
				return "", "", err
			}
		}
		line := fmt.Sprintf("step %d/%d weight %3d%%: %s", i+1, len(cfg.Steps), step.Weight, checks(sample.Checks))
		switch {
		case rl.st.Failures >= cfg.FailureLimit && !sample.Pass:
			step.Verdict = Fail
			reason := fmt.Sprintf("failure limit reached (%d/%d): %s", rl.st.Failures, cfg.FailureLimit, failing(sample.Checks))
			rl.logf("%s → rollback (%d/%d failures)", line, rl.st.Failures, cfg.FailureLimit)
			return Fail, reason, nil
		case passed == cfg.Samples:
			step.Verdict = Pass
			rl.logf("%s → pass (%d/%d samples, %d/%d failures)", line, passed, cfg.Samples, rl.st.Failures, cfg.FailureLimit)
		case !sample.Pass:
			rl.logf("%s → failure %d/%d, sampling again", line, rl.st.Failures, cfg.FailureLimit)
		default:
			rl.logf("%s → %d/%d samples passed", line, passed, cfg.Samples)
		}
	}
	return Pass, "", nil
}

// preflight checks, before anything is deployed or routed, that the
// analysis can work at all: Prometheus answers, every query parses, and
// the stable version has data for it (a query that finds nothing for the
// stable version would find nothing for the canary either, and the
// release could only roll back). A non-empty reason refuses the release.
func (rl *release) preflight(ctx context.Context) (reason string, err error) {
	cfg := rl.cfg
	vars := newVars(cfg, "stable")
	for _, m := range cfg.Metrics {
		c, err := m.evaluate(ctx, cfg.Prometheus, m.vars(vars))
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		switch {
		case err != nil:
			return "preflight: " + err.Error(), nil
		case c.Verdict == Errored:
			return fmt.Sprintf("preflight: metric %s: %s", m.Name, c.Note), nil
		case c.Verdict == NoData:
			return fmt.Sprintf("preflight: metric %s: the stable version has no data (%s; hint: check the query's labels and that the stable version serves traffic)", m.Name, c), nil
		}
		rl.logf("preflight: stable %s", c)
	}
	return "", nil
}

// refuse ends a release that never started.
func (rl *release) refuse(reason string) {
	rl.res.Outcome, rl.res.Reason = Refused, reason
	rl.logf("refused %s, nothing deployed, no traffic moved: %s", rl.cfg.Image, reason)
}

func (rl *release) promote(ctx context.Context) error {
	rl.st.Phase = Promoting
	if err := rl.save(ctx); err != nil {
		return err
	}
	rl.logf("promoting: the stable version takes %s", rl.cfg.Image)
	if err := rl.w.PromoteStable(ctx, rl.cfg.Image); err != nil {
		return fmt.Errorf("promoting: %w", err)
	}
	if err := rl.r.SetWeight(ctx, 0); err != nil {
		return fmt.Errorf("promoting: routing all traffic to the stable version: %w", err)
	}
	if err := rl.drain(ctx); err != nil {
		return fmt.Errorf("promoting: %w", err)
	}
	if err := rl.w.ScaleDownCanary(ctx); err != nil {
		return fmt.Errorf("promoting: %w", err)
	}
	rl.st.Phase = Promoted
	if err := rl.save(ctx); err != nil {
		return err
	}
	rl.res.Outcome = Promoted
	rl.res.FinalWeight = 100
	rl.logf("promoted %s: weights stable 100%% / canary 0%%, canary scaled to zero", rl.cfg.Image)
	return nil
}

// drain waits, once the canary's weight is 0, for the router to move the
// requests in flight off it before its pods go away.
func (rl *release) drain(ctx context.Context) error {
	d := rl.cfg.Drain
	if d == 0 {
		d = min(rl.cfg.Interval, defaults.Drain)
	}
	if d <= 0 {
		return nil
	}
	rl.logf("canary at 0%%: its pods keep serving requests in flight for %s", d)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func (rl *release) rollback(ctx context.Context, reason string) error {
	// Rolling back must happen even when the run was cancelled part-way.
	ctx = context.WithoutCancel(ctx)
	rl.st.Phase, rl.st.Reason = RollingBack, reason
	if err := rl.save(ctx); err != nil {
		return err
	}
	rl.logf("rolling back: %s", reason)
	var errs []error
	if err := rl.r.SetWeight(ctx, 0); err != nil {
		errs = append(errs, fmt.Errorf("routing all traffic to the stable version: %w", err))
	} else {
		_ = rl.drain(ctx) // ctx cannot end here: rolling back finishes
	}
	if err := rl.w.RemoveCanary(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("rolling back: %w", err)
	}
	rl.st.Phase = RolledBack
	rl.st.markRolledBack(digestOf(rl.cfg.Image))
	if err := rl.save(ctx); err != nil {
		return err
	}
	rl.res.Outcome = RolledBack
	rl.res.Reason = reason
	rl.logf("rolled back: all traffic on the stable version, canary removed")
	return nil
}

func checks(cs []Check) string {
	var s []string
	for _, c := range cs {
		s = append(s, c.String())
	}
	return strings.Join(s, ", ")
}

func failing(cs []Check) string {
	var s []string
	for _, c := range cs {
		if c.Verdict != Pass {
			s = append(s, c.String())
		}
	}
	return strings.Join(s, ", ")
}

func erroring(cs []Check) string {
	var s []string
	for _, c := range cs {
		if c.Verdict == Errored {
			s = append(s, c.String())
		}
	}
	return strings.Join(s, ", ")
}

func ints(is []int) string {
	var s []string
	for _, i := range is {
		s = append(s, fmt.Sprint(i))
	}
	return strings.Join(s, ",")
}
