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
//	                │  preflight: Prometheus answers, queries parse, the
//	                │  stable version has data; the digest was not rolled
//	                │  back before (or --retry-reason) ──── else ──► refused
//	                │  deploy canary, wait until available,            (nothing
//	                │  pre-rollout webhooks ───(deadline, failure)──┐   touched)
//	                ▼                                                │
//	        ┌─ progressing ◄────────────┐                            │
//	        │   set weight w[i]         │ all samples of step i pass,│
//	        │   take `samples` samples  │ i < last: i++             │
//	        │   (pass / fail / no data /─┘                           │
//	        │    query error)                                        │
//	last step passed,               failures reach limit, more than  │
//	confirm-promotion               consecutive-error-limit query    │
//	webhooks answer 2xx             errors in a row, a query         │
//	        │                       Prometheus refuses ──────────────┤
//	        ▼                                                        ▼
//	    promoting                                              rolling-back
//	stable ← new image,                                      weight 0 → stable,
//	weight 0, canary → 0                                      canary removed
//	        │                                                        │
//	        ▼                                                        ▼
//	    promoted                                                rolled-back
//	                                                     (digest recorded)
//
// "No data" (an empty vector, NaN or ±Inf) counts as a failure and can
// never promote. A query error that may pass (Prometheus unreachable after
// its retries, a 503 or 422 answer) is neither: the next sample asks again.
// The worst case before a rollback is interval × failure limit; the
// quickest promotion is interval × samples × steps; both are printed at
// start. A release killed before its decision (no handler runs) leaves the
// phase progressing and the traffic split: Restore, which the release
// pipelines run in finally, undoes it (phase interrupted) or finishes a
// promotion or rollback already begun.
//
// That is the built-in strategy ("pipewright"). For clusters that already
// run a progressive-delivery controller, Follow hands the release to it
// instead: strategy "flagger" sets the image on the Deployment a Flagger
// Canary's spec.targetRef names, "argo-rollouts" sets it in an Argo
// Rollout's spec.template, and either then polls the object's status until
// the controller promotes (Flagger: Succeeded; Argo: Healthy with stableRS
// equal to currentPodHash) or rolls back (Flagger: Failed; Argo: abort),
// or until a deadline, which is the outcome timed-out, a failure. A status
// from before the new image was taken up (Flagger: an unchanged
// lastAppliedSpec; Argo: observedGeneration below generation) is never
// taken as the verdict. Both objects are read as unstructured objects.
package canary
