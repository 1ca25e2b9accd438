package main

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/pipewright/pipewright/pkg/boundedio"
	"github.com/pipewright/pipewright/pkg/github"
	"github.com/spf13/cobra"
)

func githubCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "github",
		Short: "Report to GitHub and set up its webhook: commit status, check run, repository webhook",
	}
	c.AddCommand(githubStatusCmd(), githubWebhookCmd())
	return c
}

func githubStatusCmd() *cobra.Command {
	var (
		conn                              githubOptions
		st                                github.Status
		noStatus                          bool
		checkRun, annFile, annText, strip string
		checkout                          string
		tasks                             []string
	)
	c := &cobra.Command{
		Use:   "status",
		Short: "Set a commit status and, with --check-run, create or update the pipeline's check run",
		Long: `Set a commit status (pending, success, failure or error) on a commit.

With --check-run NAME it also creates the check run NAME on the commit, or
updates the one already there. Its summary is a table of the pipeline's tasks
(--task NAME=$(tasks.NAME.status), from a finally) and its annotations are the
file:line[:col]: message lines of --annotations or --annotations-file.
Tasks may also be given as arguments, NAME=OUTCOME each.

With --checkout DIR (the run's checkout), what the catalog's test and lint
steps kept there adds each task's duration, a failed task's last lines of
output, and annotations from its file:line[:col]: message lines, with file
names relative to a package folder found in the checkout.

Check runs need a GitHub App installation token: authenticate with --app-id
and --app-key-file, and pipewright trades the App's JWT for one.`,
		Example: `  pipewright github status --repo octo/app --sha "$SHA" --state success --context pipewright/pr
  pipewright github status --repo octo/app --sha "$SHA" --state failure --check-run pipewright/pr \
    --task clone=Succeeded --task test=Failed --annotations "$PROBLEMS"
  pipewright github status --app-id 12345 --app-key-file app.pem --repo octo/app --sha "$SHA" --state failure \
    --no-status --check-run app-pull-request --checkout /workspace/source clone=Succeeded test=Failed`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			outcomes, err := github.ParseTasks(append(tasks, args...))
			if err != nil {
				return err
			}
			var kept github.TaskReport
			if checkout != "" {
				if checkRun == "" {
					return fmt.Errorf("--checkout fills a check run: pass --check-run NAME too")
				}
				if kept, err = github.ReadTaskLogs(checkout, outcomes); err != nil {
					return err
				}
				outcomes = kept.Tasks
			}
			anns, err := untilDone(cmd.Context(), func() ([]github.Annotation, error) {
				return readAnnotations(cmd, annText, annFile, strip)
			})
			if err != nil {
				return err
			}
			anns = append(anns, kept.Annotations...)
			if checkRun == "" && (len(outcomes) > 0 || len(anns) > 0) {
				return fmt.Errorf("--task and --annotations fill a check run: pass --check-run NAME too")
			}
			if noStatus && checkRun == "" {
				return fmt.Errorf("--no-status without --check-run reports nothing")
			}
			client, err := conn.client(cmd)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if !noStatus {
				if err := client.SetStatus(cmd.Context(), st); err != nil {
					return err
				}
				fmt.Fprintf(out, "status %s set on %s@%s (context %q)\n", st.State, st.Repo, st.SHA, st.Context)
			}
			if checkRun == "" {
				return nil
			}
			res, err := client.SetCheckRun(cmd.Context(), github.CheckRun{Repo: st.Repo, SHA: st.SHA, Name: checkRun,
				State: st.State, DetailsURL: st.TargetURL, Title: st.Description, Tasks: outcomes, Annotations: anns, Logs: kept.Logs})
			if err != nil {
				return fmt.Errorf("check run %s: %w", checkRun, err)
			}
			verb := "updated"
			if res.Created {
				verb = "created"
			}
			fmt.Fprintf(out, "check run %s (%d) %s on %s@%s: %d tasks, %d annotations\n",
				checkRun, res.ID, verb, st.Repo, st.SHA, len(outcomes), len(anns))
			return nil
		},
	}
	conn.addFlags(c)
	f := c.Flags()
	f.StringVar(&st.Repo, "repo", "", "repository as OWNER/NAME (required)")
	f.StringVar(&st.SHA, "sha", "", "full commit sha (required)")
	f.StringVar(&st.State, "state", "", "pending, success, failure or error (required)")
	f.StringVar(&st.Context, "context", "pipewright", "status context: one line per context on the commit")
	f.StringVar(&st.Description, "description", "", "short description; GitHub keeps 140 characters")
	f.StringVar(&st.TargetURL, "target-url", "", "link shown with the status, e.g. the PipelineRun's dashboard page")
	f.BoolVar(&noStatus, "no-status", false, "set only the check run, not the commit status")
	f.StringVar(&checkRun, "check-run", "", "also create or update the check run with this name (GitHub App token)")
	f.StringArrayVar(&tasks, "task", nil, "NAME=OUTCOME for the check run's table; OUTCOME is Succeeded, Failed or None (repeatable)")
	f.StringVar(&annText, "annotations", "", "text whose file:line[:col]: message lines become check run annotations")
	f.StringVar(&annFile, "annotations-file", "", "file (or - for stdin) whose file:line[:col]: message lines become annotations")
	f.StringVar(&strip, "annotations-strip", "", "path prefix to remove from annotation paths, e.g. the workspace path")
	f.StringVar(&checkout, "checkout", "", "the run's checkout, where test and lint steps kept their output: durations, a failed task's last lines and its annotations")
	for _, name := range []string{"repo", "sha", "state"} {
		c.MarkFlagRequired(name)
	}
	return c
}

