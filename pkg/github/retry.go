package github

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Retry is an http.RoundTripper that repeats a request GitHub refused for a
// passing reason: a server error (5xx), or a rate limit that says when to come
// back. It sits under go-github so the client only sees the final answer, and
// a status update from a pipeline's finally survives a short GitHub hiccup.
type Retry struct {
	// Base sends the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
	// Attempts is the total number of tries, 5 when zero.
	Attempts int
	// Backoff is the first wait when GitHub gives no hint; it doubles on each
	// retry. 1s when zero. Tests set it small.
	Backoff time.Duration
	// MaxWait caps one wait. A rate limit that resets later than this is not
	// waited for: the error is returned at once. 60s when zero.
	MaxWait time.Duration
	// Sleep waits for d or until ctx ends; tests replace it to record waits.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now reads the clock, for X-RateLimit-Reset; time.Now when nil.
	Now func() time.Time
	// Logf reports each retry (one line); nil is silent.
	Logf func(format string, args ...any)
}

func (r *Retry) attempts() int {
	if r.Attempts > 0 {
		return r.Attempts
	}
	return 5
}

func (r *Retry) backoff() time.Duration {
	if r.Backoff > 0 {
		return r.Backoff
	}
	return time.Second
}

func (r *Retry) maxWait() time.Duration {
	if r.MaxWait > 0 {
		return r.MaxWait
	}
	return time.Minute
}

func (r *Retry) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Retry) sleep(ctx context.Context, d time.Duration) error {
	if r.Sleep != nil {
		return r.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (r *Retry) logf(format string, args ...any) {
	if r.Logf != nil {
		r.Logf(format, args...)
	}
}

// RoundTrip implements http.RoundTripper.
func (r *Retry) RoundTrip(req *http.Request) (*http.Response, error) {
	base := r.Base
	if base == nil {
		base = http.DefaultTransport
	}
	delay := r.backoff()
	for attempt := 1; ; attempt++ {
		if attempt > 1 && req.Body != nil && req.Body != http.NoBody {
			if req.GetBody == nil {
				return nil, fmt.Errorf("%s %s: cannot resend the request body", req.Method, req.URL.Path)
			}
			body, err := req.GetBody()
			if err != nil {
				return nil, fmt.Errorf("%s %s: resend body: %w", req.Method, req.URL.Path, err)
			}
			req = req.Clone(req.Context())
			req.Body = body
		}
		resp, err := base.RoundTrip(req)
		last := attempt >= r.attempts()
		var wait time.Duration
		var why string
		switch {
		case err != nil:
			if req.Context().Err() != nil || last {
				return nil, err
			}
			wait, why = delay, err.Error()
		default:
			var ok bool
			wait, why, ok = r.retryable(resp, delay)
			if !ok || last {
				return resp, nil
			}
			if wait > r.maxWait() {
				// Waiting this long would outlast the step; let the caller
				// report the limit and when it resets.
				return resp, nil
			}
			// The answer is dropped: read it out so the connection is reused.
			io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
			resp.Body.Close()
		}
		r.logf("attempt %d of %d: %s %s: %s; retrying in %s", attempt, r.attempts(), req.Method, req.URL.Path, why, wait)
		if err := r.sleep(req.Context(), wait); err != nil {
			return nil, err
		}
		delay *= 2
	}
}

// retryable says whether resp is worth another try and how long to wait
// first. GitHub's rules: honour Retry-After; with X-RateLimit-Remaining: 0
// wait until X-RateLimit-Reset; a secondary limit without either header gets
// the exponential backoff. A plain 403 is a permission problem, not retried.
func (r *Retry) retryable(resp *http.Response, delay time.Duration) (time.Duration, string, bool) {
	code := resp.StatusCode
	status := fmt.Sprintf("HTTP %d", code)
	if code >= 500 {
		if d, ok := retryAfter(resp.Header); ok {
			return d, status, true
		}
		return delay, status, true
	}
	if code != http.StatusForbidden && code != http.StatusTooManyRequests {
		return 0, "", false
	}
	if d, ok := retryAfter(resp.Header); ok {
		return d, status + " (rate limited, Retry-After)", true
	}
	if resp.Header.Get("X-RateLimit-Remaining") == "0" {
		if reset, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil {
			d := time.Unix(reset, 0).Sub(r.now())
			if d < time.Second {
				d = time.Second
			}
			return d, status + " (rate limit exhausted)", true
		}
		return delay, status + " (rate limit exhausted)", true
	}
	if code == http.StatusTooManyRequests || secondaryLimit(resp) {
		return delay, status + " (secondary rate limit)", true
	}
	return 0, "", false
}

func retryAfter(h http.Header) (time.Duration, bool) {
	v := h.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return time.Until(t), true
	}
	return 0, false
}

// secondaryLimit reads a 403's body for GitHub's secondary rate limit message
// and puts the body back for go-github to parse.
func secondaryLimit(resp *http.Response) bool {
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(data))
	if err != nil {
		return false
	}
	s := strings.ToLower(string(data))
	return strings.Contains(s, "secondary rate limit") || strings.Contains(s, "abuse")
}
