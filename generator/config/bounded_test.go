package config

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/pipewright/pipewright/pkg/boundedio"
)

// A bad value is named by a short prefix and its length, not echoed whole.
func TestErrorsQuoteAShortPrefix(t *testing.T) {
	huge := strings.Repeat("x", 1<<20)
	for _, tc := range []struct{ name, yaml, want string }{
		{"bad value", replace("  repository: acme/api", "  repository: "+huge),
			`pipewright.yaml:9:3: github.repository: "` + strings.Repeat("x", boundedio.QuoteMax) + `"… (1048576 bytes) is not owner/name (hint: owner/name, e.g. acme/api)`},
		// YAML keys end at 1024 characters.
		{"unknown key", good + huge[:1000] + ": 1\n",
			`pipewright.yaml:10:1: ` + strings.Repeat("x", boundedio.QuoteMax) + `… (1000 bytes): unknown field "` + strings.Repeat("x", boundedio.QuoteMax) + `"… (1000 bytes)`},
		{"wrong type", replace("  name: api", "  name: ["+huge+"]"),
			`pipewright.yaml:3:9: app.name: want a string, got a list (hint: write a single value)`},
		{"string for bool", replace("  repository: ghcr.io/acme/api", "  repository: ghcr.io/acme/api\n  prTag: "+huge),
			`pipewright.yaml:8:10: image.prTag: want true or false, got the string "` + strings.Repeat("x", boundedio.QuoteMax) + `"… (1048576 bytes) (hint: write true or false)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("pipewright.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			first, _, _ := strings.Cut(err.Error(), "\n")
			if !strings.HasPrefix(first, tc.want) {
				t.Errorf("first error line (%d bytes):\n%.300s\nwant it to start with\n%s", len(first), first, tc.want)
			}
			if len(err.Error()) > 4096 {
				t.Errorf("error is %d bytes long", len(err.Error()))
			}
		})
	}
}

// Load refuses a FIFO instead of waiting for a writer.
func TestLoadRefusesNonRegularFiles(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "pipewright.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(fifo)
	if !errors.Is(err, boundedio.ErrNotRegular) || !strings.Contains(err.Error(), "config: "+fifo+": not a regular file (a named pipe)") {
		t.Errorf("Load(fifo) = %v", err)
	}
}
