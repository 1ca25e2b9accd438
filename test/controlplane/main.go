package controlplane

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"testing"
)

// RunTests is the body of an e2e package's TestMain:
//
//	func TestMain(m *testing.M) {
//		os.Exit(controlplane.RunTests(m, opts, func(c *controlplane.ControlPlane) { cp = c }))
//	}
//
// It isolates the test binary (see Isolate), starts the control plane, hands
// it to set, runs the tests and stops everything, then checks nothing is
// left. On SIGINT or SIGTERM it stops the control plane, keeping the logs,
// and exits. When tests fail it prints the end of every component's log.
func RunTests(m *testing.M, opts Options, set func(*ControlPlane)) int {
	// Installed before anything starts: unshare(1) starts us with SIGINT
	// ignored, and Notify is what turns it back on.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		mu       sync.Mutex
		starting bool
		sandbox  *Sandbox
		running  *ControlPlane
	)
	go func() {
		s, ok := <-sig
		if !ok {
			return
		}
		fmt.Fprintf(os.Stderr, "controlplane: %v: stopping\n", s)
		cancel() // a Start in progress fails and cleans up after itself
		mu.Lock()
		defer mu.Unlock()
		switch {
		case running != nil:
			_ = running.Stop(true)
		case starting:
			return // Start fails, cleans up, and RunTests returns
		}
		if sandbox != nil {
			_ = sandbox.Close()
		}
		os.Exit(2)
	}()

	sb, err := Isolate()
	if err != nil {
		fmt.Fprintln(os.Stderr, "controlplane:", err)
		return 1
	}
	defer sb.Close()

	mu.Lock()
	sandbox, starting = sb, true
	mu.Unlock()
	cp, err := Start(ctx, sb, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "controlplane: starting:", err)
		return 1
	}
	mu.Lock()
	if ctx.Err() != nil { // interrupted as Start returned
		mu.Unlock()
		_ = cp.Stop(true)
		return 2
	}
	running = cp
	mu.Unlock()

	set(cp)
	code := m.Run()

	mu.Lock()
	defer mu.Unlock()
	running = nil
	if code != 0 {
		fmt.Fprintln(os.Stderr, cp.Logs(15))
	}
	if err := cp.Stop(code != 0); err != nil {
		fmt.Fprintln(os.Stderr, "controlplane: stopping:", err)
		code = 1
	}
	if err := CheckNothingLeft(); err != nil {
		fmt.Fprintln(os.Stderr, "controlplane:", err)
		code = 1
	}
	return code
}
