# cluster: the e2e suite's one-machine cluster, kept up for a person to try
# generated pipelines (like kind, without Docker). See README "Try it locally".
.PHONY: cluster
CLUSTER_STATE ?= $(or $(TMPDIR),/tmp)/pipewright-cluster

## cluster: start the one-machine cluster; writes $(CLUSTER_STATE)/cluster.env; Ctrl-C stops it
cluster: tools e2e-tools
	@mkdir -p $(CACHE)/bin
	$(GO) build -o $(CACHE)/bin/pipewright-cluster ./test/cluster
	@exec $(CACHE)/bin/pipewright-cluster -state $(CLUSTER_STATE)
