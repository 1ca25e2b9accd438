// Package canary drives one progressive release: a canary Deployment beside
// the stable one, traffic shifted to it in steps through a Gateway API
// HTTPRoute (or an SMI TrafficSplit), and at every step an analysis of its
// metrics in Prometheus that promotes the new version or rolls it back.
//
// The state machine; the phase is kept in annotations on the route, so a
// re-run with the same image resumes where the last one stopped, and a
// re-run with another image first undoes an interrupted release:
//
//	          start (new image)
//	                │  deploy canary, wait until available ──(deadline)──┐
//	                ▼                                                    │
//	        ┌─ progressing ◄────────────┐                                │
//	        │   set weight w[i]         │ all samples of step i pass,   │
//	        │   take `samples` samples  │ i < last: i++                 │
//	        │   (pass / fail / no data) ─┘                               │
//	        │                                                            │
//	last step passed                failures reach limit, Prometheus        │
//	        │                       unreachable, query error ────────────┤
//	        ▼                                                            ▼
//	    promoting                                                  rolling-back
//	stable ← new image,                                          weight 0 → stable,
//	weight 0, canary → 0                                          canary removed
//	        │                                                            │
//	        ▼                                                            ▼
//	    promoted                                                    rolled-back
//
// "No data" (an empty vector or NaN) counts as a failure and can never
// promote. The worst case before a rollback is interval × failure limit; the
// quickest promotion is interval × samples × steps; both are printed at start.
package canary
