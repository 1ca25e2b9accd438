package canary

import (
	"context"
	"fmt"
	"io"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

// Interrupted is the phase Restore leaves after undoing a release that
// stopped without a decision: traffic back on the stable version, canary
// removed, and the digest free to be released again (it was not judged).
const Interrupted Phase = "interrupted"

// Restore finishes or undoes a release whose process stopped before it
// recorded a decision (a SIGKILL, an evicted Pod, a TaskRun past its
// timeout), which would otherwise leave traffic split until the next
// release: one that was progressing is undone (weight 0, canary removed,
// phase interrupted); one that was promoting or rolling back, a decision
// already taken, is carried through. A release that ended, or one of
// another image than image (when given: a newer run owns the route), is
// left alone. It returns what it did, for people.
func Restore(ctx context.Context, cfg Config, w Workload, r Router, s Store) (string, error) {
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	st, err := s.Load(ctx)
	if err != nil {
		return "", fmt.Errorf("loading progress: %w", err)
	}
	switch {
	case st.Image == "" || st.Phase == "":
		return "no release recorded on the route; nothing to restore", nil
	case cfg.Image != "" && st.Image != cfg.Image:
		return fmt.Sprintf("the route's last release is %s (%s), not %s; left alone", st.Image, st.Phase, cfg.Image), nil
	}
	cfg.Image = st.Image
	rl := &release{cfg: cfg, w: w, r: r, s: s, st: st, res: &Result{Config: cfg, Started: time.Now()}}
	switch st.Phase {
	case Progressing:
		rl.logf("restoring: %s stopped at %d%% canary traffic without a decision", st.Image, st.Weight)
		if err := r.SetWeight(ctx, 0); err != nil {
			return "", fmt.Errorf("restoring: routing all traffic to the stable version: %w", err)
		}
		if err := w.RemoveCanary(ctx); err != nil {
			return "", fmt.Errorf("restoring: %w", err)
		}
		rl.st.Phase = Interrupted
		rl.st.Reason = fmt.Sprintf("stopped at %d%% canary traffic without a decision; restored", st.Weight)
		if err := rl.save(ctx); err != nil {
			return "", err
		}
		return fmt.Sprintf("restored: %s had stopped at %d%% canary traffic; all traffic on the stable version, canary removed", st.Image, st.Weight), nil
	case Promoting:
		if err := rl.promote(ctx); err != nil {
			return "", err
		}
		return fmt.Sprintf("finished the promotion of %s", st.Image), nil
	case RollingBack:
		if err := rl.rollback(ctx, st.Reason); err != nil {
			return "", err
		}
		return fmt.Sprintf("finished the rollback of %s: %s", st.Image, st.Reason), nil
	}
	return fmt.Sprintf("%s was %s; nothing to restore", st.Image, st.Phase), nil
}

// RestoreRelease runs Restore on the cluster. With flagger or
// argo-rollouts the controller owns the traffic and nothing is done.
func RestoreRelease(ctx context.Context, cfg Config, cl Cluster) (string, error) {
	switch cl.Strategy {
	case "", StrategyPipewright:
	case StrategyFlagger, StrategyArgoRollouts:
		return fmt.Sprintf("%s owns the traffic; nothing to restore", cl.Strategy), nil
	default:
		return "", fmt.Errorf("strategy %q: want %s, %s or %s", cl.Strategy, StrategyPipewright, StrategyFlagger, StrategyArgoRollouts)
	}
	if cfg.App == "" {
		return "", fmt.Errorf("app: empty (hint: the name of the stable Deployment)")
	}
	if cfg.Image != "" {
		if err := CheckImage(cfg.Image); err != nil {
			return "", fmt.Errorf("image: %w", err)
		}
	}
	rc, err := restConfig(cl.Kubeconfig)
	if err != nil {
		return "", err
	}
	kc, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return "", err
	}
	dc, err := dynamic.NewForConfig(rc)
	if err != nil {
		return "", err
	}
	w, r, s, err := Objects(kc, dc, cfg, cl)
	if err != nil {
		return "", err
	}
	return Restore(ctx, cfg, w, r, s)
}
