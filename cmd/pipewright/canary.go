package main

import (
	"fmt"

	"github.com/pipewright/pipewright/pkg/canary"
	"github.com/spf13/cobra"
)

func canaryCmd() *cobra.Command {
	o := canary.NewOptions()
	var (
		failOnRollback bool
		cfg            canary.Config // resolved from o
		cl             canary.Cluster
	)
	c := &cobra.Command{
		Use:   "canary",
		Short: "Release an image as a canary: shift traffic in steps while Prometheus says it is healthy, then promote or roll back",
		Long: `Release an image as a canary.

--strategy pipewright (the default) runs the release from here: a canary
Deployment beside the stable one, traffic shifted in --steps through an
HTTPRoute or SMI TrafficSplit, and a Prometheus analysis at every step.
Before anything is deployed a preflight checks that Prometheus answers,
the queries parse and the stable version has data; otherwise the release
is refused (outcome refused) and no traffic moves. A digest that was rolled
back is refused too unless --retry-reason says why it is released again.

--strategy flagger and --strategy argo-rollouts are for clusters that run
those controllers: the image is set on the Deployment the Flagger Canary
targets, or in the Argo Rollout's pod template, and the controller's status
is followed until it promotes or rolls back the release, or until
--verdict-deadline passes (outcome timed-out, a failure). The controller's
own steps and analysis apply; the analysis flags here do not.`,
		Args: cobra.NoArgs,
		// Every flag rule is applied before the cluster is looked for.
		PreRunE: func(cmd *cobra.Command, _ []string) (err error) {
			o.Warn = cmd.ErrOrStderr()
			cfg, cl, err = o.Resolve(cmd.Flags().Changed)
			return err
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Progress = cmd.OutOrStdout()
			res, err := canary.Release(cmd.Context(), cfg, cl, o.Files)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), res.Summary())
			if failOnRollback && res.Outcome != canary.Promoted {
				return exitError{code: 3, err: fmt.Errorf("%s: %s", res.Outcome, res.Reason)}
			}
			return nil
		},
	}
	c.AddCommand(canaryRestoreCmd())
	f := c.Flags()
	oc, ocl, prom, files := &o.Config, &o.Cluster, &o.Prom, &o.Files
	f.StringVar(&oc.App, "app", "", "the stable Deployment (and by default its Service and HTTPRoute)")
	f.StringVarP(&oc.Namespace, "namespace", "n", oc.Namespace, "namespace of the app")
	f.StringVar(&oc.Image, "image", "", "the new image, pinned by digest (REPO@sha256:...)")
	f.IntSliceVar(&oc.Steps, "steps", oc.Steps, "the canary's traffic weights in percent, ending at 100")
	f.DurationVar(&oc.Interval, "interval", oc.Interval, "time between analysis samples")
	f.IntVar(&oc.Samples, "samples", oc.Samples, "passing samples needed at each step")
	f.IntVar(&oc.FailureLimit, "failure-limit", oc.FailureLimit, "failing samples (threshold breached or no data) that roll the release back")
	f.IntVar(&oc.ConsecutiveErrorLimit, "consecutive-error-limit", oc.ConsecutiveErrorLimit, "samples in a row whose queries fail (Prometheus down, 503, 422) that are tolerated; one more rolls back")
	f.StringVar(&oc.Window, "window", "", "rate() range in the queries (default: the interval, at least 1m)")
	f.StringVar(&oc.RetryReason, "retry-reason", "", "release a digest that was rolled back before, saying why (kept on the route and in the report)")
	f.StringVar(&prom.URL, "prometheus", prom.URL, "Prometheus base URL")
	f.DurationVar(&prom.Timeout, "query-timeout", prom.Timeout, "timeout of one query")
	f.IntVar(&prom.Attempts, "query-attempts", prom.Attempts, "attempts per query while Prometheus cannot be reached")
	f.DurationVar(&prom.Backoff, "query-backoff", prom.Backoff, "pause between attempts")
	f.Float64Var(&o.SuccessMin, "success-rate", o.SuccessMin, "minimum request success rate, percent")
	f.Float64Var(&o.LatencyMax, "latency-p99", o.LatencyMax, "maximum p99 latency, milliseconds")
	f.StringVar(&o.SuccessQuery, "success-query", "", "PromQL for the success rate in percent (text/template over .App .Canary .Stable .Namespace .Track .Window .Interval)")
	f.StringVar(&o.LatencyQuery, "latency-query", "", "PromQL for the p99 latency in milliseconds (same template)")
	f.StringVar(&o.Metrics, "metrics", "", `analysis metrics replacing the built-in two, a JSON list: [{"name":"errors","query":"...","threshold":1,"direction":"max","interval":"1m","unit":"%"}]`)
	f.StringVar(&o.Webhooks, "webhooks", "", `webhooks, a JSON list: [{"name":"acceptance","type":"pre-rollout|rollout|confirm-promotion","url":"http://...","timeout":"30s","metadata":{}}]`)
	f.StringVar(&ocl.Kubeconfig, "kubeconfig", "", "kubeconfig file (default: in-cluster config)")
	f.StringVar(&ocl.Strategy, "strategy", ocl.Strategy, "who runs the release: pipewright (built in), flagger (a Flagger Canary) or argo-rollouts (an Argo Rollout)")
	f.StringVar(&ocl.Object, "object", "", "flagger, argo-rollouts: the Flagger Canary or the Argo Rollout (default: --app)")
	f.DurationVar(&ocl.VerdictDeadline, "verdict-deadline", ocl.VerdictDeadline, "flagger, argo-rollouts: how long to wait for the controller's verdict")
	routeFlags(c, ocl)
	f.StringVar(&ocl.Container, "container", "", "container whose image is replaced (default: the first)")
	f.DurationVar(&ocl.Deadline, "deadline", ocl.Deadline, "how long a Deployment may take to become available")
	f.StringVar(&files.Outcome, "result-outcome", "", "file for the outcome (promoted, rolled-back or refused; timed-out with flagger or argo-rollouts), e.g. $(results.outcome.path)")
	f.StringVar(&files.FinalWeight, "result-final-weight", "", "file for the canary's weight when the decision was taken")
	f.StringVar(&files.Summary, "result-summary", "", "file for the one-line summary")
	f.StringVar(&files.Report, "report", "", "file for the Markdown analysis report")
	f.BoolVar(&o.IgnoreUnused, "ignore-unused-flags", false, "accept flags the chosen --strategy does not read, naming them on stderr (for Tasks, which pass every param)")
	f.BoolVar(&failOnRollback, "fail-on-rollback", true, "exit with status 3 unless the release was promoted (results are written first)")
	return c
}

