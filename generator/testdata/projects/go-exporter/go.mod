module github.com/prometheus-community/postgres_exporter

go 1.24.0

require (
	github.com/prometheus/client_golang v1.22.0
	github.com/prometheus/common v0.65.0
)
