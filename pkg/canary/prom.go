package canary

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Prometheus queries the Prometheus HTTP API (/api/v1/query).
type Prometheus struct {
	URL string // base URL, e.g. http://prometheus.monitoring:9090
	// Timeout bounds one query, on the client and (as the timeout
	// parameter) on the server.
	Timeout time.Duration
	// Attempts is the retry budget for a server that cannot be reached or
	// answers 5xx; Backoff is the pause between attempts.
	Attempts int
	Backoff  time.Duration
	Client   *http.Client
}

// ErrNoData is returned for an empty result or a NaN or infinite value (a
// *NotFiniteError): the metric cannot be judged, which is never a pass.
var ErrNoData = errors.New("no data")

// NotFiniteError is a NaN or ±Inf sample: no data, never a pass.
type NotFiniteError struct{ Value string }

func (e *NotFiniteError) Error() string        { return "no data (the value is " + e.Value + ")" }
func (e *NotFiniteError) Is(target error) bool { return target == ErrNoData }

// QueryError is an error Prometheus reported for a query.
type QueryError struct {
	Type, Message string // Prometheus' errorType and error
}

func (e *QueryError) Error() string { return fmt.Sprintf("prometheus: %s: %s", e.Type, e.Message) }

// Transient says whether asking again may work: Prometheus' timeout,
// unavailable (503), execution (422), internal (500) and canceled errors are
// about its load or state at the time, while bad_data (a query that does
// not parse), not_found and pipewright's own complaints about the result's
// shape are about the query and stay.
func (e *QueryError) Transient() bool {
	switch e.Type {
	case "timeout", "unavailable", "execution", "internal", "canceled":
		return true
	}
	return false
}

// Transient reports whether err, from Query, may go away by itself: a
// Prometheus that cannot be reached or answers a transient error. Such
// errors are retried at the next sample, up to the consecutive-error limit;
// any other error ends the analysis.
func Transient(err error) bool {
	var ue *UnreachableError
	var qe *QueryError
	switch {
	case errors.As(err, &ue):
		return true
	case errors.As(err, &qe):
		return qe.Transient()
	}
	return false
}

// UnreachableError means the retry budget ran out without an answer.
type UnreachableError struct {
	Attempts int
	Err      error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("prometheus unreachable after %d attempts: %v", e.Attempts, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// apiResponse is the envelope of every /api/v1 answer.
type apiResponse struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
}

type queryData struct {
	ResultType string          `json:"resultType"`
	Result     json.RawMessage `json:"result"`
}

// Query evaluates promql at now and returns its single value. It returns
// ErrNoData for an empty vector, NaN or ±Inf, a *QueryError for an error Prometheus
// reports (bad syntax, its own timeout), and an *UnreachableError when the
// server cannot be reached within the retry budget.
func (p *Prometheus) Query(ctx context.Context, promql string) (float64, error) {
	attempts := max(p.Attempts, 1)
	var last error
	for i := range attempts {
		if i > 0 {
			select {
			case <-ctx.Done():
				return 0, ctx.Err()
			case <-time.After(p.Backoff):
			}
		}
		v, retry, err := p.query(ctx, promql)
		if !retry {
			return v, err
		}
		last = err
		if ctx.Err() != nil {
			break
		}
	}
	return 0, &UnreachableError{Attempts: attempts, Err: last}
}

func (p *Prometheus) query(ctx context.Context, promql string) (v float64, retry bool, err error) {
	client := p.Client
	if client == nil {
		client = http.DefaultClient
	}
	form := url.Values{"query": {promql}}
	if p.Timeout > 0 {
		form.Set("timeout", strconv.FormatFloat(p.Timeout.Seconds(), 'f', -1, 64))
		// The client waits a little longer than Prometheus, so that a
		// server that is alive reports its own timeout error.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.Timeout+time.Second)
		defer cancel()
	}
	u := strings.TrimSuffix(p.URL, "/") + "/api/v1/query"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, false, fmt.Errorf("prometheus URL %q: %w", p.URL, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("no answer within the query timeout %s (+1s): %w", p.Timeout, err)
		}
		return 0, true, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return 0, true, fmt.Errorf("reading the answer: %w", err)
	}
	var r apiResponse
	if err := json.Unmarshal(body, &r); err != nil {
		// A proxy's 502 page or similar: not Prometheus talking.
		return 0, resp.StatusCode >= 500, fmt.Errorf("%s %s: %s: not a Prometheus API answer: %.200s", req.Method, u, resp.Status, body)
	}
	if r.Status != "success" {
		// Prometheus answered (bad_data 400, execution 422, timeout or
		// unavailable 503...): not retried here; the analysis decides
		// with Transient whether the next sample may ask again.
		return 0, false, &QueryError{Type: r.ErrorType, Message: r.Error}
	}
	v, err = parseValue(r.Data)
	return v, false, err
}

// parseValue reads a vector of at most one sample or a scalar.
func parseValue(raw json.RawMessage) (float64, error) {
	var d queryData
	if err := json.Unmarshal(raw, &d); err != nil {
		return 0, fmt.Errorf("prometheus answer: %w", err)
	}
	var pair []json.RawMessage
	switch d.ResultType {
	case "vector":
		var vec []struct {
			Metric map[string]string `json:"metric"`
			Value  []json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(d.Result, &vec); err != nil {
			return 0, fmt.Errorf("prometheus vector: %w", err)
		}
		if len(vec) == 0 {
			return 0, ErrNoData
		}
		if len(vec) > 1 {
			return 0, &QueryError{Type: "pipewright", Message: fmt.Sprintf("the query returns %d series, want one (aggregate it, e.g. with sum(...))", len(vec))}
		}
		pair = vec[0].Value
	case "scalar":
		if err := json.Unmarshal(d.Result, &pair); err != nil {
			return 0, fmt.Errorf("prometheus scalar: %w", err)
		}
	default:
		return 0, &QueryError{Type: "pipewright", Message: fmt.Sprintf("the query returns a %s, want an instant vector or a scalar", d.ResultType)}
	}
	if len(pair) != 2 {
		return 0, fmt.Errorf("prometheus sample: want [time, value], got %d fields", len(pair))
	}
	var s string
	if err := json.Unmarshal(pair[1], &s); err != nil {
		return 0, fmt.Errorf("prometheus sample value: %w", err)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("prometheus sample value %q: %w", s, err)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		// A division by a zero rate gives ±Inf as readily as NaN: neither
		// is a measurement, and +Inf would pass a lower bound.
		return 0, &NotFiniteError{Value: s}
	}
	return v, nil
}
