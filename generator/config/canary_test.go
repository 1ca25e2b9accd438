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
	f, _ := reflect.TypeOf(Canary{}).FieldByName("ConsecutiveErrorLimit")
	if tag, want := f.Tag.Get("default"), strconv.Itoa(defaults.ConsecutiveErrorLimit); tag != want || params["consecutive-error-limit"] != want {
		t.Errorf("consecutiveErrorLimit: documented default %q, param default %q, pkg/canary/defaults' %q", tag, params["consecutive-error-limit"], want)
	}
	if got := defaults.FormatDuration(defaults.LatencyP99); params["latency-p99"] != "500" || got != "500ms" {
		t.Errorf("latency-p99 param default %q (ms), config default %q", params["latency-p99"], got)
	}
}

// TestCanaryConfigRules: deploy.canary is checked by pkg/canary's own rules
// (the CLI's), each error at its line.
func TestCanaryConfigRules(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       string
	}{
		{"prometheus not a URL", "deploy:\n  canary:\n    prometheus: prometheus:9090\n",
			`pipewright.yaml:12:5: deploy.canary.prometheus: "prometheus:9090": want an http or https URL (hint: a base URL such as http://prometheus.monitoring:9090)`},
		{"consecutive error limit zero", "deploy:\n  canary:\n    consecutiveErrorLimit: 0\n",
			`pipewright.yaml:12:5: deploy.canary.consecutiveErrorLimit: 0: at least 1 (hint: 1 tolerates one query error in a row)`},
		{"metric direction", "deploy:\n  canary:\n    metrics:\n    - name: errors\n      query: sum(x)\n      threshold: 1\n      direction: below\n",
			`pipewright.yaml:13:7: deploy.canary.metrics[0]: metric errors: direction "below": want min (the value stays at or above the threshold) or max (hint: see pipewright canary --help for the query's variables)`},
		{"metric percentage", "deploy:\n  canary:\n    metrics:\n    - {name: ok, query: sum(x), threshold: 120, direction: min, unit: \"%\"}\n",
			`pipewright.yaml:13:7: deploy.canary.metrics[0]: metric ok: threshold 120: want a percentage from 0 to 100 (hint: see pipewright canary --help for the query's variables)`},
		{"metric template", "deploy:\n  canary:\n    metrics:\n    - {name: ok, query: \"sum(x{a={{.Nope}}})\", threshold: 1, direction: min}\n",
			`pipewright.yaml:13:7: deploy.canary.metrics[0]: metric ok: query template`},
		{"webhook type", "deploy:\n  canary:\n    webhooks:\n    - {name: gate, type: post-rollout, url: \"http://gate\"}\n",
			`pipewright.yaml:13:7: deploy.canary.webhooks[0]: webhook gate: type "post-rollout": want pre-rollout, rollout or confirm-promotion`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("pipewright.yaml", []byte(good+tc.yaml))
			es := ErrorsOf(err)
			if len(es) == 0 {
				t.Fatalf("want a config error, got %v", err)
			}
			if got := es[0].Error(); !strings.HasPrefix(got, tc.want) {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
	// A good list is accepted as written.
	l, err := Parse("pipewright.yaml", []byte(good+"deploy:\n  canary:\n    consecutiveErrorLimit: 2\n    metrics:\n    - {name: errors, query: \"sum(rate(x{deployment=\\\"{{ .Canary }}\\\"}[{{ .Interval }}]))\", threshold: 1, direction: max, interval: 2m, unit: \"%\"}\n    webhooks:\n    - {name: load, type: rollout, url: \"http://loadtester.test/\", timeout: 30s, metadata: {cmd: hey}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cn := l.Deploy.Canary; *cn.ConsecutiveErrorLimit != 2 || cn.Metrics[0].Interval != "2m" || cn.Webhooks[0].Metadata["cmd"] != "hey" {
		t.Errorf("parsed %+v", cn)
	}
}
