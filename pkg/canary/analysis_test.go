package canary

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// releaseConfig is a short release for tests: 2 steps, a sample every 2s.
func releaseConfig(app, promURL string, progress *bytes.Buffer) Config {
	return Config{
		App:          app,
		Namespace:    "default",
		Image:        "registry.example/app@sha256:" + strings.Repeat("ab", 32),
		Steps:        []int{50, 100},
		Interval:     2 * time.Second,
		Samples:      2,
		FailureLimit: 3,
		Window:       "5s",
		Prometheus:   &Prometheus{URL: promURL, Timeout: 5 * time.Second, Attempts: 3, Backoff: 200 * time.Millisecond},
		Progress:     progress,
	}
}

// waitScraped waits until Prometheus has scraped both tracks, so the first
// sample of a release is not spent on Prometheus' start.
func waitScraped(t *testing.T, promURL string) {
	t.Helper()
	p := &Prometheus{URL: promURL, Timeout: 2 * time.Second}
	deadline := time.Now().Add(20 * time.Second)
	for {
		v, err := p.Query(context.Background(), `count(up == 1)`)
		if err == nil && v == 2 {
			// and the stable version has a rate, which the preflight needs
			if _, err = p.Query(context.Background(), `sum(rate(http_requests_total{track="stable"}[5s])) > 0`); err == nil {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus has not scraped both tracks after 20s (last: %v, %v)", v, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestReleaseAgainstPrometheus drives whole releases against a real
// Prometheus scraping a real app whose load follows the weights.
func TestReleaseAgainstPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Prometheus for several seconds")
	}
	for _, tc := range []struct {
		name        string
		canary      behaviour
		outcome     Phase
		weights     []int // every weight the router was given
		calls       []string
		reasonHas   string
		finalWeight int
	}{
		{
			name:        "good canary is promoted",
			canary:      behaviour{},
			outcome:     Promoted,
			weights:     []int{50, 100, 0},
			calls:       []string{"deploy IMG", "promote IMG", "scale-down"},
			finalWeight: 100,
		},
		{
			name:        "failing canary is rolled back",
			canary:      behaviour{FailShare: 0.3},
			outcome:     RolledBack,
			weights:     []int{50, 0},
			calls:       []string{"deploy IMG", "remove"},
			reasonHas:   "success-rate=",
			finalWeight: 50,
		},
		{
			name:        "slow canary is rolled back",
			canary:      behaviour{Delay: 700 * time.Millisecond},
			outcome:     RolledBack,
			weights:     []int{50, 0},
			calls:       []string{"deploy IMG", "remove"},
			reasonHas:   "latency-p99=",
			finalWeight: 50,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			app := startApp(t, "shop", tc.canary)
			promURL := startPrometheus(t, app.Stable, app.Canary)
			app.drive(t, 100)
			waitScraped(t, promURL)

			var progress bytes.Buffer
			cfg := releaseConfig("shop", promURL, &progress)
			w := &recordingWorkload{}
			store := &memStore{}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			res, err := Run(ctx, cfg, w, app, store)
			t.Logf("progress:\n%s", progress.String())
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != tc.outcome {
				t.Fatalf("outcome %s (%s), want %s", res.Outcome, res.Reason, tc.outcome)
			}
			if !reflect.DeepEqual(app.weights, tc.weights) {
				t.Errorf("weights set %v, want %v", app.weights, tc.weights)
			}
			var want []string
			for _, c := range tc.calls {
				want = append(want, strings.ReplaceAll(c, "IMG", cfg.Image))
			}
			if !reflect.DeepEqual(w.calls, want) {
				t.Errorf("workload calls %q, want %q", w.calls, want)
			}
			if !strings.Contains(res.Reason, tc.reasonHas) {
				t.Errorf("reason %q does not name %q", res.Reason, tc.reasonHas)
			}
			if res.FinalWeight != tc.finalWeight {
				t.Errorf("final weight %d, want %d", res.FinalWeight, tc.finalWeight)
			}
			if store.st.Phase != tc.outcome || store.st.Image != cfg.Image {
				t.Errorf("stored state %+v, want phase %s for %s", store.st, tc.outcome, cfg.Image)
			}
			// Bounded time: a rollback within the worst case plus the
			// samples a canary can pass before it breaks (none here).
			limit := cfg.MinimumPromote() + 2*cfg.WorstCaseRollback()
			if res.Duration > limit {
				t.Errorf("took %s, more than %s", res.Duration, limit)
			}
			if !strings.Contains(progress.String(), "worst-case time to rollback: 6s") ||
				!strings.Contains(progress.String(), "minimum time to promote: 8s") {
				t.Errorf("progress does not print the timings:\n%s", progress.String())
			}
			if app.sent[1].Load() == 0 {
				t.Error("the canary got no traffic")
			}
		})
	}
}

// TestPreflightRefuses: a release whose analysis cannot work is refused
// before anything is deployed or routed, and no progress is written (the
// route, where it is kept, is not touched), against a real Prometheus.
func TestPreflightRefuses(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Prometheus")
	}
	_, promURL := scrapedShop(t, 50)

	// A port nothing listens on: Prometheus is down.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	downURL := "http://" + l.Addr().String()
	l.Close()

	// A listener that accepts and never answers: a hung Prometheus.
	hung, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hung.Close() })
	go func() {
		for {
			c, err := hung.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()

	for _, tc := range []struct {
		name    string
		url     string
		timeout time.Duration
		query   string
		reason  []string
	}{
		{
			name:   "prometheus down",
			url:    downURL,
			reason: []string{"preflight", "prometheus unreachable after 3 attempts", "connection refused"},
		},
		{
			name:   "syntax error",
			query:  `sum(rate(http_requests_total{app="{{.App}}"}[{{.Window}}])`,
			reason: []string{"preflight", "prometheus: bad_data", "parse error"},
		},
		{
			name:   "the stable version has no data",
			query:  `sum(rate(http_requests_total{app="no-such-app",track="{{.Track}}"}[{{.Window}}]))`,
			reason: []string{"preflight: metric custom: the stable version has no data"},
		},
		{
			name:    "timeout",
			url:     "http://" + hung.Addr().String(),
			timeout: 300 * time.Millisecond,
			reason:  []string{"preflight", "unreachable after 3 attempts", "no answer within the query timeout 300ms (+1s)"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var progress bytes.Buffer
			cfg := releaseConfig("shop", promURL, &progress)
			cfg.Interval = time.Second
			if tc.url != "" {
				cfg.Prometheus.URL = tc.url
			}
			if tc.timeout != 0 {
				cfg.Prometheus.Timeout = tc.timeout
			}
			if tc.query != "" {
				cfg.Metrics = []Metric{{Name: "custom", Query: tc.query, Min: ptr(1)}}
			}
			router := &weightLog{}
			store := &memStore{}
			w := &recordingWorkload{}
			res, err := Run(context.Background(), cfg, w, router, store)
			t.Logf("progress:\n%s", progress.String())
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != Refused {
				t.Fatalf("outcome %s (%s), want %s", res.Outcome, res.Reason, Refused)
			}
			for _, s := range tc.reason {
				if !strings.Contains(res.Reason, s) {
					t.Errorf("reason %q does not say %q", res.Reason, s)
				}
			}
			if len(*router) != 0 || len(w.calls) != 0 || len(store.saves) != 0 {
				t.Errorf("refused, yet weights %v, workload calls %v, saves %v", *router, w.calls, store.saves)
			}
			if !strings.HasPrefix(res.Summary(), "refused "+cfg.Image+" before any traffic moved: preflight") {
				t.Errorf("summary %q", res.Summary())
			}
		})
	}
}

// promProxy stands in front of a real Prometheus and answers the canary's
// queries (those naming track="canary") with what fail says, while fail
// returns true; the stable's queries always reach Prometheus.
func promProxy(t *testing.T, promURL string, fail func(n int) (code int, body string, ok bool)) string {
	t.Helper()
	target, err := url.Parse(promURL)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/query" {
			body, _ := io.ReadAll(r.Body)
			form, _ := url.ParseQuery(string(body))
			r.Body = io.NopCloser(bytes.NewReader(body))
			if strings.Contains(form.Get("query"), `track="canary"`) {
				if code, answer, ok := fail(int(n.Add(1))); ok {
					if code == 0 { // the connection drops: Prometheus stopped
						hj, _ := w.(http.Hijacker)
						c, _, _ := hj.Hijack()
						c.Close()
						return
					}
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(code)
					io.WriteString(w, answer)
					return
				}
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// Prometheus' own answers for an overloaded or restarting server.
const (
	unavailable503 = `{"status":"error","errorType":"unavailable","error":"too many concurrent queries"}`
	execution422   = `{"status":"error","errorType":"execution","error":"query processing would load too many samples into memory"}`
)

// TestTransientQueryErrors: query errors that may pass (a JSON 503 or 422,
// a Prometheus stopped mid-release) are retried at the next sample and are
// not failures; more than the consecutive-error limit in a row roll back,
// and the release is never promoted on them.
func TestTransientQueryErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Prometheus")
	}
	app, promURL := scrapedShop(t, 100)

	for _, tc := range []struct {
		name    string
		fail    func(n int) (int, string, bool)
		outcome Phase
		errored int // samples with a query error
		reason  []string
	}{
		{
			// Two metrics per sample: queries 1-4 are the first two samples.
			name:    "503 for two samples, then answers",
			fail:    func(n int) (int, string, bool) { return 503, unavailable503, n <= 4 },
			outcome: Promoted,
			errored: 2,
		},
		{
			name:    "422 every time",
			fail:    func(int) (int, string, bool) { return 422, execution422, true },
			outcome: RolledBack,
			errored: 3,
			reason:  []string{"analysis aborted: 3 consecutive query errors (limit 2)", "prometheus: execution: query processing would load too many samples"},
		},
		{
			// After the preflight (the stable's queries), once traffic moved.
			name:    "prometheus stopped mid-release",
			fail:    func(int) (int, string, bool) { return 0, "", true },
			outcome: RolledBack,
			errored: 3,
			reason:  []string{"3 consecutive query errors (limit 2)", "prometheus unreachable after 3 attempts"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var progress bytes.Buffer
			cfg := releaseConfig("shop", promProxy(t, promURL, tc.fail), &progress)
			cfg.Interval, cfg.Samples, cfg.ConsecutiveErrorLimit = time.Second, 1, 2
			store := &memStore{}
			res, err := Run(context.Background(), cfg, &recordingWorkload{}, app, store)
			t.Logf("progress:\n%s", progress.String())
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != tc.outcome {
				t.Fatalf("outcome %s (%s), want %s", res.Outcome, res.Reason, tc.outcome)
			}
			for _, s := range tc.reason {
				if !strings.Contains(res.Reason, s) {
					t.Errorf("reason %q does not say %q", res.Reason, s)
				}
			}
			errored := 0
			for _, st := range res.Steps {
				for _, s := range st.Samples {
					for _, c := range s.Checks {
						if c.Verdict == Errored {
							errored++
							break
						}
					}
				}
			}
			if errored != tc.errored {
				t.Errorf("%d samples with query errors, want %d", errored, tc.errored)
			}
			for _, s := range store.saves {
				if s.Failures != 0 {
					t.Fatalf("a query error was counted as a failure: %+v", s)
				}
			}
		})
	}
}

// TestNonFiniteNeverPromotes: +Inf passes a lower bound and -Inf an upper
// one as numbers; both are no data, like NaN, and roll the release back.
// The values come from a real Prometheus (1/0, -1/0).
func TestNonFiniteNeverPromotes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Prometheus")
	}
	_, promURL := scrapedShop(t, 50)
	// The stable version answers 1 (preflight passes); the canary ±Inf.
	for _, tc := range []struct {
		name  string
		query string
		m     Metric
	}{
		{"+Inf above a minimum", `{{if eq .Track "canary"}}1/0{{else}}1{{end}}`, Metric{Min: ptr(0)}},
		{"-Inf below a maximum", `{{if eq .Track "canary"}}-1/0{{else}}1{{end}}`, Metric{Max: ptr(5)}},
		{"NaN", `{{if eq .Track "canary"}}0/0{{else}}1{{end}}`, Metric{Max: ptr(5)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var progress bytes.Buffer
			cfg := releaseConfig("shop", promURL, &progress)
			cfg.Interval, cfg.FailureLimit = 500*time.Millisecond, 2
			m := tc.m
			m.Name, m.Query = "ratio", tc.query
			cfg.Metrics = []Metric{m}
			res, err := Run(context.Background(), cfg, &recordingWorkload{}, &weightLog{}, &memStore{})
			t.Logf("progress:\n%s", progress.String())
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != RolledBack || !strings.Contains(res.Reason, "failure limit reached (2/2): ratio=no data") {
				t.Fatalf("outcome %s (%s), want rolled back on no data", res.Outcome, res.Reason)
			}
		})
	}
}

