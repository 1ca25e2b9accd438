// Package builtin holds the built-in example project's config, which
// `pipewright generate` and `simulate` use when no -f is given. It is the Go
// example's config (examples/go/pipewright.yaml, kept identical by a test):
// the Codertocat/Hello-World repository of GitHub's documented webhook
// payloads, so those payloads can be tried against it as they are.
package builtin

import _ "embed"

// File is the name errors give the built-in config.
const File = "<built-in example>/pipewright.yaml"

//go:embed pipewright.yaml
var Config []byte
