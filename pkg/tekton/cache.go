package tekton

import (
	"sync"
	"sync/atomic"
)

// cache is a sync.Map that starts over once it holds max entries: the
// caches here only save work, and a process that generates many projects
// (a benchmark, a test run) must not keep every one of them.
type cache struct {
	m   sync.Map
	n   atomic.Int64
	max int64
}

func (c *cache) Load(k any) (any, bool) { return c.m.Load(k) }

func (c *cache) Store(k, v any) {
	if c.n.Add(1) > c.max {
		c.m.Clear()
		c.n.Store(1)
	}
	c.m.Store(k, v)
}

// LoadAndDelete is sync.Map's (the count stays: it only bounds).
func (c *cache) LoadAndDelete(k any) (any, bool) { return c.m.LoadAndDelete(k) }
