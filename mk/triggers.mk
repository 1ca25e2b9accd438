# triggers: the pipewright interceptor's latency as Triggers sees it.
.PHONY: bench-interceptor

## bench-interceptor: /retest decisions over the interceptor's TLS, 50 in flight, GitHub test server in-process (p50-ms, p99-ms)
bench-interceptor:
	$(GO) test -count=1 -run '^$$' -bench BenchmarkConcurrentTLS -benchtime 5000x ./pkg/interceptor/ | tee bench-interceptor.txt
