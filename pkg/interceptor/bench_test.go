package interceptor_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pipewright/pipewright/pkg/github/githubtest"
	"github.com/pipewright/pipewright/pkg/interceptor"
	triggersv1 "github.com/tektoncd/triggers/pkg/apis/triggers/v1beta1"
)

// noRuns is an empty namespace for the replay lookups.
type noRuns struct{}

func (noRuns) Exists(context.Context, string, map[string]string) (bool, error) { return false, nil }
func (noRuns) Cancel(context.Context, string, map[string]string) ([]string, error) {
	return nil, nil
}
func (noRuns) Prune(context.Context, string, map[string]string, int) ([]string, error) {
	return nil, nil
}

// BenchmarkConcurrentTLS: the interceptor behind its self-signed TLS, as
// Triggers calls it, with 50 requests in flight. Each is a /retest on a pull
// request by a collaborator: the replay lookups, then two GitHub calls (the
// PR, the commenter's permission) to the in-repo GitHub API test server.
// Reports the latency percentiles a caller sees (p50-ms, p99-ms).
func BenchmarkConcurrentTLS(b *testing.B) {
	const concurrency = 50
	gh := githubtest.New(b)
	gh.RateLimit = 1 << 30 // the interceptor is measured here, not a token's hourly quota
	gh.AddRepo(repo)
	gh.AddPull(repo, githubtest.Pull{Number: 1, Author: "Codertocat", Association: "OWNER", HeadSHA: head, HeadRef: "patch-1", BaseRef: "master"})
	gh.SetPermission(repo, "Codertocat", "admin")
	s, err := interceptor.NewSelfSigned("ci", "api-interceptor", time.Now())
	if err != nil {
		b.Fatal(err)
	}
	h := &interceptor.Interceptor{GitHub: client(b, gh.URL), Repositories: []string{repo}, Namespace: "ci", Runs: noRuns{}}
	srv := interceptor.NewServer("", h, nil, interceptor.TLSConfig(func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return &s.Cert, nil }))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.ServeTLS(ln, "", "")
	defer srv.Close()
	c := &http.Client{Transport: &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: caPool(b, s.CAPEM), ServerName: "api-interceptor.ci.svc", MinVersion: tls.VersionTLS12},
		MaxIdleConnsPerHost: concurrency,
	}}
	comment, _ := json.Marshal(map[string]any{
		"action":     "created",
		"issue":      map[string]any{"number": 1, "pull_request": map[string]any{"url": "x"}},
		"comment":    map[string]any{"body": "/retest", "user": map[string]any{"login": "Codertocat"}},
		"repository": map[string]any{"full_name": repo},
	})
	req := request("issue_comment", repo, string(comment), "ci")
	body, _ := json.Marshal(req)
	url := "https://" + ln.Addr().String() + "/"
	call := func() (time.Duration, error) {
		start := time.Now()
		resp, err := c.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		var out triggersv1.InterceptorResponse
		data, _ := io.ReadAll(resp.Body)
		if err := json.Unmarshal(data, &out); err != nil || !out.Continue {
			return 0, fmt.Errorf("answer %s: %v", data, err)
		}
		return time.Since(start), nil
	}
	if _, err := call(); err != nil { // warm: the first handshake
		b.Fatal(err)
	}
	lat := make([]time.Duration, b.N)
	var wg sync.WaitGroup
	next := make(chan int)
	b.ResetTimer()
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next { // keep draining after an error, so the sender never blocks
				d, err := call()
				if err != nil {
					b.Error(err)
					continue
				}
				lat[i] = d
			}
		}()
	}
	for i := range b.N {
		next <- i
	}
	close(next)
	wg.Wait()
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) / float64(time.Millisecond) }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
