package canary

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// This file runs the real parts the analysis talks to: Debian's Prometheus
// server on loopback, and a small HTTP app in two tracks that it scrapes.

var (
	promOnce sync.Once
	promBin  string
	promErr  error
)

// prometheusBinary runs test/prometheus.sh once; it installs the package if
// needed. The test is skipped, with the reason, when that is impossible here.
func prometheusBinary(t *testing.T) string {
	t.Helper()
	promOnce.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		script := filepath.Join(filepath.Dir(file), "..", "..", "test", "prometheus.sh")
		cmd := exec.Command("bash", script)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			promErr = fmt.Errorf("test/prometheus.sh: %w", err)
			return
		}
		promBin = strings.TrimSpace(string(out))
	})
	if promErr != nil {
		if ee, ok := promErr.(interface{ ExitCode() int }); ok && ee.ExitCode() == 3 {
			t.Skipf("no Prometheus server: %v (see its message above)", promErr)
		}
		t.Fatal(promErr)
	}
	return promBin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startPrometheus runs a Prometheus server scraping targets every second and
// returns its URL. It is stopped when the test ends.
func startPrometheus(t *testing.T, targets ...string) string {
	t.Helper()
	bin := prometheusBinary(t)
	dir := t.TempDir()
	quoted := make([]string, len(targets))
	for i, tg := range targets {
		quoted[i] = fmt.Sprintf("%q", tg)
	}
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
- job_name: app
  static_configs:
  - targets: [%s]
`, strings.Join(quoted, ", "))
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	logf, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin,
		"--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
	)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("prometheus log:\n%s", tail(string(b), 20))
		}
	})
	url := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-exited:
			b, _ := os.ReadFile(logf.Name())
			t.Fatalf("prometheus exited: %v\n%s", err, tail(string(b), 20))
		default:
		}
		if resp, err := http.Get(url + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("prometheus not ready after 30s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// behaviour is how one track of the test app answers.
type behaviour struct {
	FailShare float64       // share of requests answered 500
	Delay     time.Duration // added to every request
}

// testApp is the app in two tracks, stable and canary, each on its own
// listener with its own /metrics, instrumented the conventional way
// (http_requests_total{code}, http_request_duration_seconds) and labelled
// app and track.
type testApp struct {
	Stable, Canary string // host:port
	weight         atomic.Int32
	sent           [2]atomic.Int64 // requests sent to stable, canary
	mu             sync.Mutex
	weights        []int // every weight set, in order
}

func startApp(t *testing.T, app string, canary behaviour) *testApp {
	t.Helper()
	a := &testApp{}
	a.Stable = serveTrack(t, app, "stable", behaviour{})
	a.Canary = serveTrack(t, app, "canary", canary)
	return a
}

func serveTrack(t *testing.T, app, track string, b behaviour) string {
	reg := prometheus.NewRegistry()
	// deployment: the Deployment's name, which {{ .Canary }} and {{ .Stable }} give.
	deployment := app
	if track == "canary" {
		deployment = CanaryName(app)
	}
	labels := prometheus.Labels{"app": app, "track": track, "deployment": deployment}
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "http_requests_total", Help: "Requests served.", ConstLabels: labels,
	}, []string{"code"})
	duration := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "http_request_duration_seconds", Help: "Request latency.", ConstLabels: labels,
		Buckets: prometheus.DefBuckets,
	})
	reg.MustRegister(requests, duration)
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		time.Sleep(b.Delay)
		code := http.StatusOK
		if rand.Float64() < b.FailShare {
			code = http.StatusInternalServerError
		}
		w.WriteHeader(code)
		requests.WithLabelValues(fmt.Sprint(code)).Inc()
		duration.Observe(time.Since(start).Seconds())
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

// SetWeight makes testApp a Router: the load loop sends weight percent of
// the requests to the canary listener. It is the data plane a Gateway would
// be.
func (a *testApp) SetWeight(_ context.Context, weight int) error {
	a.weight.Store(int32(weight))
	a.mu.Lock()
	a.weights = append(a.weights, weight)
	a.mu.Unlock()
	return nil
}

// drive sends rps requests a second, split by the current weight, until the
// test ends.
func (a *testApp) drive(t *testing.T, rps int) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	client := &http.Client{Timeout: 5 * time.Second}
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Second / time.Duration(rps))
		defer tick.Stop()
		n := 0
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			n++
			// Deterministic split: of every 100 requests, weight go to the canary.
			to, i := a.Stable, 0
			if n%100 < int(a.weight.Load()) {
				to, i = a.Canary, 1
			}
			a.sent[i].Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+to+"/", nil)
				if resp, err := client.Do(req); err == nil {
					resp.Body.Close()
				}
			}()
		}
	}()
}

// scrapedShop is a healthy "shop" app driven at rps requests a second and
// a real Prometheus that has scraped both its tracks at least once.
func scrapedShop(t *testing.T, rps int) (*testApp, string) {
	t.Helper()
	app := startApp(t, "shop", behaviour{})
	promURL := startPrometheus(t, app.Stable, app.Canary)
	app.drive(t, rps)
	waitScraped(t, promURL)
	return app, promURL
}

// memStore keeps State in memory, for runs without a cluster.
type memStore struct {
	mu    sync.Mutex
	st    State
	saves []State
}

func (m *memStore) Load(context.Context) (State, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.st, nil
}

func (m *memStore) Save(_ context.Context, s State) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.st = s
	m.saves = append(m.saves, s)
	return nil
}

// recordingWorkload records the Workload calls of runs without a cluster;
// the Kubernetes Workload is tested against the API server.
type recordingWorkload struct {
	mu    sync.Mutex
	calls []string
}

func (w *recordingWorkload) add(s string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls = append(w.calls, s)
	return nil
}
func (w *recordingWorkload) DeployCanary(_ context.Context, image string) error {
	return w.add("deploy " + image)
}
func (w *recordingWorkload) PromoteStable(_ context.Context, image string) error {
	return w.add("promote " + image)
}
func (w *recordingWorkload) ScaleDownCanary(context.Context) error { return w.add("scale-down") }
func (w *recordingWorkload) RemoveCanary(context.Context) error    { return w.add("remove") }
