// Command pipewright generates Tekton CI/CD for a project and runs the tools
// its pipeline steps need. Each subcommand parses flags and calls one library
// function; behaviour lives in the library packages.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	root := newRoot()
	// SIGTERM is how Tekton stops a cancelled or timed-out step; the
	// context lets long commands (canary) clean up before they exit.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	err := root.ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "pipewright:", err)
		os.Exit(exitCode(err))
	}
}

// exitError carries a specific exit code (simulate: 1 = did not fire).
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }

func exitCode(err error) int {
	if e, ok := err.(exitError); ok {
		return e.code
	}
	return 1
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "pipewright",
		Short:         "Tekton CI/CD for your project: catalog Tasks, PR and release pipelines, GitHub triggers",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	for _, add := range subcommands {
		root.AddCommand(add())
	}
	return root
}

// subcommands is filled by each command's file.
var subcommands []func() *cobra.Command
