package main

import (
	"fmt"
	"strings"

	"github.com/pipewright/pipewright/pkg/lint"
	"github.com/spf13/cobra"
)

func lintCmd() *cobra.Command {
	var format, failOn, config, explain, flags string
	var quiet bool
	c := &cobra.Command{
		Use:   "lint [PATH...]",
		Short: "Check Tekton YAML for injection, unpinned images, root steps, PR-exposed secrets and wiring mistakes",
		Long: "Lints Tekton and Triggers YAML files, folders (recursively, including .tekton/) or - for stdin.\n" +
			"Suppress a finding with a YAML comment `# pipewright:ignore RULE reason` on or above its line,\n" +
			"or in " + lint.ConfigFile + ". Exit code 1 when a finding is at or above --fail-on (default error:\n" +
			"what a security review blocks). A summary line (files, objects by kind, skipped documents) goes to stderr.\n\nRules:\n" + ruleList(),
		RunE: func(cmd *cobra.Command, args []string) error {
			if explain != "" {
				r, err := lint.Lookup(explain)
				if err != nil {
					return exitError{2, err}
				}
				fmt.Fprint(cmd.OutOrStdout(), r.ExplainText())
				return nil
			}
			threshold, err := lint.ParseSeverity(failOn)
			if err != nil {
				return exitError{2, fmt.Errorf("--fail-on: %w", err)}
			}
			if len(args) == 0 {
				args = []string{"."}
			}
			cfg, err := lint.LoadConfig(config)
			if err != nil {
				return exitError{2, err}
			}
			if flags != "" {
				m, err := lint.ParseFeatureFlags(flags)
				if err == nil {
					err = cfg.SetFeatureFlags(m)
				}
				if err != nil {
					return exitError{2, fmt.Errorf("--feature-flags: %w", err)}
				}
			}
			// Memory stays within a few times the input's size even on big
			// trees (the GC works harder near the limit).
			cfg.MemoryBudget = 2
			// lint.RunReport takes no context; a signal still ends the command.
			rep, err := untilDone(cmd.Context(), func() (lint.Report, error) {
				return lint.RunReport(args, cmd.InOrStdin(), cfg)
			})
			if err != nil {
				return exitError{2, err}
			}
			findings := rep.Findings
			if err := lint.WriteReport(cmd.OutOrStdout(), format, rep); err != nil {
				return exitError{2, err}
			}
			if !quiet {
				fmt.Fprintln(cmd.ErrOrStderr(), rep.Summary)
			}
			failing := 0
			for _, f := range findings {
				if f.Severity >= threshold {
					failing++
				}
			}
			if failing > 0 {
				return exitError{1, fmt.Errorf("lint: %d finding(s) at or above %s", failing, threshold)}
			}
			return nil
		},
	}
	c.Flags().StringVar(&format, "format", "human", "output format: "+strings.Join(lint.Formats, ", "))
	c.Flags().StringVar(&failOn, "fail-on", "error", "exit 1 on findings at or above this severity: error, warning or note")
	c.Flags().StringVar(&flags, "feature-flags", "", "the cluster's Tekton feature flags, key=value,... (enable-cel-in-whenexpression=true); adds to the config file's featureFlags")
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "do not print the summary line")
	c.Flags().StringVar(&config, "config", "", "config file (default "+lint.ConfigFile+" when present)")
	c.Flags().StringVar(&explain, "explain", "", "print the explanation and fix of rule ID and exit")
	return c
}

func ruleList() string {
	var b strings.Builder
	for _, r := range lint.Rules {
		fmt.Fprintf(&b, "  %-26s %-8s %s\n", r.ID, r.Severity, r.Short)
	}
	return b.String()
}
