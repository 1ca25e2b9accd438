package catalog

import (
	"strconv"
	"time"

	"github.com/pipewright/pipewright/pkg/canary"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
)

func init() { register("canary-release", canaryRelease) }

// Outcome values the release step writes to the outcome result.
const (
	OutcomePromoted   = "promoted"
	OutcomeRolledBack = "rolled-back"
)

// CanaryReport is the analysis report's file name in the output workspace.
const CanaryReport = "canary-report.md"

func canaryRelease() Entry {
	params := []v1.ParamSpec{
		toolParam(),
		reqParam("image", "The new image, pinned by digest (REPO@sha256:...)."),
		reqParam("app", "The stable Deployment; its Service and route are found by the same name unless given."),
		strParam("namespace", "Namespace of the app.", "default"),
		strParam("container", "The container whose image is replaced; empty for the first.", ""),
		strParam("strategy", "Who runs the canary: pipewright (the steps and analysis below), flagger (set the image, wait for Flagger's Canary verdict) or argo-rollouts (set the Rollout's image, wait for its verdict).", canary.StrategyPipewright),
		strParam("router", "How traffic is split: httproute (Gateway API HTTPRoute weights) or smi (SMI TrafficSplit).", canary.DefaultRouter),
		strParam("route", "The HTTPRoute or TrafficSplit; empty for the app's name.", ""),
		strParam("object", "With flagger or argo-rollouts: the Flagger Canary or Argo Rollout; empty for the app's name.", ""),
		strParam("prometheus", "Prometheus base URL the analysis queries.", canary.DefaultPrometheus),
		strParam("steps", "The canary's traffic weights in percent, comma-separated, ending at 100.", canary.FormatSteps(canary.DefaultSteps)),
		strParam("interval", "Time between analysis samples (Go duration).", canary.FormatDuration(canary.DefaultInterval)),
		strParam("samples", "Passing samples needed at each step.", strconv.Itoa(canary.DefaultSamples)),
		strParam("failure-limit", "Failing or no-data samples that roll the release back.", strconv.Itoa(canary.DefaultFailureLimit)),
		strParam("success-rate", "Minimum request success rate of the canary, percent.", strconv.FormatFloat(canary.DefaultSuccessRate, 'f', -1, 64)),
		strParam("latency-p99", "Maximum p99 latency of the canary, milliseconds.", strconv.FormatInt(canary.DefaultLatencyP99.Milliseconds(), 10)),
		strParam("deadline", "How long a Deployment may take to become available (pipewright), or the release may take (flagger, argo-rollouts).", canary.FormatDuration(canary.DefaultDeadline)),
	}
	flags := []string{"canary"}
	// Every param is a flag of the same name; empty route and container
	// mean the CLI's defaults. No shell parses these args.
	for _, p := range params[1:] {
		flags = append(flags, "--"+p.Name+"=$(params."+p.Name+")")
	}
	flags = append(flags,
		"--verdict-deadline=$(params.deadline)",
		// A Task passes every param; the flags the chosen strategy does not
		// read are named on stderr and ignored.
		"--ignore-unused-flags",
		"--fail-on-rollback=false", // the verdict step fails the Task, after the results are written
		"--result-outcome=$(results.outcome.path)",
		"--result-final-weight=$(results.final-weight.path)",
		"--result-summary=$(results.summary.path)",
		"--report=$(workspaces.output.path)/"+CanaryReport,
	)
	return Entry{
		Name:        "canary-release",
		Version:     "0.1",
		DisplayName: "Canary Release (Prometheus-gated, automatic rollback)",
		Categories:  []string{"Deployment"},
		Tags:        []string{"canary", "progressive-delivery", "gateway-api", "smi", "prometheus", "flagger", "argo-rollouts"},
		Summary:     "Releases a new image as a canary beside the stable Deployment, shifts traffic in steps while Prometheus says it is healthy, and promotes it or rolls it back by itself.",
		Details: "Runs `pipewright canary` from the tool image (param " + ToolImageParam + "). At each step it sets the canary's weight on a " +
			"Gateway API HTTPRoute or an SMI TrafficSplit and checks the success rate and p99 latency over the interval; a " +
			"breached threshold, an empty or NaN result (no data) and an unreachable Prometheus count as failures, and the " +
			"failure limit rolls back — it never promotes on missing data. Progress is kept in annotations, so a retried " +
			"TaskRun resumes or cleans up. With strategy flagger or argo-rollouts it sets the image and reports those " +
			"controllers' verdict instead (timed-out when they give none by the deadline). Results: outcome (" + OutcomePromoted + ", " + OutcomeRolledBack + " or timed-out), final-weight and a " +
			"one-line summary; the Markdown analysis report is written to the output workspace as " + CanaryReport + ". " +
			"The Task fails unless the release was promoted. The service account needs, in the app's namespace: " +
			"deployments get/create/update/delete, services get/create/update, and for the route it drives httproutes " +
			"get/update or trafficsplits get/create/update; with flagger, canaries get and deployments get/update; " +
			"with argo-rollouts, rollouts get/update.",
		Spec: v1.TaskSpec{
			Params: params,
			Workspaces: []v1.WorkspaceDeclaration{
				workspace("output", "Where the analysis report "+CanaryReport+" is written.", false),
			},
			Results: []v1.TaskResult{
				result("outcome", "promoted, rolled-back, or timed-out (flagger, argo-rollouts: no verdict by the deadline)."),
				result("final-weight", "The canary's traffic weight, percent, when the decision was taken."),
				result("summary", "One line: the decision and the figures it was taken on."),
			},
			Steps: []v1.Step{
				stepSpec{
					Name:    "release",
					Tool:    true,
					Command: []string{ToolBinary},
					Args:    flags,
					Timeout: 2 * time.Hour,
				}.build(),
				stepSpec{
					Name:       "verdict",
					Image:      Shell,
					Results:    []string{"outcome", "summary"},
					Workspaces: []string{"output"},
					Timeout:    time.Minute,
					Script: `outcome="$(cat "${RESULT_OUTCOME_PATH}")"
cat "${WORKSPACE_OUTPUT_PATH}/` + CanaryReport + `" 2>/dev/null || true
echo "canary: $(cat "${RESULT_SUMMARY_PATH}")"
if [ "${outcome}" != "` + OutcomePromoted + `" ]; then
  echo "canary: ${outcome}: failing the release" >&2
  exit 1
fi
`,
				}.build(),
			},
		},
		Example: map[string]string{"image": "ghcr.io/pipewright/example-go@sha256:<digest>", "app": "example-go", "namespace": "production"},
		Writes:  []string{"output"},
	}
}
