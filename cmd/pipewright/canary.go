package main

import (
	"errors"
	"fmt"
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
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
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
			if res.Outcome == canary.RolledBack && failOnRollback {
				return exitError{code: 3, err: errors.New("rolled back: " + res.Reason)}
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&cfg.App, "app", "", "the stable Deployment (and by default its Service and HTTPRoute)")
	f.StringVarP(&cfg.Namespace, "namespace", "n", "default", "namespace of the app")
	f.StringVar(&cfg.Image, "image", "", "the new image, by digest")
	f.IntSliceVar(&cfg.Steps, "steps", canary.DefaultSteps, "the canary's traffic weights in percent, ending at 100")
	f.DurationVar(&cfg.Interval, "interval", time.Minute, "time between analysis samples")
	f.IntVar(&cfg.Samples, "samples", 1, "passing samples needed at each step")
	f.IntVar(&cfg.FailureLimit, "failure-limit", 2, "failing samples (threshold breached or no data) that roll the release back")
	f.StringVar(&cfg.Window, "window", "", "rate() range in the queries (default: the interval, at least 1m)")
	f.StringVar(&prom.URL, "prometheus", "", "Prometheus base URL, e.g. http://prometheus.monitoring:9090")
	f.DurationVar(&prom.Timeout, "query-timeout", 10*time.Second, "timeout of one query")
	f.IntVar(&prom.Attempts, "query-attempts", 3, "attempts per query while Prometheus cannot be reached")
	f.DurationVar(&prom.Backoff, "query-backoff", 2*time.Second, "pause between attempts")
	f.Float64Var(&successMin, "success-rate", 99, "minimum request success rate, percent")
	f.Float64Var(&latencyMax, "latency-p99", 500, "maximum p99 latency, milliseconds")
	f.StringVar(&successQuery, "success-query", "", "PromQL for the success rate in percent (text/template over .App .Namespace .Track .Window)")
	f.StringVar(&latencyQuery, "latency-query", "", "PromQL for the p99 latency in milliseconds (same template)")
	f.StringVar(&cl.Kubeconfig, "kubeconfig", "", "kubeconfig file (default: in-cluster config)")
	f.StringVar(&cl.Router, "router", "httproute", "how traffic is shifted: httproute (Gateway API) or smi (TrafficSplit)")
	f.StringVar(&cl.Route, "route", "", "HTTPRoute or TrafficSplit name (default: --app)")
	f.StringVar(&cl.StableService, "stable-service", "", "the stable version's Service (default: --app)")
	f.StringVar(&cl.CanaryService, "canary-service", "", "the canary's Service (default: <app>-canary)")
	f.StringVar(&cl.Container, "container", "", "container whose image is replaced (default: the first)")
	f.DurationVar(&cl.Deadline, "deadline", 5*time.Minute, "how long a Deployment may take to become available")
	f.StringVar(&files.Outcome, "result-outcome", "", "file for the outcome (promoted or rolled-back), e.g. $(results.outcome.path)")
	f.StringVar(&files.FinalWeight, "result-final-weight", "", "file for the canary's weight when the decision was taken")
	f.StringVar(&files.Summary, "result-summary", "", "file for the one-line summary")
	f.StringVar(&files.Report, "report", "", "file for the Markdown analysis report")
	f.BoolVar(&failOnRollback, "fail-on-rollback", true, "exit with status 3 after a rollback (results are written first)")
	return c
}
