package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/pipewright/pipewright/pkg/github"
	"github.com/pipewright/pipewright/pkg/interceptor"
	"github.com/spf13/cobra"
)

func init() { subcommands = append(subcommands, interceptorCmd) }

func interceptorCmd() *cobra.Command {
	var addr, tokenFile, apiURL string
	serve := &cobra.Command{
		Use:   "serve",
		Short: "Serve the pipewright ClusterInterceptor (ChatOps /retest and sha-bound /ok-to-test) over HTTP",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			token, err := github.ReadToken(tokenFile)
			if err != nil {
				return err
			}
			gh, err := github.New(github.Options{APIURL: apiURL, Token: token})
			if err != nil {
				return err
			}
			srv := &http.Server{Addr: addr, Handler: &interceptor.Interceptor{GitHub: gh}, ReadHeaderTimeout: 10 * time.Second}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			go func() {
				<-ctx.Done()
				shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_ = srv.Shutdown(shutdown)
			}()
			fmt.Fprintf(cmd.OutOrStdout(), "pipewright interceptor listening on %s\n", addr)
			if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("interceptor: %w", err)
			}
			return nil
		},
	}
	serve.Flags().StringVar(&addr, "listen", ":8080", "address to listen on")
	serve.Flags().StringVar(&tokenFile, "token-file", "", "file holding the GitHub token (default: the GITHUB_TOKEN env var)")
	serve.Flags().StringVar(&apiURL, "api-url", "", "GitHub REST API root (default https://api.github.com)")
	c := &cobra.Command{Use: "interceptor", Short: "The pipewright Triggers ClusterInterceptor"}
	c.AddCommand(serve)
	return c
}