// routeFlags name the route and the Services a release shifts traffic
// between; restore needs the same.
func routeFlags(c *cobra.Command, cl *canary.Cluster) {
	f := c.Flags()
	f.StringVar(&cl.Router, "router", cl.Router, "how traffic is shifted: httproute (Gateway API) or smi (TrafficSplit)")
	f.StringVar(&cl.Route, "route", "", "HTTPRoute or TrafficSplit name (default: --app)")
	f.StringVar(&cl.StableService, "stable-service", "", "the stable version's Service (default: --app)")
	f.StringVar(&cl.CanaryService, "canary-service", "", "the canary's Service (default: <app>-canary)")
}

func canaryRestoreCmd() *cobra.Command {
	var (
		cfg canary.Config
		cl  = canary.Cluster{Strategy: canary.StrategyPipewright, Router: canary.DefaultRouter}
	)
	c := &cobra.Command{
		Use:   "restore",
		Short: "Undo a canary release that stopped without a decision (or finish its promotion or rollback); for a release pipeline's finally",
		Long: `Undo a canary release that stopped without a decision.

A release whose process was killed (SIGKILL, an evicted Pod, a TaskRun past
its timeout) leaves its traffic split. restore reads the progress kept on
the route: a release that was progressing is undone (all traffic on the
stable version, canary removed; the digest may be released again), one
that was promoting or rolling back is carried through. A release that
ended, or whose image is not --image, is left alone.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Progress = cmd.OutOrStdout()
			msg, err := canary.RestoreRelease(cmd.Context(), cfg, cl)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "canary: "+msg)
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&cfg.App, "app", "", "the stable Deployment (and by default its Service and HTTPRoute)")
	f.StringVarP(&cfg.Namespace, "namespace", "n", "default", "namespace of the app")
	f.StringVar(&cfg.Image, "image", "", "restore only the release of this image (default: whichever is recorded)")
	f.StringVar(&cl.Kubeconfig, "kubeconfig", "", "kubeconfig file (default: in-cluster config)")
	f.StringVar(&cl.Strategy, "strategy", cl.Strategy, "pipewright; with flagger or argo-rollouts the controller owns the traffic and nothing is done")
	f.StringVar(&cl.Container, "container", "", "container whose image is replaced (default: the first)")
	f.DurationVar(&cl.Deadline, "deadline", canary.DefaultDeadline, "how long the stable Deployment may take to become available when a promotion is finished")
	routeFlags(c, &cl)
	return c
}
