package main

import (
	"fmt"

	"github.com/pipewright/pipewright/pkg/toolbin"
	"github.com/spf13/cobra"
)

func installSelfCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "install-self DEST",
		Short: "Copy this pipewright program to DEST, for a later step of another image to run (used by go-image)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := toolbin.Install(args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "installed %s\n", args[0])
			return nil
		},
	}
}
