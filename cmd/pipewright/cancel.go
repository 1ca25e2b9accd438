package main

import (
	"context"
	"fmt"

	"github.com/pipewright/pipewright/generator"
	"github.com/pipewright/pipewright/generator/render"
)

// untilDone runs f, work that takes no context (reading input, pure
// computation), and returns its result, or the context's error as soon as
// ctx ends: f is then left behind and the process exits when the command
// returns. Only for work that writes nothing.
func untilDone[T any](ctx context.Context, f func() (T, error)) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := f()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

// writeTree writes tree under dir unless ctx has ended. Tree.Write stages
// every file and swaps them in by rename, so output is never half written.
func writeTree(ctx context.Context, tree render.Tree, dir string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("nothing written to %s: %w", dir, err)
	}
	return tree.Write(dir)
}

// writeOwned is generate's writeTree: nothing is written once ctx has ended,
// else generator.WriteOwned writes the files pipewright owns there (staged,
// renamed into place, rolled back on failure).
func writeOwned(ctx context.Context, tree render.Tree, dir string, opts generator.WriteOptions) (generator.WriteReport, error) {
	if err := ctx.Err(); err != nil {
		return generator.WriteReport{}, fmt.Errorf("nothing written to %s: %w", dir, err)
	}
	return generator.WriteOwned(tree, dir, opts)
}
