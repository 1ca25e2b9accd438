package controlplane

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
)

// serviceProxy does kube-proxy's job for the Services whose backends the
// harness runs: it accepts on ClusterIP:port and copies bytes to the local
// process's port. It does not look inside the stream, so TLS is end to end.
type serviceProxy struct {
	mu        sync.Mutex
	listeners []net.Listener
	frontends map[string]bool // ClusterIP:port already served
	wg        sync.WaitGroup
}

// claim records that frontend is served by a process listening on every
// address at that port, so nothing else routes it.
func (p *serviceProxy) claim(frontend string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.frontends == nil {
		p.frontends = map[string]bool{}
	}
	p.frontends[frontend] = true
}

// serves reports whether frontend is already forwarded.
func (p *serviceProxy) serves(frontend string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.frontends[frontend]
}

// forward listens on frontend ("10.96.0.12:443") and forwards every
// connection to backend ("127.0.0.1:20001").
func (p *serviceProxy) forward(frontend, backend string) error {
	return p.forwardTo(frontend, func() string { return backend })
}

// forwardTo is forward with the backend chosen per connection, for Services
// whose endpoints are Pods that come and go; "" refuses the connection.
func (p *serviceProxy) forwardTo(frontend string, backend func() string) error {
	_, err := p.serve(frontend, frontend, backend)
	return err
}

// forwardVia serves frontend from a fresh port on listen (host:0) and
// returns that port's address; the caller makes the kernel send frontend's
// traffic there (see podServices). It is for ClusterIP ports that a host
// process of the harness already holds with a wildcard listener, which a
// listener on the ClusterIP itself cannot take back.
func (p *serviceProxy) forwardVia(frontend, listen string, backend func() string) (string, error) {
	return p.serve(frontend, listen, backend)
}

func (p *serviceProxy) serve(frontend, listen string, backend func() string) (string, error) {
	l, err := net.Listen("tcp", listen)
	if err != nil {
		return "", fmt.Errorf("service proxy: %w", err)
	}
	p.mu.Lock()
	p.listeners = append(p.listeners, l)
	if p.frontends == nil {
		p.frontends = map[string]bool{}
	}
	p.frontends[frontend] = true
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			b := backend()
			if b == "" {
				c.Close()
				continue
			}
			go pipe(c, b)
		}
	}()
	return l.Addr().String(), nil
}

func pipe(c net.Conn, backend string) {
	defer c.Close()
	b, err := net.Dial("tcp", backend)
	if err != nil {
		return // the client sees the connection close, as with no endpoints
	}
	defer b.Close()
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		done <- struct{}{}
	}
	go cp(b, c)
	go cp(c, b)
	<-done
	<-done
}

// close stops accepting; open connections end with their peers.
func (p *serviceProxy) close() error {
	p.mu.Lock()
	ls := p.listeners
	p.listeners = nil
	p.mu.Unlock()
	var errs []error
	for _, l := range ls {
		if err := l.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	p.wg.Wait()
	return errors.Join(errs...)
}

func hostPort(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }
