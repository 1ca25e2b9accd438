// Package generatortest helps tests generate the built-in example project,
// optionally with more config appended, failing the test on any error.
package generatortest

import (
	"testing"

	"github.com/pipewright/pipewright/generator"
	"github.com/pipewright/pipewright/generator/builtin"
	"github.com/pipewright/pipewright/generator/config"
	"github.com/pipewright/pipewright/generator/render"
)

// Config parses the built-in example with extra YAML appended. The example
// ends inside its github: block, so indented extra lines extend that block
// and unindented ones add top-level fields.
func Config(t testing.TB, extra string) *config.Loaded {
	t.Helper()
	cfg, err := config.Parse(builtin.File, append(append([]byte{}, builtin.Config...), extra...))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Project generates the built-in example with extra YAML appended.
func Project(t testing.TB, extra string) render.Tree {
	t.Helper()
	tree, err := generator.Project(Config(t, extra))
	if err != nil {
		t.Fatal(err)
	}
	return tree
}
