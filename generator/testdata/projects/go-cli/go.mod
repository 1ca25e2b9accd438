module github.com/charmbracelet/glow/v2

go 1.25.0

toolchain go1.25.3

require github.com/spf13/cobra v1.9.1
