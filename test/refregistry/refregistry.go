// Package refregistry gives tests an OCI registry on loopback: the
// reference registry server (distribution's registry, Debian package
// docker-registry) for integration tests, installed with test/registry.sh
// when it is missing, and go-containerregistry's in-process registry for
// unit tests.
package refregistry

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

const binary = "docker-registry"

// WriteConfig writes the reference registry's config to path: filesystem
// storage under root, deletes allowed, serving addr, quiet logs.
func WriteConfig(path, root, addr string) error {
	return os.WriteFile(path, []byte(fmt.Sprintf(`version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
`, root, addr)), 0o644)
}

// Start runs a registry with filesystem storage in a temporary folder and
// returns its host:port. The server stops when the test ends. When the
// binary cannot be installed the test is skipped with the reason, or fails
// when PIPEWRIGHT_REQUIRE_TOOLS=1 (make test).
func Start(t testing.TB) string {
	t.Helper()
	bin, err := ensure()
	if err != nil {
		if os.Getenv("PIPEWRIGHT_REQUIRE_TOOLS") == "1" {
			t.Fatalf("reference registry: %v", err)
		}
		t.Skipf("reference registry unavailable: %v", err)
	}
	dir := t.TempDir()
	addr, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "config.yml")
	if err := WriteConfig(cfgPath, filepath.Join(dir, "data"), addr); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cmd := exec.Command(bin, "serve", cfgPath)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return addr
			}
		}
		select {
		case err := <-done:
			t.Fatalf("%s exited before serving (%v):\n%s", bin, err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer /v2/ on %s within 15s:\n%s", bin, addr, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ensure finds the binary, running the project's install script once if needed.
func ensure() (string, error) {
	if p, err := exec.LookPath(binary); err == nil {
		return p, nil
	}
	_, self, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(self), "..", "registry.sh")
	out, err := exec.Command("bash", script).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s failed: %v: %s", script, err, bytes.TrimSpace(out))
	}
	p, err := exec.LookPath(binary)
	if err != nil {
		return "", fmt.Errorf("%s ran but %s is not on PATH", script, binary)
	}
	return p, nil
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
