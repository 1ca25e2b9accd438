package main

import (
	"fmt"
	"os"

	"github.com/pipewright/pipewright/generator"
	"github.com/pipewright/pipewright/generator/builtin"
	"github.com/pipewright/pipewright/generator/config"
	"github.com/spf13/cobra"
)

func init() { subcommands = append(subcommands, generateCmd, initCmd, schemaCmd) }

// DefaultConfig is the config file used when -f is not given and it exists.
const DefaultConfig = "pipewright.yaml"

// loadConfig reads -f; without it ./pipewright.yaml when there is one (and
// says so on stderr), else the built-in example.
func loadConfig(cmd *cobra.Command, file string) (*config.Loaded, error) {
	if file == "" {
		if _, err := os.Stat(DefaultConfig); err != nil {
			return config.Parse(builtin.File, builtin.Config)
		}
		file = DefaultConfig
		fmt.Fprintf(cmd.ErrOrStderr(), "using ./%s (no -f given)\n", DefaultConfig)
	}
	return config.Load(file)
}

func generateCmd() *cobra.Command {
	var file, out, images string
	var force bool
	c := &cobra.Command{
		Use:   "generate",
		Short: "Generate a project's CI/CD set (pipelines, tasks, triggers, kustomization); the built-in example without -f",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd, file)
			if err != nil {
				return err
			}
			set, err := readImageFlag(images)
			if err != nil {
				return err
			}
			tree, err := generator.ProjectWithImages(cfg, set)
			if err != nil {
				return err
			}
			rep, err := generator.WriteOwned(tree, out, generator.WriteOptions{Force: force})
			if err != nil {
				return err
			}
			fmt.Fprint(cmd.OutOrStdout(), generator.Summary(cfg, tree, out))
			fmt.Fprintln(cmd.OutOrStdout(), rep.Describe())
			return nil
		},
	}
	c.Flags().StringVarP(&file, "file", "f", "", "project config (default: ./pipewright.yaml when it exists, else the built-in example project)")
	c.Flags().StringVarP(&out, "output", "o", "out", "folder to write into")
	c.Flags().BoolVar(&force, "force", false, "overwrite files in the output folder that pipewright did not write, or that were edited since (see "+generator.ManifestFile+")")
	c.Flags().StringVar(&images, "images", "", imagesFlagHelp+imagesPrecedence+" (pipewright images shows the result)")
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
			_, err = os.Stdout.Write(s)
			return err
		},
	}
}
