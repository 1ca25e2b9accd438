// Package loadgen sends steady HTTP traffic to one URL and records what each
// user saw: when, the status code, which version answered and how long it
// took. The e2e suite runs it inside its sandbox against the node's Gateway
// while canary releases move traffic, and judges a release by it as well as
// by Prometheus.
//
// It is bounded three ways: a fixed request rate (open loop: a slow server
// does not slow the arrivals down, as with real users), at most MaxInFlight
// requests outstanding (an arrival beyond that is recorded as dropped, not
// queued), and a per-request timeout.
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// Config says where and how hard to send.
type Config struct {
	URL string
	// Rate is requests per second (default 20).
	Rate float64
	// MaxInFlight bounds outstanding requests (default 50).
	MaxInFlight int
	// Timeout bounds one request (default 2s).
	Timeout time.Duration
	// Version names the version that answered, from the response (default:
	// the first line of the body, at most 64 bytes).
	Version func(*http.Response, []byte) string
	Client  *http.Client
}

// Outcome is one request as its user saw it.
type Outcome struct {
	At      time.Time // when it was sent
	Latency time.Duration
	Code    int    // HTTP status; 0 when there was no answer
	Version string // who answered; "" without an answer
	Err     string // transport error or timeout; "dropped" when never sent
}

// Failed reports whether the user got an error: no answer, or a 5xx.
func (o Outcome) Failed() bool { return o.Code == 0 || o.Code >= 500 }

// Generator is a running load.
type Generator struct {
	cfg    Config
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	out    []Outcome
}

// Start begins sending until ctx ends or Stop is called.
func Start(ctx context.Context, cfg Config) (*Generator, error) {
	if cfg.URL == "" {
		return nil, errors.New("loadgen: no URL")
	}
	if cfg.Rate <= 0 {
		cfg.Rate = 20
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 50
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Second
	}
	if cfg.Version == nil {
		cfg.Version = firstLine
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: cfg.MaxInFlight}}
	}
	ctx, cancel := context.WithCancel(ctx)
	g := &Generator{cfg: cfg, cancel: cancel, done: make(chan struct{})}
	go g.run(ctx)
	return g, nil
}

func (g *Generator) run(ctx context.Context) {
	defer close(g.done)
	var wg sync.WaitGroup
	defer wg.Wait()
	slots := make(chan struct{}, g.cfg.MaxInFlight)
	tick := time.NewTicker(time.Duration(float64(time.Second) / g.cfg.Rate))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			select {
			case slots <- struct{}{}:
			default:
				g.record(Outcome{At: now, Err: "dropped"})
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-slots }()
				// Requests already sent run to their answer or timeout:
				// stopping the load does not fail them.
				g.record(g.send(context.WithoutCancel(ctx), now))
			}()
		}
	}
}

func (g *Generator) send(ctx context.Context, at time.Time) Outcome {
	o := Outcome{At: at}
	ctx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.cfg.URL, nil)
	if err != nil {
		o.Err = err.Error()
		return o
	}
	resp, err := g.cfg.Client.Do(req)
	if err != nil {
		o.Latency, o.Err = time.Since(at), err.Error()
		return o
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	o.Latency, o.Code = time.Since(at), resp.StatusCode
	if err != nil {
		o.Err = err.Error()
	}
	o.Version = g.cfg.Version(resp, body)
	return o
}

func (g *Generator) record(o Outcome) {
	g.mu.Lock()
	g.out = append(g.out, o)
	g.mu.Unlock()
}

// Stop ends the load and waits for outstanding requests (at most Timeout).
func (g *Generator) Stop() {
	g.cancel()
	<-g.done
}

// Outcomes returns the requests sent in [from, to), in the order sent.
func (g *Generator) Outcomes(from, to time.Time) []Outcome {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []Outcome
	for _, o := range g.out {
		if !o.At.Before(from) && o.At.Before(to) {
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out
}

// Summary counts outcomes.
type Summary struct {
	// Failed counts both kinds of failure: Served5xx (an error page was
	// served) and NoAnswer (transport error, timeout or dropped).
	Total, Failed, Served5xx, NoAnswer, Dropped int
	// Errors counts the kinds of transport error (the text after the
	// last colon), so a reader sees what "no answer" was.
	Errors map[string]int
	// ByVersion counts answers per version and status code; requests
	// without an answer are under "" with code 0.
	ByVersion map[string]map[int]int
}

// Summarize counts os.
func Summarize(os []Outcome) Summary {
	s := Summary{ByVersion: map[string]map[int]int{}, Errors: map[string]int{}}
	for _, o := range os {
		s.Total++
		if o.Err == "dropped" {
			s.Dropped++
		}
		if o.Failed() {
			s.Failed++
		}
		if o.Code >= 500 {
			s.Served5xx++
		}
		if o.Code == 0 {
			s.NoAnswer++
			kind := o.Err
			if i := strings.LastIndex(kind, ": "); i >= 0 {
				kind = kind[i+2:]
			}
			s.Errors[kind]++
		}
		if s.ByVersion[o.Version] == nil {
			s.ByVersion[o.Version] = map[int]int{}
		}
		s.ByVersion[o.Version][o.Code]++
	}
	return s
}

// String is one line: "120 requests, 3 failed (2.5%): release 1: 200×80; release 2: 200×37 500×3".
func (s Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d requests, %d failed", s.Total, s.Failed)
	if s.Total > 0 {
		fmt.Fprintf(&b, " (%.1f%%: %d served 5xx, %d no answer)", 100*float64(s.Failed)/float64(s.Total), s.Served5xx, s.NoAnswer)
	}
	if s.Dropped > 0 {
		fmt.Fprintf(&b, ", %d dropped", s.Dropped)
	}
	if len(s.Errors) > 0 {
		kinds := make([]string, 0, len(s.Errors))
		for k := range s.Errors {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		b.WriteString(" [")
		for i, k := range kinds {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s ×%d", k, s.Errors[k])
		}
		b.WriteString("]")
	}
	versions := make([]string, 0, len(s.ByVersion))
	for v := range s.ByVersion {
		versions = append(versions, v)
	}
	sort.Strings(versions)
	sep := ": "
	for _, v := range versions {
		name := v
		if name == "" {
			name = "no answer"
		}
		codes := make([]int, 0, len(s.ByVersion[v]))
		for c := range s.ByVersion[v] {
			codes = append(codes, c)
		}
		sort.Ints(codes)
		fmt.Fprintf(&b, "%s%s:", sep, name)
		for _, c := range codes {
			fmt.Fprintf(&b, " %d×%d", c, s.ByVersion[v][c])
		}
		sep = "; "
	}
	return b.String()
}

func firstLine(_ *http.Response, body []byte) string {
	line, _, _ := strings.Cut(string(body), "\n")
	if len(line) > 64 {
		line = line[:64]
	}
	return strings.TrimSpace(line)
}