// maxAnnotationsBytes bounds --annotations-file: far more problem lines than
// GitHub shows (50 per request) fit in it.
const maxAnnotationsBytes = 16 << 20

func readAnnotations(cmd *cobra.Command, text, file, strip string) ([]github.Annotation, error) {
	var (
		more []byte
		err  error
	)
	switch {
	case file == "-":
		more, err = boundedio.ReadAll(cmd.InOrStdin(), "stdin", maxAnnotationsBytes)
	case file != "":
		more, err = boundedio.ReadFile(file, maxAnnotationsBytes)
	}
	if err != nil {
		return nil, fmt.Errorf("annotations file: %w", err)
	}
	return github.ParseAnnotations(io.MultiReader(strings.NewReader(text), strings.NewReader("\n"), bytes.NewReader(more)), strip)
}

func githubWebhookCmd() *cobra.Command {
	var (
		conn       githubOptions
		w          github.Webhook
		secretFile string
	)
	c := &cobra.Command{
		Use:   "webhook",
		Short: "Create or update the repository webhook that feeds the EventListener (idempotent)",
		Long: `Make the repository have exactly one webhook for --url, sending pull_request,
push and issue_comment events as JSON, signed with the secret in --secret-file
(its trailing newline is dropped: create the EventListener's Secret from the
same value). Run it again to rotate the secret; it never adds a second hook.`,
		Example: `  pipewright github webhook --repo octo/app --url https://ci.example.com/ --secret-file webhook-secret`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			secret, err := github.ReadSecret(secretFile)
			if err != nil {
				return err
			}
			w.Secret = secret
			client, err := conn.client(cmd)
			if err != nil {
				return err
			}
			res, err := client.EnsureWebhook(cmd.Context(), w)
			if err != nil {
				return err
			}
			verb := "updated"
			if res.Created {
				verb = "created"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "webhook %d %s on %s: %s, events %s, content type json\n",
				res.ID, verb, w.Repo, w.URL, strings.Join(github.WebhookEvents, ", "))
			if len(res.Duplicates) > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: hooks %v also deliver to %s; delete them or every event runs twice\n", res.Duplicates, w.URL)
			}
			return nil
		},
	}
	conn.addFlags(c)
	f := c.Flags()
	f.StringVar(&w.Repo, "repo", "", "repository as OWNER/NAME (required)")
	f.StringVar(&w.URL, "url", "", "the EventListener's public URL (required)")
	f.StringVar(&secretFile, "secret-file", "", "file holding the webhook secret (required)")
	for _, name := range []string{"repo", "url", "secret-file"} {
		c.MarkFlagRequired(name)
	}
	return c
}
