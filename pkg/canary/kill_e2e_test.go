//go:build e2e

package canary

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestKilledReleaseRestored runs `pipewright canary` as its own process
// against the real API server, kills it with SIGKILL once the canary takes
// traffic (no handler runs: the split stays, as the issue found), and then
// runs `pipewright canary restore`, the release pipeline's finally, which
// puts all traffic back on the stable version.
func TestKilledReleaseRestored(t *testing.T) {
	env := newKubeEnv(t)
	_, file, _, _ := runtime.Caller(0)
	bin := filepath.Join(t.TempDir(), "pipewright")
	build := exec.Command("go", "build", "-o", bin, "./cmd/pipewright")
	build.Dir = filepath.Join(filepath.Dir(file), "..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ns := "canary-killed"
	ctx := context.Background()
	seed(t, env, ns, "shop", oldImage)
	standInKubelet(t, env, ns)
	_, promURL := scrapedShop(t, 50)
	route := &HTTPRoute{Dynamic: env.dc, Namespace: ns, Name: "shop", Stable: "shop", CanaryTarget: "shop-canary"}

	var out bytes.Buffer
	release := exec.Command(bin, "canary", "--kubeconfig", env.kubeconfig, "--app", "shop", "-n", ns, "--image", newImage,
		"--prometheus", promURL, "--steps", "50,100", "--interval", "1h", "--window", "5s", "--deadline", "30s")
	release.Stdout, release.Stderr = &out, &out
	if err := release.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		if _, c, err := route.Weights(ctx); err == nil && c == 50 {
			break
		}
		if time.Now().After(deadline) {
			release.Process.Kill()
			release.Wait()
			t.Fatalf("the canary got no traffic within a minute:\n%s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := release.Process.Signal(os.Kill); err != nil {
		t.Fatal(err)
	}
	release.Wait()
	t.Logf("the killed release said:\n%s", out.String())
	if s, c, _ := route.Weights(ctx); s != 50 || c != 50 {
		t.Fatalf("after SIGKILL the route is %d/%d; the test needs the split a killed release leaves", s, c)
	}

	restore := func() string {
		t.Helper()
		cmd := exec.Command(bin, "canary", "restore", "--kubeconfig", env.kubeconfig, "--app", "shop", "-n", ns, "--image", newImage)
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("restore: %v\n%s", err, b)
		}
		return string(b)
	}
	if said := restore(); !strings.Contains(said, "canary: restored: "+newImage+" had stopped at 50% canary traffic") {
		t.Errorf("restore said %q", said)
	}
	if s, c, err := route.Weights(ctx); err != nil || s != 100 || c != 0 {
		t.Errorf("after restore the route is %d/%d (%v), want 100/0", s, c, err)
	}
	if _, err := env.kc.AppsV1().Deployments(ns).Get(ctx, "shop-canary", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the canary Deployment is still there: %v", err)
	}
	if st, err := route.Store().Load(ctx); err != nil || st.Phase != Interrupted {
		t.Errorf("state %+v, %v: want %s", st, err, Interrupted)
	}
	// A second finally (a retried run) finds nothing to do.
	if said := restore(); !strings.Contains(said, "was interrupted; nothing to restore") {
		t.Errorf("second restore said %q", said)
	}
}
