package canary

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// hookServer answers each webhook call with answer(n) for the n-th call
// (1-based) and records the payloads.
type hookServer struct {
	URL      string
	mu       sync.Mutex
	payloads []WebhookPayload
}

func startHook(t *testing.T, answer func(n int) (code int, delay time.Duration)) *hookServer {
	h := &hookServer{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p WebhookPayload
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil || r.Method != http.MethodPost {
			http.Error(w, "want a POST of JSON", http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.payloads = append(h.payloads, p)
		n := len(h.payloads)
		h.mu.Unlock()
		code, delay := answer(n)
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		w.WriteHeader(code)
		w.Write([]byte("answer " + http.StatusText(code)))
	}))
	t.Cleanup(srv.Close)
	h.URL = srv.URL
	return h
}

func (h *hookServer) calls() []WebhookPayload {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.payloads)
}

// TestWebhooks: the three points Flagger calls webhooks at, as real HTTP
// calls with timeouts, in releases analysed by a real Prometheus.
func TestWebhooks(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Prometheus")
	}
	app, promURL := scrapedShop(t, 100)
	ok := func(int) (int, time.Duration) { return 200, 0 }

	for _, tc := range []struct {
		name     string
		typ      string
		answer   func(n int) (int, time.Duration)
		outcome  Phase
		weights  []int
		reason   string
		calls    int
		phase    string
		metadata bool
	}{
		{"pre-rollout fails: no traffic moves", PreRollout, func(int) (int, time.Duration) { return 500, 0 },
			RolledBack, []int{0}, "pre-rollout: webhook hook: 500 Internal Server Error: answer Internal Server Error", 1, "Progressing", true},
		{"pre-rollout times out", PreRollout, func(int) (int, time.Duration) { return 200, 5 * time.Second },
			RolledBack, []int{0}, "pre-rollout: webhook hook: no answer within 300ms", 1, "Progressing", false},
		{"pre-rollout passes", PreRollout, ok, Promoted, []int{50, 100, 0}, "", 1, "Progressing", false},
		{"rollout (load test) fails: failing samples", Rollout, func(int) (int, time.Duration) { return 503, 0 },
			RolledBack, []int{50, 0}, "failure limit reached (2/2): webhook hook: webhook hook: 503 Service Unavailable", 2, "Progressing", false},
		{"rollout runs at every sample", Rollout, ok, Promoted, []int{50, 100, 0}, "", 2, "Progressing", false},
		{"confirm-promotion waits for a 2xx", ConfirmPromotion, func(n int) (int, time.Duration) {
			if n < 3 {
				return 403, 0
			}
			return 200, 0
		}, Promoted, []int{50, 100, 0}, "", 3, "Promoting", false},
	} {
		// One after the other: they share the app, whose load follows the
		// weights.
		t.Run(tc.name, func(t *testing.T) {
			hook := startHook(t, tc.answer)
			var progress bytes.Buffer
			cfg := releaseConfig("shop", promURL, &progress)
			// 2s: two scrapes of the canary's new traffic per sample, so a
			// canary idle since the previous case has a rate at once.
			cfg.Interval, cfg.Samples, cfg.FailureLimit = 2*time.Second, 1, 2
			cfg.Webhooks = []Webhook{{Name: "hook", Type: tc.typ, URL: hook.URL, Timeout: 300 * time.Millisecond, Metadata: map[string]string{"suite": "smoke"}}}
			router := &weightLog{}
			res, err := Run(context.Background(), cfg, &recordingWorkload{}, both{router, app}, &memStore{})
			t.Logf("progress:\n%s", progress.String())
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != tc.outcome || !strings.Contains(res.Reason, tc.reason) {
				t.Fatalf("outcome %s (%s), want %s (%s)", res.Outcome, res.Reason, tc.outcome, tc.reason)
			}
			if got := []int(*router); !slices.Equal(got, tc.weights) {
				t.Errorf("weights %v, want %v", got, tc.weights)
			}
			calls := hook.calls()
			if len(calls) != tc.calls {
				t.Fatalf("%d webhook calls, want %d: %+v", len(calls), tc.calls, calls)
			}
			p := calls[0]
			if p.Name != "shop" || p.Namespace != "default" || p.Phase != tc.phase || p.Image != cfg.Image || p.Metadata["suite"] != "smoke" {
				t.Errorf("payload %+v", p)
			}
			if tc.typ == PreRollout && p.Weight != 0 {
				t.Errorf("pre-rollout called at weight %d, want 0", p.Weight)
			}
			if tc.typ == Rollout && (calls[0].Weight != 50 || calls[len(calls)-1].Weight != 100) && tc.outcome == Promoted {
				t.Errorf("rollout calls at weights %d..%d, want 50..100", calls[0].Weight, calls[len(calls)-1].Weight)
			}
		})
	}
}

// TestMetricsList: analysis metrics from a JSON list (what the config and
// --metrics give), with Flagger-style placeholders and their own interval,
// judge the release instead of the built-in two.
func TestMetricsList(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Prometheus")
	}
	const errorRate = `100 * sum(rate(http_requests_total{namespace!="x",deployment="{{if eq .Track "canary"}}{{.Canary}}{{else}}{{.Stable}}{{end}}",code=~"5.."}[{{.Interval}}]) or vector(0))` +
		` / sum(rate(http_requests_total{deployment="{{if eq .Track "canary"}}{{.Canary}}{{else}}{{.Stable}}{{end}}"}[{{.Interval}}]))`
	spec, err := json.Marshal([]MetricSpec{
		{Name: "error-rate", Query: errorRate, Threshold: 5, Direction: "max", Interval: "7s", Unit: "%"},
		{Name: "requests", Query: `sum(rate(http_requests_total{app="{{.App}}",track="{{.Track}}"}[{{.Window}}]))`, Threshold: 1, Direction: "min", Unit: "/s"},
	})
	if err != nil {
		t.Fatal(err)
	}
	metrics, err := ParseMetrics(string(spec))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		canary  behaviour
		outcome Phase
		reason  string
	}{
		{"good", behaviour{}, Promoted, ""},
		{"failing", behaviour{FailShare: 0.3}, RolledBack, "error-rate="},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			app := startApp(t, "shop", tc.canary)
			promURL := startPrometheus(t, app.Stable, app.Canary)
			app.drive(t, 100)
			waitScraped(t, promURL)
			var progress bytes.Buffer
			cfg := releaseConfig("shop", promURL, &progress)
			cfg.Metrics = metrics
			res, err := Run(context.Background(), cfg, &recordingWorkload{}, app, &memStore{})
			t.Logf("progress:\n%s", progress.String())
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != tc.outcome || !strings.Contains(res.Reason, tc.reason) {
				t.Fatalf("outcome %s (%s), want %s", res.Outcome, res.Reason, tc.outcome)
			}
			md := res.Markdown()
			for _, want := range []string{`deployment="shop-canary",code=~"5.."}[7s]`, "| error-rate | ≤ 5% |", "| requests | ≥ 1/s |", `track="canary"}[5s]`} {
				if !strings.Contains(md, want) {
					t.Errorf("report does not show %s:\n%s", want, md)
				}
			}
		})
	}
}

// both passes weights to two routers.
type both [2]Router

func (b both) SetWeight(ctx context.Context, w int) error {
	for _, r := range b {
		if err := r.SetWeight(ctx, w); err != nil {
			return err
		}
	}
	return nil
}
