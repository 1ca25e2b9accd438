package interceptor

import (
	"context"
	"crypto/tls"
	"net/http"
	"time"
)

// MaxRequestBytes bounds an InterceptorRequest. It carries the webhook
// payload as a JSON string (an issue_comment: the comment, the issue and
// the repository), which GitHub keeps far below this; a comment and an
// issue body at GitHub's 65,536-character limits, escaped twice, still fit.
const MaxRequestBytes = 4 << 20

// Server timeouts: Triggers' EventListener waits for the answer, which may
// take a few GitHub API calls (retried with backoff) to make.
const (
	ReadHeaderTimeout = 10 * time.Second
	ReadTimeout       = 30 * time.Second
	WriteTimeout      = 60 * time.Second
	IdleTimeout       = 120 * time.Second
)

// ReadyPath answers GET with 200 once the server can be called (its CA
// published, in the self-signed mode), 503 before.
const ReadyPath = "/ready"

// NewServer is the interceptor's HTTP server: h at /, the readiness check
// at ReadyPath (ready may be nil: always ready), and timeouts; the
// Interceptor bounds its request bodies itself. With tlsConfig it is meant for ListenAndServeTLS("", "").
func NewServer(addr string, h http.Handler, ready func() bool, tlsConfig *tls.Config) *http.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+ReadyPath, func(w http.ResponseWriter, _ *http.Request) {
		if ready != nil && !ready() {
			http.Error(w, "not ready: the CA is not published yet", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	})
	mux.Handle("/", h)
	return &http.Server{
		Addr:              addr,
		Handler:           mux,
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    64 << 10,
	}
}

// TLSConfig serves the certificate getCert returns, TLS 1.2 at least (what
// Triggers' EventListener client asks for).
func TLSConfig(getCert func(*tls.ClientHelloInfo) (*tls.Certificate, error)) *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: getCert}
}

// DefaultDrain is how long a stopping interceptor keeps serving: the
// EventListener holds keep-alive connections to the old Pod, and the
// Service keeps routing new ones to it until its endpoint is removed; a
// Pod that closed them at once answered a delivery with a connection reset
// (seen on the node right after a Pod restart).
const DefaultDrain = 5 * time.Second

// ShutdownAfterDrain stops srv when ctx ends: it first serves on for drain
// with keep-alives off (every answer closes its connection, so callers
// reconnect, to the new Pod once the Service routes there), then shuts
// down, waiting up to ten seconds for requests in flight.
func ShutdownAfterDrain(ctx context.Context, srv *http.Server, drain time.Duration) {
	<-ctx.Done()
	srv.SetKeepAlivesEnabled(false)
	time.Sleep(drain)
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdown)
}
