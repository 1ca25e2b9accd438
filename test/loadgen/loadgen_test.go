package loadgen

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A server that fails every third request with 500 and names its version:
// the generator records each answer with its code and version, at the
// rate asked for, and nothing after Stop.
func TestRecordsWhatUsersSaw(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%3 == 0 {
			w.WriteHeader(http.StatusInternalServerError)
		}
		fmt.Fprintln(w, "release 2")
	}))
	defer srv.Close()
	start := time.Now()
	g, err := Start(context.Background(), Config{URL: srv.URL, Rate: 100})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	g.Stop()
	stopped := time.Now()
	sent := n.Load()
	time.Sleep(50 * time.Millisecond)
	if n.Load() != sent {
		t.Errorf("requests were sent after Stop returned: %d then %d", sent, n.Load())
	}
	s := Summarize(g.Outcomes(start, stopped))
	// 100/s for half a second: never more (a busy machine's ticker may
	// give fewer).
	if s.Total < 3 || s.Total > 55 {
		t.Errorf("%d requests in 0.5s at 100/s", s.Total)
	}
	got := s.ByVersion["release 2"]
	if got[200]+got[500] != s.Total || got[500] != s.Failed || got[500] != s.Served5xx || s.NoAnswer != 0 || got[500] < s.Total/3-1 || got[500] > s.Total/3+1 {
		t.Errorf("summary %s: want a third of the answers 500 from release 2", s)
	}
	if !strings.Contains(s.String(), "release 2: 200×") {
		t.Errorf("String() = %q", s.String())
	}
}

// A server slower than the timeout: every request ends as a failure
// without an answer, and requests beyond MaxInFlight are dropped, not
// queued.
func TestBounded(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	start := time.Now()
	g, err := Start(context.Background(), Config{URL: srv.URL, Rate: 100, MaxInFlight: 3, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	g.Stop()
	s := Summarize(g.Outcomes(start, time.Now()))
	if s.Total == 0 || s.Failed != s.Total || s.NoAnswer != s.Total || s.Served5xx != 0 {
		t.Fatalf("summary %s: want every request failed without an answer", s)
	}
	if s.Errors["dropped"] != s.Dropped || len(s.Errors) != 2 {
		t.Errorf("error kinds %v: want dropped and the timeout", s.Errors)
	}
	if s.Dropped == 0 || s.Total-s.Dropped > 3*2 {
		t.Errorf("summary %s: want at most 3 in flight per 200ms timeout, the rest dropped", s)
	}
	for _, o := range g.Outcomes(start, time.Now()) {
		if o.Err != "dropped" && o.Latency > time.Second {
			t.Errorf("a request took %s despite a 200ms timeout", o.Latency)
		}
	}
}

func TestNoURL(t *testing.T) {
	if _, err := Start(context.Background(), Config{}); err == nil {
		t.Fatal("no error without a URL")
	}
}
