package main

import (
	"errors"
	"fmt"

	"github.com/pipewright/pipewright/generator"
	"github.com/pipewright/pipewright/pkg/boundedio"
	"github.com/pipewright/pipewright/pkg/simulate"
	"github.com/pipewright/pipewright/pkg/tekton"
	"github.com/spf13/cobra"
)

// maxPayloadBytes is GitHub's own cap on a webhook delivery (25 MB).
const maxPayloadBytes = 25 << 20

func simulateCmd() *cobra.Command {
	var (
		file, event, payload, secret, signature, delivery string
		gh                                                githubOptions
	)
	c := &cobra.Command{
		Use:   "simulate --event EVENT --payload FILE --secret S",
		Short: "Run a GitHub webhook delivery through the generated triggers offline; print the PipelineRuns it would create",
		Long: `simulate evaluates a webhook delivery with Tekton Triggers' own interceptors, CEL, bindings and
templates against the triggers pipewright generates (the built-in example without -f), and
prints each PipelineRun the EventListener would create as YAML, or on stderr why each trigger
did not fire. Exit code 0: fired; 1: nothing fired; 2: error.

The pipewright interceptor of the ChatOps trigger (/retest, /ok-to-test; generated only with
tools.image set) asks the GitHub API at --api-url with the token in --token-file or
GITHUB_TOKEN.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fail := func(err error) error { return exitError{2, err} }
			if event == "" || payload == "" {
				return fail(errors.New("--event and --payload are required, e.g. --event pull_request --payload pr.json"))
			}
			body, err := boundedio.ReadFile(payload, maxPayloadBytes)
			if err != nil {
				return fail(fmt.Errorf("payload: %w", err))
			}
			cfg, err := loadConfig(configFile(cmd, file))
			if err != nil {
				return fail(err)
			}
			tree, err := generator.Project(cfg)
			if err != nil {
				return fail(err)
			}
			token, err := gh.token(true)
			if err != nil {
				return fail(err)
			}
			d := simulate.Delivery{Event: event, Payload: body, Secret: secret, Signature: signature,
				Unsigned: cmd.Flags().Changed("signature") && signature == "", ID: delivery}
			res, err := simulate.Run(cmd.Context(), tree, d, simulate.Options{GitHubAPI: gh.apiURL, GitHubToken: token})
			if err != nil {
				return fail(err)
			}
			for _, s := range res.Skipped {
				fmt.Fprintf(cmd.ErrOrStderr(), "trigger %s did not fire: %s\n", s.Trigger, s.Reason)
			}
			for i, f := range res.Fired {
				y, err := tekton.Marshal(f.PipelineRun)
				if err != nil {
					return fail(err)
				}
				if i > 0 {
					fmt.Fprintln(cmd.OutOrStdout(), "---")
				}
				fmt.Fprintf(cmd.OutOrStdout(), "# trigger %s\n%s", f.Trigger, y)
			}
			if len(res.Fired) == 0 {
				return exitError{1, fmt.Errorf("no trigger fired for this %s delivery", event)}
			}
			return nil
		},
	}
	f := c.Flags()
	projectFlag(c, &file)
	f.StringVar(&event, "event", "", "X-GitHub-Event: pull_request, push, issue_comment, ...")
	f.StringVar(&payload, "payload", "", "file with the webhook body (JSON)")
	f.StringVar(&secret, "secret", "", "webhook secret the EventListener checks signatures with")
	f.StringVar(&delivery, "delivery", "", "X-GitHub-Delivery id the runs are labelled with (default: a fixed one)")
	f.StringVar(&signature, "signature", "", "X-Hub-Signature-256 header (default: computed from --secret; empty: none)")
	gh.addFlags(c)
	gh.deprecatedAliases(c, "github-token-file", "github-api")
	return c
}
