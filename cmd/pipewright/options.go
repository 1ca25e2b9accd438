package main

// The flag groups several commands share, each defined once here (as ko's
// options package does): a command adds a group's flags and reads the
// values back through the group's methods, so a flag has one name, one
// default and one help text everywhere.

import (
	"fmt"
	"os"

	"github.com/pipewright/pipewright/generator/builtin"
	"github.com/pipewright/pipewright/generator/catalog"
	"github.com/pipewright/pipewright/generator/config"
	"github.com/pipewright/pipewright/pkg/boundedio"
	"github.com/pipewright/pipewright/pkg/github"
	"github.com/spf13/cobra"
)

// githubAPIEnv overrides github.DefaultAPIURL as --api-url's default (GitHub
// Actions and GitHub Enterprise runners set it).
const githubAPIEnv = "GITHUB_API_URL"

// githubOptions is how a command reaches GitHub: the REST API root and the
// token (file, or GITHUB_TOKEN), or a GitHub App (id, private key, and
// optionally its installation). Used by github, interceptor and simulate.
type githubOptions struct {
	tokenFile, apiURL      string
	appID, appInstallation int64
	appKeyFile             string
}

func (g *githubOptions) addFlags(c *cobra.Command) {
	api := os.Getenv(githubAPIEnv)
	if api == "" {
		api = github.DefaultAPIURL
	}
	f := c.Flags()
	f.StringVar(&g.tokenFile, "token-file", "", "file holding the GitHub token (default: the GITHUB_TOKEN env var)")
	f.StringVar(&g.apiURL, "api-url", api, "GitHub REST API root (default $"+githubAPIEnv+" when set); GitHub Enterprise: https://HOST/api/v3")
	f.Int64Var(&g.appID, "app-id", 0, "authenticate as this GitHub App (with --app-key-file) instead of with a token: check runs need it")
	f.Int64Var(&g.appInstallation, "app-installation-id", 0, "the App's installation; 0 looks it up on the repository")
	f.StringVar(&g.appKeyFile, "app-key-file", "", "the GitHub App's private key (the PEM file GitHub lets you download)")
}

// app is the GitHub App of --app-id, or nil without one.
func (g *githubOptions) app() (*github.App, error) {
	if g.appID == 0 {
		if g.appKeyFile != "" || g.appInstallation != 0 {
			return nil, fmt.Errorf("--app-key-file and --app-installation-id need --app-id")
		}
		return nil, nil
	}
	if g.appID < 0 || g.appInstallation < 0 {
		return nil, fmt.Errorf("--app-id and --app-installation-id are positive numbers")
	}
	if g.appKeyFile == "" {
		return nil, fmt.Errorf("--app-id %d: pass the App's private key with --app-key-file", g.appID)
	}
	if g.tokenFile != "" {
		return nil, fmt.Errorf("--token-file and --app-id: give one way to authenticate")
	}
	key, err := github.ReadAppKey(g.appKeyFile)
	if err != nil {
		return nil, err
	}
	return &github.App{ID: g.appID, InstallationID: g.appInstallation, Key: key}, nil
}

// deprecatedAliases keeps older spellings of the flags working, hidden, with
// a note naming the flag to use.
func (g *githubOptions) deprecatedAliases(c *cobra.Command, tokenFile, apiURL string) {
	f := c.Flags()
	f.StringVar(&g.tokenFile, tokenFile, g.tokenFile, "")
	f.StringVar(&g.apiURL, apiURL, g.apiURL, "")
	_ = f.MarkDeprecated(tokenFile, "use --token-file")
	_ = f.MarkDeprecated(apiURL, "use --api-url")
}

// token reads the token; with optional, no file and no GITHUB_TOKEN is not
// an error but "".
func (g *githubOptions) token(optional bool) (string, error) {
	if g.appID != 0 {
		return "", fmt.Errorf("--app-id: this command authenticates with a token (--token-file or GITHUB_TOKEN), not as a GitHub App")
	}
	if optional && g.tokenFile == "" && os.Getenv("GITHUB_TOKEN") == "" {
		return "", nil
	}
	return github.ReadToken(g.tokenFile)
}

// client is a GitHub client whose retries are reported on the command's
// stderr.
func (g *githubOptions) client(cmd *cobra.Command) (*github.Client, error) {
	app, err := g.app()
	if err != nil {
		return nil, err
	}
	var token string
	if app == nil {
		if token, err = g.token(false); err != nil {
			return nil, err
		}
	}
	stderr := cmd.ErrOrStderr()
	return github.New(github.Options{APIURL: g.apiURL, Token: token, App: app, Retry: &github.Retry{
		Logf: func(format string, args ...any) { fmt.Fprintf(stderr, format+"\n", args...) },
	}})
}

// projectFlag is -f, the project config of generate and simulate.
func projectFlag(c *cobra.Command, file *string) {
	c.Flags().StringVarP(file, "file", "f", "", "project config (default: ./"+DefaultConfig+" when it exists, else the built-in example project)")
}

// DefaultConfig is the config file used when -f is not given and it exists.
const DefaultConfig = "pipewright.yaml"

// configFile is -f; without it ./pipewright.yaml when there is one (and it
// says so on stderr), else "" for the built-in example.
func configFile(cmd *cobra.Command, file string) string {
	if file != "" {
		return file
	}
	if _, err := os.Stat(DefaultConfig); err != nil {
		return ""
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "using ./%s (no -f given)\n", DefaultConfig)
	return DefaultConfig
}

// loadConfig reads file, or the built-in example when it is empty.
func loadConfig(file string) (*config.Loaded, error) {
	if file == "" {
		return config.Parse(builtin.File, builtin.Config)
	}
	return config.Load(file)
}

// imagesFlagHelp documents --images for generate, catalog and images.
const imagesFlagHelp = "replace catalog images with the digest-pinned ones in `FILE`, in the lock's format " +
	`({"version":1,"images":[{"name":"golang","repo":"...","tag":"...","digest":"sha256:..."}]}; tag optional)`

// imagesPrecedence is the rule when the config and --images both name an image.
const imagesPrecedence = "; for an image also named in the config's images:, FILE wins"

// imagesFlag is --images FILE of generate, catalog and images; more is the
// command's own end of the help text.
func imagesFlag(c *cobra.Command, file *string, more string) {
	c.Flags().StringVar(file, "images", "", imagesFlagHelp+more)
}

// maxImageFileBytes bounds an --images file: a few hundred bytes per image.
const maxImageFileBytes = 4 << 20

// readImageFlag reads the override set of --images FILE; none when file is empty.
func readImageFlag(file string) (catalog.ImageSet, error) {
	if file == "" {
		return nil, nil
	}
	b, err := boundedio.ReadFile(file, maxImageFileBytes)
	if err != nil {
		return nil, fmt.Errorf("--images: %w", err)
	}
	set, err := catalog.ParseImageFile(b, file)
	if err != nil {
		return nil, fmt.Errorf("--images: %w", err)
	}
	return set, nil
}
