package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCanaryStrategyFlags: a flag the chosen strategy does not read is an
// error, before any cluster is looked for.
func TestCanaryStrategyFlags(t *testing.T) {
	bin := buildCLI(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--strategy", "flagger", "--steps", "10,100"}, "pipewright: --steps does not apply to --strategy flagger (Flagger's steps and analysis are in the Canary's spec.analysis)"},
		{[]string{"--strategy", "argo-rollouts", "--prometheus", "http://prometheus:9090"}, "pipewright: --prometheus does not apply to --strategy argo-rollouts"},
		{[]string{"--object", "shop", "--prometheus", "http://prometheus:9090"}, "pipewright: --object does not apply to --strategy pipewright"},
		{[]string{"--strategy", "spinnaker"}, `pipewright: --strategy "spinnaker": want pipewright, flagger or argo-rollouts`},
		{[]string{"--strategy", "flagger", "--image", "registry.example/shop@sha256:00"}, "pipewright: app: empty"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			cmd := exec.Command(bin, append([]string{"canary"}, tc.args...)...)
			out, err := cmd.CombinedOutput()
			if err == nil || cmd.ProcessState.ExitCode() != 1 {
				t.Fatalf("want exit code 1, got %v\n%s", err, out)
			}
			if !strings.HasPrefix(string(out), tc.want) {
				t.Fatalf("output %q, want prefix %q", out, tc.want)
			}
		})
	}
}

// TestCanaryRefusesBadValues: the CLI refuses what the config refuses,
// before anything is deployed (with a valid command line it would go on to
// look for a cluster, and fail on the missing in-cluster config instead).
func TestCanaryRefusesBadValues(t *testing.T) {
	bin := buildCLI(t)
	base := []string{"canary", "--app", "shop", "--image", "registry.example/shop@sha256:" + strings.Repeat("ab", 32)}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--failure-limit", "0"}, "pipewright: --failure-limit 0: at least 1"},
		{[]string{"--failure-limit", "-2"}, "pipewright: --failure-limit -2: at least 1"},
		{[]string{"--samples", "0"}, "pipewright: --samples 0: at least 1"},
		{[]string{"--success-rate", "101"}, "pipewright: --success-rate 101: want a percentage from 0 to 100"},
		{[]string{"--success-rate", "-1"}, "pipewright: --success-rate -1: want a percentage from 0 to 100"},
		{[]string{"--latency-p99", "-5"}, "pipewright: --latency-p99 -5: want milliseconds, 0 or more"},
		{[]string{"--query-timeout", "-1s"}, "pipewright: --query-timeout -1s: want a positive duration"},
		{[]string{"--prometheus", "prometheus:9090"}, `pipewright: --prometheus: "prometheus:9090": want an http or https URL`},
		{[]string{"--prometheus", "http://"}, `pipewright: --prometheus: "http://" has no host`},
		{[]string{"--prometheus", "http://prom:9090/%zz"}, `pipewright: --prometheus: "http://prom:9090/%zz" is not a URL`},
		{[]string{"--image", "registry.example/shop:latest"}, `pipewright: image: "registry.example/shop:latest" is not pinned by digest`},
		{[]string{"--strategy", "flagger", "--image", "registry.example/shop:v2"}, `pipewright: image: "registry.example/shop:v2" is not pinned by digest`},
		{[]string{"--metrics", `[{"name":"errors","query":"x","threshold":1,"direction":"below"}]`}, `pipewright: --metrics: metric errors: direction "below": want min`},
		{[]string{"--metrics", `[{"name":"ok","query":"x","threshold":120,"direction":"min","unit":"%"}]`}, "pipewright: --metrics: metric ok: threshold 120: want a percentage from 0 to 100"},
		{[]string{"--metrics", `[{"name":"ok","query":"x","threshold":1,"direction":"min"}]`, "--success-rate", "90"}, "pipewright: --success-rate: --metrics replaces the built-in metrics"},
		{[]string{"--webhooks", `[{"name":"gate","type":"post-rollout","url":"http://gate"}]`}, `pipewright: --webhooks: webhook gate: type "post-rollout": want pre-rollout, rollout or confirm-promotion`},
		{[]string{"--consecutive-error-limit", "0"}, "pipewright: --consecutive-error-limit 0: at least 1"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			cmd := exec.Command(bin, append(append([]string{}, base...), tc.args...)...)
			cmd.Env = append(cmd.Environ(), "KUBERNETES_SERVICE_HOST=", "KUBERNETES_SERVICE_PORT=")
			out, err := cmd.CombinedOutput()
			if err == nil || cmd.ProcessState.ExitCode() != 1 {
				t.Fatalf("want exit code 1, got %v\n%s", err, out)
			}
			if !strings.HasPrefix(string(out), tc.want) {
				t.Fatalf("output %q, want prefix %q", out, tc.want)
			}
		})
	}
	// The same command line with good values passes every rule and only
	// then looks for the cluster.
	cmd := exec.Command(bin, base...)
	cmd.Env = append(cmd.Environ(), "KUBERNETES_SERVICE_HOST=", "KUBERNETES_SERVICE_PORT=")
	out, _ := cmd.CombinedOutput()
	if !strings.Contains(string(out), "in-cluster config") {
		t.Errorf("a valid command line: %s", out)
	}
}
