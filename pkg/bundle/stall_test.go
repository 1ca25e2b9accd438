package bundle

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// A registry that stops answering fails push and list after RegistryIdle
// instead of hanging the step until Tekton's timeout.
func TestRegistryStallTimesOut(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	host := strings.TrimPrefix(srv.URL, "http://")
	o := Options{RegistryIdle: 300 * time.Millisecond}
	want := "registry " + host + " made no progress for 300ms"
	objs, err := Load(writeFiles(t, map[string]string{"t.yaml": strings.ReplaceAll(taskYAML, "%s", "t")}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Push(context.Background(), host+"/bundle:v1", objs, o); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("push: err = %v, want it to contain %q", err, want)
	}
	if _, err := List(context.Background(), host+"/bundle:v1", false, o); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("list: err = %v, want it to contain %q", err, want)
	}
}
