package generator_test

import (
	"fmt"
	"testing"

	"github.com/pipewright/pipewright/generator"
	"github.com/pipewright/pipewright/generator/config"
)

// monorepo returns the configs of n services of one repository, each in its
// own folder with a path filter, as a monorepo would have them.
func monorepo(b *testing.B, n int) [][]byte {
	packs := []string{"go", "node", "python", "java", "docker"}
	out := make([][]byte, n)
	for i := range out {
		out[i] = []byte(fmt.Sprintf(`apiVersion: pipewright.dev/v1alpha1
app:
  name: svc-%d
build:
  pack: %s
  context: services/svc-%d
image:
  repository: ghcr.io/acme/svc-%d
github:
  repository: acme/monorepo
paths: ["services/svc-%d/**"]
`, i, packs[i%len(packs)], i, i, i))
	}
	return out
}

// BenchmarkGenerate loads, generates and validates (Tekton Validate and the
// wiring check) the CI/CD sets of a monorepo's services. ns/service and
// allocs/service must stay flat as the count grows: the cost is linear.
func BenchmarkGenerate(b *testing.B) {
	for _, n := range []int{1, 10, 100, 1000} {
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			cfgs := monorepo(b, n)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				for i, data := range cfgs {
					cfg, err := config.Parse(fmt.Sprintf("services/svc-%d/pipewright.yaml", i), data)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := generator.Project(cfg); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/service")
		})
	}
}
