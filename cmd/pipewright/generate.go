package main

import (
	"fmt"

	"github.com/pipewright/pipewright/generator"
	"github.com/pipewright/pipewright/generator/config"
	"github.com/pipewright/pipewright/generator/render"
	"github.com/spf13/cobra"
)

func generateCmd() *cobra.Command {
	var file, out, images string
	var force bool
	c := &cobra.Command{
		Use:   "generate",
		Short: "Generate a project's CI/CD set (pipelines, tasks, triggers, kustomization); the built-in example without -f",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// The default config is chosen (and named on stderr) here, not in
			// the goroutine untilDone may leave behind on cancel.
			cfgFile := configFile(cmd, file)
			type generated struct {
				cfg  *config.Loaded
				tree render.Tree
			}
			g, err := untilDone(cmd.Context(), func() (generated, error) {
				cfg, err := loadConfig(cfgFile)
				if err != nil {
					return generated{}, err
				}
				set, err := readImageFlag(images)
				if err != nil {
					return generated{}, err
				}
				tree, err := generator.ProjectWithImages(cfg, set)
				return generated{cfg, tree}, err
			})
			if err != nil {
				return err
			}
			rep, err := writeOwned(cmd.Context(), g.tree, out, generator.WriteOptions{Force: force})
			if err != nil {
				return err
			}
			fmt.Fprint(cmd.OutOrStdout(), generator.Summary(g.cfg, g.tree, out))
			fmt.Fprintln(cmd.OutOrStdout(), rep.Describe())
			return nil
		},
	}
	projectFlag(c, &file)
	c.Flags().StringVarP(&out, "output", "o", "out", "folder to write into")
	c.Flags().BoolVar(&force, "force", false, "overwrite files in the output folder that pipewright did not write, or that were edited since (see "+generator.ManifestFile+")")
	imagesFlag(c, &images, imagesPrecedence+" (pipewright images shows the result)")
	return c
}

func initCmd() *cobra.Command {
	var opts generator.InitOptions
	c := &cobra.Command{
		Use:   "init [DIR]",
		Short: "Detect the project's build pack and write a commented pipewright.yaml",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			res, err := generator.Init(dir, opts)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (build pack %s: %v)\n", res.Path, res.Detected.Pack, res.Detected.Facts)
			return nil
		},
	}
	c.Flags().StringVar(&opts.Repo, "repo", "", "GitHub owner/name (default: from .git/config)")
	c.Flags().StringVar(&opts.Branch, "branch", "", "default branch (default: from .git/HEAD, else main)")
	c.Flags().BoolVar(&opts.Force, "force", false, "overwrite an existing pipewright.yaml")
	return c
}

func schemaCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of pipewright.yaml (for editor completion)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := config.Schema()
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(s)
			return err
		},
	}
}
