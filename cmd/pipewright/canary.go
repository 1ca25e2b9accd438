package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pipewright/pipewright/pkg/canary"
	"github.com/spf13/cobra"
)

func init() { subcommands = append(subcommands, canaryCmd) }

func canaryCmd() *cobra.Command {
	var (
		cfg                        canary.Config
		cl                         canary.Cluster
		files                      canary.ResultFiles
		prom                       canary.Prometheus
		successQuery, latencyQuery string
		successMin, latencyMax     float64
		failOnRollback             bool
	)
	c := &cobra.Command{
		Use:   "canary",
		Short: "Release an image as a canary: shift traffic in steps while Prometheus says it is healthy, then promote or roll back",
		Long: `Release an image as a canary.

--strategy pipewright (the default) runs the release from here: a canary
Deployment beside the stable one, traffic shifted in --steps through an
HTTPRoute or SMI TrafficSplit, and a Prometheus analysis at every step.

--strategy flagger and --strategy argo-rollouts are for clusters that run
those controllers: the image is set on the Deployment the Flagger Canary
targets, or in the Argo Rollout's pod template, and the controller's status
is followed until it promotes or rolls back the release, or until
--verdict-deadline passes (outcome timed-out, a failure). The controller's
own steps and analysis apply; the analysis flags here do not.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := strategyFlags(cmd, cl.Strategy); err != nil {
				return err
			}
			metrics := canary.DefaultMetrics()
			metrics[0].Min, metrics[1].Max = &successMin, &latencyMax
			if successQuery != "" {
				metrics[0].Query = successQuery
			}
			if latencyQuery != "" {
				metrics[1].Query = latencyQuery
			}
			cfg.Metrics = metrics
			cfg.Prometheus = &prom
			cfg.Progress = cmd.OutOrStdout()
			res, err := canary.Release(cmd.Context(), cfg, cl, files)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), res.Summary())
			if failOnRollback {
				switch res.Outcome {
				case canary.RolledBack:
					return exitError{code: 3, err: errors.New("rolled back: " + res.Reason)}
				case canary.TimedOut:
					return exitError{code: 3, err: errors.New("timed out: " + res.Reason)}
				}
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&cfg.App, "app", "", "the stable Deployment (and by default its Service and HTTPRoute)")
	f.StringVarP(&cfg.Namespace, "namespace", "n", "default", "namespace of the app")
	f.StringVar(&cfg.Image, "image", "", "the new image, by digest")
	f.IntSliceVar(&cfg.Steps, "steps", canary.DefaultSteps, "the canary's traffic weights in percent, ending at 100")
	f.DurationVar(&cfg.Interval, "interval", canary.DefaultInterval, "time between analysis samples")
	f.IntVar(&cfg.Samples, "samples", canary.DefaultSamples, "passing samples needed at each step")
	f.IntVar(&cfg.FailureLimit, "failure-limit", canary.DefaultFailureLimit, "failing samples (threshold breached or no data) that roll the release back")
	f.StringVar(&cfg.Window, "window", "", "rate() range in the queries (default: the interval, at least 1m)")
	f.StringVar(&prom.URL, "prometheus", canary.DefaultPrometheus, "Prometheus base URL, e.g. http://prometheus.monitoring:9090")
	f.DurationVar(&prom.Timeout, "query-timeout", canary.DefaultQueryTimeout, "timeout of one query")
	f.IntVar(&prom.Attempts, "query-attempts", canary.DefaultQueryAttempts, "attempts per query while Prometheus cannot be reached")
	f.DurationVar(&prom.Backoff, "query-backoff", canary.DefaultQueryBackoff, "pause between attempts")
	f.Float64Var(&successMin, "success-rate", canary.DefaultSuccessRate, "minimum request success rate, percent")
	f.Float64Var(&latencyMax, "latency-p99", float64(canary.DefaultLatencyP99/time.Millisecond), "maximum p99 latency, milliseconds")
	f.StringVar(&successQuery, "success-query", "", "PromQL for the success rate in percent (text/template over .App .Namespace .Track .Window)")
	f.StringVar(&latencyQuery, "latency-query", "", "PromQL for the p99 latency in milliseconds (same template)")
	f.StringVar(&cl.Kubeconfig, "kubeconfig", "", "kubeconfig file (default: in-cluster config)")
	f.StringVar(&cl.Strategy, "strategy", canary.StrategyPipewright, "who runs the release: pipewright (built in), flagger (a Flagger Canary) or argo-rollouts (an Argo Rollout)")
	f.StringVar(&cl.Object, "object", "", "flagger, argo-rollouts: the Flagger Canary or the Argo Rollout (default: --app)")
	f.DurationVar(&cl.VerdictDeadline, "verdict-deadline", canary.DefaultVerdictDeadline, "flagger, argo-rollouts: how long to wait for the controller's verdict")
	f.StringVar(&cl.Router, "router", canary.DefaultRouter, "how traffic is shifted: httproute (Gateway API) or smi (TrafficSplit)")
	f.StringVar(&cl.Route, "route", "", "HTTPRoute or TrafficSplit name (default: --app)")
	f.StringVar(&cl.StableService, "stable-service", "", "the stable version's Service (default: --app)")
	f.StringVar(&cl.CanaryService, "canary-service", "", "the canary's Service (default: <app>-canary)")
	f.StringVar(&cl.Container, "container", "", "container whose image is replaced (default: the first)")
	f.DurationVar(&cl.Deadline, "deadline", canary.DefaultDeadline, "how long a Deployment may take to become available")
	f.StringVar(&files.Outcome, "result-outcome", "", "file for the outcome (promoted or rolled-back; timed-out with flagger or argo-rollouts), e.g. $(results.outcome.path)")
	f.StringVar(&files.FinalWeight, "result-final-weight", "", "file for the canary's weight when the decision was taken")
	f.StringVar(&files.Summary, "result-summary", "", "file for the one-line summary")
	f.StringVar(&files.Report, "report", "", "file for the Markdown analysis report")
	f.Bool("ignore-unused-flags", false, "accept flags the chosen --strategy does not read, naming them on stderr (for Tasks, which pass every param)")
	f.BoolVar(&failOnRollback, "fail-on-rollback", true, "exit with status 3 after a rollback or a timeout (results are written first)")
	return c
}

// Flags that only one kind of strategy reads; given with the other they
// would silently do nothing.
var (
	builtInFlags = []string{"steps", "interval", "samples", "failure-limit", "window", "prometheus",
		"query-timeout", "query-attempts", "query-backoff", "success-rate", "latency-p99", "success-query",
		"latency-query", "router", "route", "stable-service", "canary-service", "deadline"}
	controllerFlags = []string{"object", "verdict-deadline"}
)

func strategyFlags(cmd *cobra.Command, strategy string) error {
	lenient, _ := cmd.Flags().GetBool("ignore-unused-flags")
	check := func(names []string, hint string) error {
		var ignored []string
		for _, n := range names {
			if !cmd.Flags().Changed(n) {
				continue
			}
			if !lenient {
				return fmt.Errorf("--%s does not apply to --strategy %s (%s)", n, strategy, hint)
			}
			ignored = append(ignored, "--"+n)
		}
		if len(ignored) > 0 {
			fmt.Fprintf(cmd.ErrOrStderr(), "canary: not used by --strategy %s, ignored: %s\n", strategy, strings.Join(ignored, " "))
		}
		return nil
	}
	switch strategy {
	case canary.StrategyPipewright:
		return check(controllerFlags, "it is for flagger and argo-rollouts")
	case canary.StrategyFlagger:
		return check(builtInFlags, "Flagger's steps and analysis are in the Canary's spec.analysis")
	case canary.StrategyArgoRollouts:
		return check(builtInFlags, "Argo Rollouts' steps and analysis are in the Rollout's spec.strategy")
	}
	return fmt.Errorf("--strategy %q: want %s, %s or %s", strategy, canary.StrategyPipewright, canary.StrategyFlagger, canary.StrategyArgoRollouts)
}
