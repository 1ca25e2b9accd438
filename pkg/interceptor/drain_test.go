package interceptor_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/pipewright/pipewright/pkg/interceptor"
)

// A stopping server serves on through the drain, on a kept-alive
// connection and on new ones, answering with Connection: close, and then
// stops.
func TestShutdownAfterDrain(t *testing.T) {
	srv := interceptor.NewServer("", &interceptor.Interceptor{}, nil, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	const drain = 300 * time.Millisecond
	go func() { interceptor.ShutdownAfterDrain(ctx, srv, drain); close(done) }()

	client := &http.Client{Transport: &http.Transport{}}
	url := "http://" + ln.Addr().String() + interceptor.ReadyPath
	get := func() (*http.Response, error) {
		resp, err := client.Get(url)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return resp, err
	}
	if resp, err := get(); err != nil || resp.Close {
		t.Fatalf("before the stop: %v, close %v", err, resp != nil && resp.Close)
	}
	stop() // SIGTERM
	time.Sleep(drain / 3)
	resp, err := get() // on the kept-alive connection
	if err != nil {
		t.Fatalf("during the drain: %v", err)
	}
	if !resp.Close {
		t.Error("an answer during the drain keeps the connection alive")
	}
	if _, err := get(); err != nil { // a new connection
		t.Fatalf("new connection during the drain: %v", err)
	}
	select {
	case <-done:
		t.Fatal("stopped before the drain ended")
	default:
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("did not stop after the drain")
	}
	if _, err := get(); err == nil {
		t.Error("still serving after the drain")
	}
}
