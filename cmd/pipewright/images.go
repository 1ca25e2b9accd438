package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/pipewright/pipewright/generator"
	"github.com/pipewright/pipewright/generator/config"
	"github.com/spf13/cobra"
)

func imagesCmd() *cobra.Command {
	var file, images string
	c := &cobra.Command{
		Use:   "images [-f pipewright.yaml] [--images FILE]",
		Short: "List every catalog image and the reference generation writes for it",
		Long: "Prints one line per catalog image, sorted by name: its name (the key for images: in pipewright.yaml\n" +
			"and for --images files) and the reference generate and catalog write for it: the embedded lock's, or the\n" +
			"override of -f's images:, or of --images FILE, which wins over the config for an image both name.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var cfg *config.Loaded
			if file != "" {
				var err error
				if cfg, err = config.Load(file); err != nil {
					return err
				}
			}
			set, err := readImageFlag(images)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 8, 2, ' ', 0)
			for _, r := range generator.ImageOverrides(cfg, set).Refs() {
				fmt.Fprintf(tw, "%s\t%s\n", r.Name, r.Ref)
			}
			return tw.Flush()
		},
	}
	c.Flags().StringVarP(&file, "file", "f", "", "project config whose images: to apply (default: none)")
	imagesFlag(c, &images, imagesPrecedence)
	return c
}
