package image

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Inputs that would do harm later are refused before anything is compiled
// or pushed: a package that go build would read as a flag, a tag the
// registry would refuse after the image is already pushed, a platform given
// twice, a platform the base lacks.
func TestBuildRefusesBeforeCompiling(t *testing.T) {
	reg := newRegistry(t)
	amd := pushBase(t, reg, amd64)
	arm := pushBase(t, reg, v1.Platform{OS: "linux", Architecture: "arm64"})
	marker := filepath.Join(t.TempDir(), "toolexec-ran")
	for _, tc := range []struct {
		name, pkg, base string
		edit            func(*Options)
		want            string
	}{
		// Without the check go build would run the program for every
		// compile step of the folder's package.
		{"flag as package", "-toolexec=touch " + marker, amd, nil,
			`image build: package "-toolexec=touch `},
		{"empty package", "", amd, nil, `image build: package "": want a Go package path`},
		{"tag starting with a dash", hello, amd, func(o *Options) { o.Tags = []string{"v1", "-v2"} },
			`image build: tag "-v2": want letters, digits`},
		{"tag with a colon", hello, amd, func(o *Options) { o.Tags = []string{"v1:latest"} }, `image build: tag "v1:latest"`},
		{"tag too long", hello, amd, func(o *Options) { o.Tags = []string{strings.Repeat("v", 129)} }, `… (129 bytes): want letters`},
		{"platform twice", hello, amd, func(o *Options) { o.Platforms = []string{"linux/amd64", "linux/arm64", "linux/amd64"} },
			"image build: platform linux/amd64 given twice"},
		// The package does not compile: a base error proves it came first.
		{"base lacks a platform", "./testdata/broken", arm, nil, "image build: base " + arm + ": base is linux/arm64, not linux/amd64"},
		{"single-platform base, two platforms", "./testdata/broken", amd, func(o *Options) { o.Platforms = []string{"linux/amd64", "linux/arm64"} },
			"image build: base " + amd + ": base is linux/amd64, not linux/arm64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := opts(reg, tc.base)
			var log bytes.Buffer
			o.Log = &log
			if tc.edit != nil {
				tc.edit(&o)
			}
			_, err := Build(context.Background(), tc.pkg, o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			if strings.Contains(log.String(), "built") || strings.Contains(log.String(), "pushing") {
				t.Errorf("compiled or pushed before refusing:\n%s", log.String())
			}
		})
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("go build ran the -toolexec program")
	}
	repo, _ := name.NewRepository(reg + "/hello")
	if tags, err := remote.List(repo); err == nil && len(tags) > 0 {
		t.Errorf("refused builds pushed tags %v", tags)
	}
}

// A registry that stops answering fails the build after RegistryIdle,
// whether it never sends headers or stalls in the middle of a body.
func TestRegistryStallTimesOut(t *testing.T) {
	release := make(chan struct{})
	hang := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}
	silent := httptest.NewServer(http.HandlerFunc(hang))
	t.Cleanup(silent.Close)
	midBody := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			return
		}
		w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte(`{"schemaVersion":`))
		w.(http.Flusher).Flush()
		hang(w, r)
	}))
	t.Cleanup(midBody.Close)
	t.Cleanup(func() { close(release) })

	for _, tc := range []struct{ name, url string }{{"no answer", silent.URL}, {"stalled body", midBody.URL}} {
		t.Run(tc.name, func(t *testing.T) {
			host := strings.TrimPrefix(tc.url, "http://")
			o := opts(host, host+"/base:latest")
			o.RegistryIdle = 300 * time.Millisecond
			start := time.Now()
			_, err := Build(context.Background(), hello, o)
			want := "registry " + host + " made no progress for 300ms"
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("err = %v, want it to contain %q", err, want)
			}
			if d := time.Since(start); d > 30*time.Second {
				t.Errorf("took %s to give up", d)
			}
		})
	}
}
