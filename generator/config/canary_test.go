package config

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/pipewright/pipewright/generator/catalog"
	"github.com/pipewright/pipewright/pkg/canary/defaults"
)

// TestCanaryDefaultsAgree: deploy.canary's documented defaults (the schema's
// default tags), the values the config applies and the canary-release
// Task's param defaults are all pkg/canary/defaults', so a release started from the
// config, the Task or the CLI behaves the same.
func TestCanaryDefaultsAgree(t *testing.T) {
	l, err := Parse("pipewright.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	cn := l.Deploy.Canary
	task, err := catalog.Get("canary-release")
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]string{}
	for _, p := range task.Spec.Params {
		if p.Default != nil {
			params[p.Name] = p.Default.StringVal
		}
	}
	steps, _ := json.Marshal(defaults.Steps())
	for _, tc := range []struct {
		field, applied, want, param string
	}{
		{"Steps", defaults.FormatSteps(cn.Steps), defaults.FormatSteps(defaults.Steps()), "steps"},
		{"Interval", cn.Interval, defaults.FormatDuration(defaults.Interval), "interval"},
		{"Samples", strconv.Itoa(cn.Samples), strconv.Itoa(defaults.Samples), "samples"},
		{"FailureLimit", strconv.Itoa(cn.FailureLimit), strconv.Itoa(defaults.FailureLimit), "failure-limit"},
		{"SuccessRate", strconv.FormatFloat(cn.SuccessRate, 'f', -1, 64), strconv.FormatFloat(defaults.SuccessRate, 'f', -1, 64), "success-rate"},
		{"LatencyP99", cn.LatencyP99, defaults.FormatDuration(defaults.LatencyP99), ""},
		{"Prometheus", cn.Prometheus, defaults.Prometheus, "prometheus"},
		{"Controller", cn.Controller, defaults.StrategyPipewright, "strategy"},
		{"Deadline", cn.Deadline, defaults.FormatDuration(defaults.Deadline), "deadline"},
	} {
		f, _ := reflect.TypeOf(Canary{}).FieldByName(tc.field)
		tag := f.Tag.Get("default")
		if tc.field == "Steps" {
			tag = strings.Trim(tag, "[]")
			if want := strings.Trim(string(steps), "[]"); tag != want {
				t.Errorf("%s: documented default %s, pkg/canary/defaults' %s", tc.field, tag, want)
			}
		} else if tag != tc.want {
			t.Errorf("%s: documented default %q, pkg/canary/defaults' %q", tc.field, tag, tc.want)
		}
		if tc.applied != tc.want {
			t.Errorf("%s: applied default %q, pkg/canary/defaults' %q", tc.field, tc.applied, tc.want)
		}
		if tc.param != "" && params[tc.param] != tc.want {
			t.Errorf("canary-release param %s: default %q, pkg/canary/defaults' %q", tc.param, params[tc.param], tc.want)
		}
	}
	if got := defaults.FormatDuration(defaults.LatencyP99); params["latency-p99"] != "500" || got != "500ms" {
		t.Errorf("latency-p99 param default %q (ms), config default %q", params["latency-p99"], got)
	}
}
