package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestSimulateExitCodes runs the command as main does: 0 fired, 1 not
// fired, 2 error.
func TestSimulateExitCodes(t *testing.T) {
	const dir = "../../test/testdata/github-webhooks/"
	for _, c := range []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"--event", "pull_request", "--payload", dir + "pull_request.opened.json", "--secret", "s"}, 0, "revision\n      value: ec26c3e57ca3a959ca5aad62de7213c562f8c821", ""},
		{[]string{"--event", "pull_request", "--payload", dir + "pull_request.opened.json", "--secret", "s", "--signature", ""}, 1, "", "no X-Hub-Signature-256 header set"},
		{[]string{"--event", "push", "--payload", dir + "push.json", "--secret", "s"}, 1, "", "trigger release did not fire"},
		{[]string{"--event", "push", "--payload", dir + "missing.json", "--secret", "s"}, 2, "", ""},
		{[]string{"--event", "pull_request", "--payload", dir + "pull_request.opened.json", "--secret", "s", "--delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"}, 0, "pipewright.dev/delivery: 72d3162e-cc78-11e3-81ab-4c9367dc0958", ""},
		{[]string{"--event", "pull_request", "--payload", dir + "pull_request.opened.json", "--secret", "  "}, 2, "", ""}, // an empty secret signs nothing
	} {
		root := newRoot()
		var out, errb bytes.Buffer
		root.SetOut(&out)
		root.SetErr(&errb)
		root.SetArgs(append([]string{"simulate"}, c.args...))
		code := 0
		if err := root.Execute(); err != nil {
			code = exitCode(err)
		}
		if code != c.code || !strings.Contains(out.String(), c.stdout) || !strings.Contains(errb.String(), c.stderr) {
			t.Errorf("%v: exit %d (want %d)\nstdout: %s\nstderr: %s", c.args, code, c.code, out.String(), errb.String())
		}
	}
}
