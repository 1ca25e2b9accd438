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
