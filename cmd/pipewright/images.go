package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/pipewright/pipewright/generator"
	"github.com/pipewright/pipewright/generator/catalog"
	"github.com/pipewright/pipewright/generator/config"
	"github.com/spf13/cobra"
)

func init() { subcommands = append(subcommands, imagesCmd) }

// imagesFlagHelp documents --images for generate, catalog and images.
const imagesFlagHelp = "replace catalog images with the digest-pinned ones in `FILE`, in the lock's format " +
	`({"version":1,"images":[{"name":"golang","repo":"...","tag":"...","digest":"sha256:..."}]}; tag optional)`

// imagesPrecedence is the rule when the config and --images both name an image.
const imagesPrecedence = "; for an image also named in the config's images:, FILE wins"

// readImageFlag reads the override set of --images FILE; none when file is empty.
func readImageFlag(file string) (catalog.ImageSet, error) {
	if file == "" {
		return nil, nil
	}
	set, err := catalog.ReadImageFile(file)
	if err != nil {
		return nil, fmt.Errorf("--images: %w", err)
	}
	return set, nil
}

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
	c.Flags().StringVar(&images, "images", "", imagesFlagHelp+imagesPrecedence)
	return c
}
