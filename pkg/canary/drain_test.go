package canary

import (
	"context"
	"io"
	"sync"
	"testing"
	"time"
)

// timedCalls records when the router and the workload were called.
type timedCalls struct {
	mu    sync.Mutex
	calls []string
	at    []time.Time
}

func (c *timedCalls) add(s string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls, c.at = append(c.calls, s), append(c.at, time.Now())
	return nil
}
func (c *timedCalls) SetWeight(_ context.Context, w int) error {
	if w == 0 {
		return c.add("weight 0")
	}
	return c.add("weight")
}
func (c *timedCalls) DeployCanary(context.Context, string) error  { return c.add("deploy") }
func (c *timedCalls) PromoteStable(context.Context, string) error { return c.add("promote") }
func (c *timedCalls) ScaleDownCanary(context.Context) error       { return c.add("scale-down") }
func (c *timedCalls) RemoveCanary(context.Context) error          { return c.add("remove") }

// TestDrainBeforeRemoving: after a rollback or a promotion sends the
// canary's weight to 0, its pods keep running for the drain time before
// they are removed or scaled down. On the node, removing them at once made
// Traefik answer 503 to requests it still routed to the gone canary.
func TestDrainBeforeRemoving(t *testing.T) {
	for _, tc := range []struct {
		name  string
		run   func(*release) error
		last  string
		drain time.Duration
		cfg   Config
	}{
		{"rollback", func(rl *release) error { return rl.rollback(context.Background(), "bad") }, "remove", 300 * time.Millisecond, Config{Drain: 300 * time.Millisecond}},
		{"promotion", func(rl *release) error { return rl.promote(context.Background()) }, "scale-down", 300 * time.Millisecond, Config{Drain: 300 * time.Millisecond}},
		{"default: the interval", func(rl *release) error { return rl.rollback(context.Background(), "bad") }, "remove", 200 * time.Millisecond, Config{Interval: 200 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &timedCalls{}
			cfg := tc.cfg
			cfg.Image, cfg.Progress = "example.test/app@sha256:"+"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", io.Discard
			rl := &release{cfg: cfg, w: c, r: c, s: &memStore{}, res: &Result{}}
			if err := tc.run(rl); err != nil {
				t.Fatal(err)
			}
			zero, last := -1, -1
			for i, call := range c.calls {
				switch call {
				case "weight 0":
					zero = i
				case tc.last:
					last = i
				}
			}
			if zero < 0 || last < zero {
				t.Fatalf("calls %v: want weight 0, then %s", c.calls, tc.last)
			}
			if waited := c.at[last].Sub(c.at[zero]); waited < tc.drain {
				t.Errorf("%s %s after weight 0, want at least %s", tc.last, waited, tc.drain)
			}
		})
	}
}

// A promotion stopped while draining ends with the context's cause; the
// canary is left for the restore (finally) to scale down.
func TestDrainHonoursCancel(t *testing.T) {
	c := &timedCalls{}
	cfg := Config{Drain: time.Hour, Progress: io.Discard, Image: "example.test/app@sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}
	rl := &release{cfg: cfg, w: c, r: c, s: &memStore{}, res: &Result{}}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := rl.promote(ctx); err == nil {
		t.Fatal("promotion with a cancelled drain succeeded")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("cancel took %s", d)
	}
}
