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
func monorepo(n int) []byte { return monorepoNamed(n, "monorepo") }

// monorepoNamed is monorepo for a repository of another name: every file
// but the Tasks differs from another name's.
func monorepoNamed(n int, name string) []byte {
	packs := []string{"go", "node", "python", "java", "docker"}
	var b strings.Builder
	fmt.Fprintf(&b, `apiVersion: pipewright.dev/v1alpha1
app:
  name: %[1]s
build:
  pack: go
image:
  repository: ghcr.io/acme/%[1]s
github:
  repository: acme/%[1]s
services:
`, name)
	for i := range n {
		fmt.Fprintf(&b, "  - name: svc-%d\n    context: services/svc-%d\n    pack: %s\n", i, i, packs[i%len(packs)])
	}
	return []byte(b.String())
}

// BenchmarkGenerate loads, generates and validates (Tekton Validate and the
// wiring check) a monorepo config of n services. ns/service and
// allocs/service must stay flat as the count grows: the cost is linear.
// Each iteration is another repository's, so that none validates files an
// earlier one did (tekton.All validates a file's bytes once per process),
// as in a fresh `pipewright generate`; only the Tasks are the same.
func BenchmarkGenerate(b *testing.B) {
	for _, n := range []int{1, 10, 100, 1000} {
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			configs := make([][]byte, b.N)
			for i := range configs {
				configs[i] = monorepoNamed(n, fmt.Sprintf("mono%d-%d", n, i))
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				cfg, err := config.Parse("pipewright.yaml", configs[i])
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
