package catalog

import (
	"strconv"
	"time"

	"github.com/pipewright/pipewright/pkg/canary/defaults"
	"github.com/pipewright/pipewright/pkg/images"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
)

func init() {
	register("canary-release", canaryRelease)
	register("canary-restore", canaryRestore)
}

// Outcome values the release step writes to the outcome result.
const (
	OutcomePromoted   = "promoted"
	OutcomeRolledBack = "rolled-back"
	OutcomeRefused    = "refused"
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
		strParam("strategy", "Who runs the canary: pipewright (the steps and analysis below), flagger (set the image, wait for Flagger's Canary verdict) or argo-rollouts (set the Rollout's image, wait for its verdict).", defaults.Strategy),
		strParam("router", "How traffic is split: httproute (Gateway API HTTPRoute weights) or smi (SMI TrafficSplit).", defaults.Router),
		strParam("route", "The HTTPRoute or TrafficSplit; empty for the app's name.", ""),
		strParam("object", "With flagger or argo-rollouts: the Flagger Canary or Argo Rollout; empty for the app's name.", ""),
		strParam("prometheus", "Prometheus base URL the analysis queries.", defaults.Prometheus),
		strParam("steps", "The canary's traffic weights in percent, comma-separated, ending at 100.", defaults.FormatSteps(defaults.Steps())),
		strParam("interval", "Time between analysis samples (Go duration).", defaults.FormatDuration(defaults.Interval)),
		strParam("samples", "Passing samples needed at each step.", strconv.Itoa(defaults.Samples)),
		strParam("failure-limit", "Failing or no-data samples that roll the release back.", strconv.Itoa(defaults.FailureLimit)),
		strParam("consecutive-error-limit", "Samples in a row whose queries fail (Prometheus unreachable, a 503 or 422 answer) that are tolerated; one more rolls back. They are not failures.", strconv.Itoa(defaults.ConsecutiveErrorLimit)),
		strParam("success-rate", "Minimum request success rate of the canary, percent.", strconv.FormatFloat(defaults.SuccessRate, 'f', -1, 64)),
		strParam("latency-p99", "Maximum p99 latency of the canary, milliseconds.", strconv.FormatInt(defaults.LatencyP99.Milliseconds(), 10)),
		strParam("metrics", `Analysis metrics replacing the success rate and latency, a JSON list: [{"name": "errors", "query": "PromQL over {{ .Canary }}, {{ .Stable }}, {{ .App }}, {{ .Namespace }}, {{ .Track }}, {{ .Interval }}", "threshold": 1, "direction": "max", "interval": "1m", "unit": "%"}]; empty for the two built-in ones.`, ""),
		strParam("webhooks", `Webhooks called at Flagger's points, a JSON list: [{"name": "acceptance", "type": "pre-rollout", "url": "http://...", "timeout": "30s", "metadata": {}}]; type pre-rollout (before any traffic; a failure rolls back), rollout (before every sample; a failure fails it) or confirm-promotion (asked every interval until it answers 2xx).`, ""),
		strParam("retry-reason", "Release again a digest that was rolled back on this route, saying why; without it such a release is refused.", ""),
		strParam("deadline", "How long a Deployment may take to become available (pipewright), or the release may take (flagger, argo-rollouts).", defaults.FormatDuration(defaults.Deadline)),
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
		Details: "Runs `pipewright canary` from the tool image (param " + ToolImageParam + "). Before anything is deployed a preflight " +
			"checks that Prometheus answers, the queries parse and the stable version has data; otherwise the release is refused " +
			"(outcome " + OutcomeRefused + ") without touching the route, as is a digest that was rolled back before unless retry-reason " +
			"is set. At each step it sets the canary's weight on a Gateway API HTTPRoute or an SMI TrafficSplit and checks the " +
			"success rate and p99 latency (or the metrics param) over the interval; a breached threshold and an empty, NaN or " +
			"infinite result (no data) count as failures, and the failure limit rolls back — it never promotes on missing data. " +
			"A query that fails (Prometheus unreachable after its retries, a 503 or 422 answer) is asked again at the next sample; " +
			"more than consecutive-error-limit such samples in a row roll back, while a query Prometheus refuses (bad syntax) rolls " +
			"back at once. Webhooks run at Flagger's points (pre-rollout, rollout, confirm-promotion). Progress is kept in " +
			"annotations, so a retried TaskRun resumes or cleans up, and canary-restore undoes a release killed before its decision. " +
			"With strategy flagger or argo-rollouts it sets the image and reports those " +
			"controllers' verdict instead (timed-out when they give none by the deadline). Results: outcome (" + OutcomePromoted + ", " + OutcomeRolledBack + ", " + OutcomeRefused + " or timed-out), final-weight and a " +
			"one-line summary; the Markdown analysis report, with a chart of the weight and success rate per step, is written to the output workspace as " + CanaryReport + ". " +
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
				result("outcome", "promoted, rolled-back, refused (nothing deployed: the preflight failed or the digest was rolled back before), or timed-out (flagger, argo-rollouts: no verdict by the deadline)."),
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
					Image:      images.Shell,
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

// canaryRestore undoes a canary release killed before its decision; the
// release pipelines run it in finally.
func canaryRestore() Entry {
	params := []v1.ParamSpec{
		toolParam(),
		strParam("image", "Restore only the release of this image (the pipeline run's); empty for whichever release the route records.", ""),
		reqParam("app", "The stable Deployment; its Service and route are found by the same name unless given."),
		strParam("namespace", "Namespace of the app.", "default"),
		strParam("container", "The container whose image a finished promotion sets; empty for the first.", ""),
		strParam("strategy", "pipewright; with flagger or argo-rollouts the controller owns the traffic and the Task does nothing.", defaults.Strategy),
		strParam("router", "How traffic is split: httproute (Gateway API HTTPRoute weights) or smi (SMI TrafficSplit).", defaults.Router),
		strParam("route", "The HTTPRoute or TrafficSplit; empty for the app's name.", ""),
	}
	args := []string{"canary", "restore"}
	for _, p := range params[1:] {
		args = append(args, "--"+p.Name+"=$(params."+p.Name+")")
	}
	return Entry{
		Name:        "canary-restore",
		Version:     "0.1",
		DisplayName: "Canary Restore (undo a release killed before its decision)",
		Categories:  []string{"Deployment"},
		Tags:        []string{"canary", "progressive-delivery", "gateway-api", "smi"},
		Summary:     "Puts all traffic back on the stable version when a canary release stopped without a decision, or finishes a promotion or rollback it had begun.",
		Details: "Runs `pipewright canary restore` from the tool image (param " + ToolImageParam + "). A canary-release whose Pod was " +
			"killed (SIGKILL, eviction, the TaskRun's timeout) leaves the traffic split; this reads the progress canary-release keeps " +
			"in the route's annotations: a release that was progressing is undone (weight 0, canary Deployment removed, phase " +
			"interrupted, so the digest may be released again), one that was promoting or rolling back is carried through, and a " +
			"release that ended, or one of another image, is left alone. The release pipelines run it in finally when the deploy " +
			"task failed. The service account needs what canary-release needs.",
		Spec: v1.TaskSpec{
			Params: params,
			Steps: []v1.Step{
				stepSpec{
					Name:    "restore",
					Tool:    true,
					Command: []string{ToolBinary},
					Args:    args,
					Timeout: 5 * time.Minute,
				}.build(),
			},
		},
		Example: map[string]string{"image": "ghcr.io/pipewright/example-go@sha256:<digest>", "app": "example-go", "namespace": "production"},
	}
}
