package canary

import (
	"bytes"
	"strings"
	"testing"
)

// TestOptionsResolve: what a Task passes (every flag, --ignore-unused-flags)
// resolves to the release it means, naming what it ignores; on the command
// line the same mix is refused.
func TestOptionsResolve(t *testing.T) {
	changed := func(set ...string) func(string) bool {
		return func(f string) bool {
			for _, s := range set {
				if s == f {
					return true
				}
			}
			return false
		}
	}
	newOpts := func() *Options {
		o := NewOptions()
		o.Config.App, o.Config.Image = "shop", "registry.example/shop@sha256:"+strings.Repeat("ab", 32)
		o.Metrics = `[{"name":"errors","query":"sum(x{d=\"{{.Canary}}\"})","threshold":1,"direction":"max","interval":"2m","unit":"%"}]`
		return o
	}
	var warn bytes.Buffer
	o := newOpts()
	o.IgnoreUnused, o.Warn = true, &warn
	cfg, cl, err := o.Resolve(changed("metrics", "success-rate", "latency-p99", "object"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Metrics) != 1 || cfg.Metrics[0].Name != "errors" || cfg.Prometheus.URL != DefaultPrometheus || cl.Strategy != StrategyPipewright {
		t.Errorf("resolved %+v %+v", cfg, cl)
	}
	for _, want := range []string{"not used by --strategy pipewright, ignored: --object", "--metrics replaces the built-in metrics, ignored: --success-rate --latency-p99"} {
		if !strings.Contains(warn.String(), want) {
			t.Errorf("warnings %q lack %q", warn.String(), want)
		}
	}
	if _, _, err := newOpts().Resolve(changed("metrics", "success-rate")); err == nil || !strings.Contains(err.Error(), "--metrics replaces the built-in metrics") {
		t.Errorf("strict: %v", err)
	}
	// Without --metrics the two built-ins take the thresholds given.
	o = newOpts()
	o.Metrics, o.SuccessMin, o.LatencyMax = "", 99.5, 250
	cfg, _, err = o.Resolve(changed("success-rate", "latency-p99"))
	if err != nil || *cfg.Metrics[0].Min != 99.5 || *cfg.Metrics[1].Max != 250 {
		t.Errorf("built-ins: %v %+v", err, cfg.Metrics)
	}
}
