package generator_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pipewright/pipewright/generator"
	"github.com/pipewright/pipewright/generator/config"
)

// monorepo is one config of a monorepo with n services, each in its own
// folder (and so its own path filter), the packs taking turns.
func monorepo(n int) []byte {
	packs := []string{"go", "node", "python", "java", "docker"}
	var b strings.Builder
	b.WriteString(`apiVersion: pipewright.dev/v1alpha1
app:
  name: monorepo
build:
  pack: go
image:
  repository: ghcr.io/acme/monorepo
github:
  repository: acme/monorepo
services:
`)
	for i := range n {
		fmt.Fprintf(&b, "  - name: svc-%d\n    context: services/svc-%d\n    pack: %s\n", i, i, packs[i%len(packs)])
	}
	return []byte(b.String())
}

// BenchmarkGenerate loads, generates and validates (Tekton Validate and the
// wiring check) a monorepo config of n services. ns/service and
// allocs/service must stay flat as the count grows: the cost is linear.
func BenchmarkGenerate(b *testing.B) {
	for _, n := range []int{1, 10, 100, 1000} {
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			data := monorepo(n)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				cfg, err := config.Parse("pipewright.yaml", data)
				if err != nil {
					b.Fatal(err)
				}
				tree, err := generator.Project(cfg)
				if err != nil {
					b.Fatal(err)
				}
				// Per service: its Triggers and two run templates.
				if len(tree) < 3*n {
					b.Fatalf("%d files for %d services", len(tree), n)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/service")
		})
	}
}
