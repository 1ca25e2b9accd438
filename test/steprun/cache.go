package steprun

import (
	"os"
	"path/filepath"
	"testing"
)

// GoCache is the cache workspace the Go Tasks' step tests share. It
// persists in the user's cache folder so that warm runs do not rebuild the
// race-instrumented standard library each time.
func GoCache(t testing.TB) string {
	t.Helper()
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home, _ := os.UserHomeDir()
		base = filepath.Join(home, ".cache")
	}
	dir := filepath.Join(base, "pipewright", "task-test-cache")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
