// Command pipewright generates Tekton CI/CD for a project and runs the tools
// its pipeline steps need. Each subcommand parses flags and calls one library
// function; behaviour lives in the library packages.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	// SIGTERM is how Tekton stops a cancelled or timed-out step, SIGINT is
	// Ctrl-C: either ends the context every command runs under, so long
	// commands stop (canary restores traffic first). A second signal kills
	// at once.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	go func() {
		<-ctx.Done()
		stop()
	}()
	err := newRoot().ExecuteContext(ctx)
	stopped := ctx.Err() != nil
	stop()
	if err != nil {
		if stopped && errors.Is(err, context.Canceled) {
			err = exitError{code: exitCode(err), err: fmt.Errorf("stopped by a signal: %w", err)}
		}
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
func (e exitError) Unwrap() error { return e.err }

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
	root.AddCommand(
		// Generation.
		generateCmd(), initCmd(), schemaCmd(), catalogCmd(), imagesCmd(),
		// Checking.
		lintCmd(), simulateCmd(),
		// Runtime tools the pipelines' steps run.
		imageCmd(), pinCmd(), bundleCmd(), installSelfCmd(), githubCmd(), interceptorCmd(), canaryCmd(),
	)
	return root
}
