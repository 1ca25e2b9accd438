package main

import (
	"fmt"

	"github.com/pipewright/pipewright/pkg/bundle"
	"github.com/pipewright/pipewright/pkg/image"
	"github.com/spf13/cobra"
)

func bundleCmd() *cobra.Command {
	c := &cobra.Command{Use: "bundle", Short: "Publish Tasks and Pipelines as Tekton bundles, and read them back"}
	c.AddCommand(bundlePushCmd(), bundleListCmd())
	return c
}

func bundlePushCmd() *cobra.Command {
	var from []string
	c := &cobra.Command{
		Use:   "push REF [--from tasks/]",
		Short: "Pack the Tasks and Pipelines under --from into a Tekton bundle and push it",
		Long: fmt.Sprintf("Checks every object with Tekton's own validation, writes one layer per object with the\n"+
			"dev.tekton.image.* annotations Tekton's bundles resolver reads (at most %d objects), stamps\n"+
			"SOURCE_DATE_EPOCH or the commit time, and pushes to REF. The last line printed is REPO@sha256:….", bundle.MaxObjects),
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			objs, err := untilDone(cmd.Context(), func() ([]bundle.Object, error) { return bundle.Load(from...) })
			if err != nil {
				return err
			}
			t, err := image.SourceTime(".")
			if err != nil {
				return err
			}
			ref, err := bundle.Push(cmd.Context(), args[0], objs, bundle.Options{Time: t})
			if err != nil {
				return err
			}
			for _, o := range objs {
				fmt.Fprintf(cmd.ErrOrStderr(), "packed %s\n", o)
			}
			fmt.Fprintln(cmd.OutOrStdout(), ref.String())
			return nil
		},
	}
	c.Flags().StringSliceVar(&from, "from", []string{"tasks"}, "folders to read Task and Pipeline YAML from")
	return c
}

func bundleListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list REF",
		Short: "List the objects in a Tekton bundle",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			objs, err := bundle.List(cmd.Context(), args[0], false, bundle.Options{})
			if err != nil {
				return err
			}
			for _, o := range objs {
				fmt.Fprintf(cmd.OutOrStdout(), "%s/%s\t%s\n", o.Kind, o.Name, o.APIVersion)
			}
			return nil
		},
	}
}
