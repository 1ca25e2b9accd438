package image

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// RegistryTransport is go-containerregistry's default transport with a
// request failing once it makes no progress for idle (DefaultRegistryIdle
// when zero); for remote.WithTransport.
func RegistryTransport(idle time.Duration) http.RoundTripper {
	if idle <= 0 {
		idle = DefaultRegistryIdle
	}
	return &idleTimeout{next: remote.DefaultTransport, idle: idle}
}

// idleTimeout fails a registry request that makes no progress for idle: no
// response headers, no byte of the request body sent, no byte of the response
// body received. A whole-operation deadline would cut off a slow but moving
// upload of a big layer; this only stops a registry that went silent.
type idleTimeout struct {
	next http.RoundTripper
	idle time.Duration
}

// stalled is the cause a request's context is cancelled with.
type stalled struct {
	host string
	idle time.Duration
}

func (e *stalled) Error() string {
	return fmt.Sprintf("registry %s made no progress for %s (a stalled registry or network)", e.host, e.idle)
}

func (t *idleTimeout) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	w := &watchdog{cancel: cancel, idle: t.idle, cause: &stalled{host: req.URL.Host, idle: t.idle}}
	w.timer = time.AfterFunc(t.idle, w.fire)
	req = req.Clone(ctx)
	if req.Body != nil {
		req.Body = &progressBody{ReadCloser: req.Body, w: w}
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		w.stop()
		return nil, w.explain(err)
	}
	w.kick()
	resp.Body = &progressBody{ReadCloser: resp.Body, w: w, closes: true}
	return resp, nil
}

// watchdog cancels the request when it is not kicked for idle.
type watchdog struct {
	mu     sync.Mutex
	timer  *time.Timer
	idle   time.Duration
	cancel context.CancelCauseFunc
	cause  error
	fired  bool
}

func (w *watchdog) fire() {
	w.mu.Lock()
	w.fired = true
	w.mu.Unlock()
	w.cancel(w.cause)
}

func (w *watchdog) kick() { w.timer.Reset(w.idle) }

func (w *watchdog) stop() {
	w.timer.Stop()
	w.cancel(nil)
}

// explain replaces the transport's "context canceled" by why.
func (w *watchdog) explain(err error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fired {
		return w.cause
	}
	return err
}

// progressBody kicks the watchdog on every read; the response body also
// ends the request when closed.
type progressBody struct {
	io.ReadCloser
	w      *watchdog
	closes bool
}

func (b *progressBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.w.kick()
	}
	if err != nil && err != io.EOF {
		err = b.w.explain(err)
	}
	return n, err
}

func (b *progressBody) Close() error {
	err := b.ReadCloser.Close()
	if b.closes {
		b.w.stop()
	}
	return err
}
