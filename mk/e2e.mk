# e2e: the control-plane suite (test/e2e, test/controlplane). It builds etcd,
# kube-apiserver, kubectl and Tekton's programs from pinned Go modules into
# $(CACHE)/<name>-<version>/ the first time (minutes; progress is printed),
# then runs them on loopback inside private namespaces. Needs root.
.PHONY: e2e e2e-tools
test: e2e

## e2e-tools: build (or find cached) the programs the e2e suite runs
e2e-tools: tools
	@bash test/tools/build.sh >/dev/null

## e2e: apply the catalog and pipewright's output to a real API server running Tekton
e2e: e2e-tools
	@bash test/prometheus.sh >/dev/null
	@sh test/crds.sh
	$(GO) vet -tags e2e ./test/e2e
	@rm -f e2e-runs.txt e2e.log
	@# The log is kept whole in e2e.log; the end repeats each top-level
	@# test's outcome and time, and what was running if the suite timed out
	@# (Go prints that first, before thousands of goroutine lines).
	@set -o pipefail; echo "PIPEWRIGHT_RUN_REPORT=$(CURDIR)/e2e-runs.txt $(GO) test -tags e2e -count=1 -timeout 70m -v ./test/e2e"; \
	PIPEWRIGHT_RUN_REPORT=$(CURDIR)/e2e-runs.txt $(GO) test -tags e2e -count=1 -timeout 70m -v ./test/e2e 2>&1 | tee e2e.log; status=$$?; \
	echo "e2e: the PipelineRuns this suite ran (task, outcome, duration):"; cat e2e-runs.txt 2>/dev/null || true; \
	echo "e2e: top-level tests (full log in e2e.log):"; grep -E '^--- (PASS|FAIL|SKIP): Test' e2e.log || true; \
	grep -A30 '^panic: test timed out' e2e.log | grep -E '^(panic: test timed out|[[:space:]]+(running tests:|Test))' || true; \
	exit $$status
	@left=$$(pgrep -f '$(CACHE)/(etcd|kube-apiserver|kubectl|tekton-)' || true); \
	if [ -n "$$left" ]; then echo "e2e: programs left running:"; ps -o pid,args -p $$left; exit 1; fi; \
	echo "e2e: nothing left running"

## bench-node: Pod start and one-step TaskRun on the real node vs the bare command (bench-node.txt)
.PHONY: bench-node
bench-node: e2e-tools
	$(GO) test -tags e2e -count=1 -timeout 15m -run '^$$' -bench . -benchtime 10x ./test/e2e 2>/dev/null | grep -E '^(Benchmark|goos|goarch|cpu|PASS|ok)' | tee bench-node.txt
