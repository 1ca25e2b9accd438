package refregistry

import (
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
)

// InProcess serves go-containerregistry's in-process registry
// (pkg/registry) on loopback for unit tests and returns its host:port; it
// stops when the test ends.
func InProcess(t testing.TB) string {
	host, stop := Serve()
	t.Cleanup(stop)
	return host
}

// Serve is InProcess for callers that decide themselves when it stops.
func Serve() (host string, stop func()) {
	s := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	return strings.TrimPrefix(s.URL, "http://"), s.Close
}