type weightLog []int

func (w *weightLog) SetWeight(_ context.Context, weight int) error {
	*w = append(*w, weight)
	return nil
}

// TestPrometheusTimeoutParameter: the query timeout is also sent to
// Prometheus, whose own timeout error is final (no retries).
func TestPrometheusTimeoutParameter(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Prometheus")
	}
	app := startApp(t, "shop", behaviour{})
	promURL := startPrometheus(t, app.Stable, app.Canary)
	p := &Prometheus{URL: promURL, Timeout: time.Nanosecond, Attempts: 3}
	_, err := p.Query(context.Background(), `sum(rate(http_requests_total[5m]))`)
	var qe *QueryError
	if !errors.As(err, &qe) || qe.Type != "timeout" {
		t.Fatalf("error %v, want Prometheus' own timeout error", err)
	}
	t.Logf("prometheus said: %v", err)
}

// A release stopped before its decision (Tekton's SIGTERM on a cancelled or
// timed-out TaskRun cancels the context) rolls back instead of leaving the
// traffic split.
func TestCancelledReleaseRollsBack(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Prometheus (the preflight)")
	}
	_, promURL := scrapedShop(t, 50)
	var progress bytes.Buffer
	cfg := releaseConfig("shop", promURL, &progress)
	cfg.Interval, cfg.Drain = time.Hour, time.Millisecond
	ctx, cancel := context.WithCancelCause(context.Background())
	time.AfterFunc(1500*time.Millisecond, func() { cancel(errors.New("SIGTERM")) })
	w, r, s := &recordingWorkload{}, &weightLog{}, &memStore{}
	res, err := Run(ctx, cfg, w, r, s)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, progress.String())
	}
	if res.Outcome != RolledBack || !strings.Contains(res.Reason, "stopped before a decision (SIGTERM)") {
		t.Errorf("outcome %s reason %q", res.Outcome, res.Reason)
	}
	if got := []int(*r); len(got) != 2 || got[0] != 50 || got[1] != 0 {
		t.Errorf("weights %v, want [50 0]", got)
	}
	if got := w.calls; len(got) != 2 || got[1] != "remove" {
		t.Errorf("workload calls %v, want deploy then remove", got)
	}
	if s.st.Phase != RolledBack {
		t.Errorf("stored phase %s", s.st.Phase)
	}
}
