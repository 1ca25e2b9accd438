package main

import (
	"fmt"

	"github.com/pipewright/pipewright/generator"
	"github.com/pipewright/pipewright/generator/render"
	"github.com/spf13/cobra"
)

func catalogCmd() *cobra.Command {
	var out, images string
	c := &cobra.Command{
		Use:   "catalog",
		Short: "Write the Task catalog (tasks/), the generic pipelines (pipelines/) and their GitHub triggers (triggers/)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tree, err := untilDone(cmd.Context(), func() (render.Tree, error) {
				set, err := readImageFlag(images)
				if err != nil {
					return nil, err
				}
				return generator.CatalogWithImages(set)
			})
			if err != nil {
				return err
			}
			if err := writeTree(cmd.Context(), tree, out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %d files under %s\n", len(tree), out)
			return nil
		},
	}
	c.Flags().StringVarP(&out, "output", "o", ".", "folder to write tasks/ and pipelines/ into")
	imagesFlag(c, &images, " (e.g. to install the catalog from a mirror)")
	return c
}
