// Package github is pipewright's GitHub runtime: commit statuses, check runs
// and the repository webhook, through go-github with retries and one-line
// errors a pipeline log can show as they are.
package github

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	gogithub "github.com/google/go-github/v62/github"
	"github.com/pipewright/pipewright/pkg/boundedio"
	"github.com/pipewright/pipewright/pkg/keys"
)

// DefaultAPIURL is github.com's REST API root.
const DefaultAPIURL = keys.GitHubAPIURL

// Options configure a Client.
type Options struct {
	// APIURL is the REST API root: DefaultAPIURL when empty, or
	// https://HOST/api/v3 for GitHub Enterprise Server.
	APIURL string
	// Token authenticates every request (a personal access token, or a GitHub
	// App installation token for check runs).
	Token string
	// App, instead of Token, authenticates as a GitHub App installation,
	// with tokens minted as needed.
	App *App
	// Retry repeats failed requests; nil uses the defaults of Retry.
	Retry *Retry
}

// Client talks to one GitHub API with one token.
type Client struct {
	gh *gogithub.Client
}

// New returns a Client for opts.
func New(opts Options) (*Client, error) {
	if opts.Token == "" && opts.App == nil {
		return nil, errors.New("no GitHub token: pass --token-file or set GITHUB_TOKEN, or a GitHub App (--app-id, --app-key-file)")
	}
	if opts.Token != "" && opts.App != nil {
		return nil, errors.New("both a token and a GitHub App: give one")
	}
	api := opts.APIURL
	if api == "" {
		api = DefaultAPIURL
	}
	base, err := url.Parse(api)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("api url %s: want an absolute http(s) URL such as %s or https://HOST/api/v3", boundedio.Quote(api), DefaultAPIURL)
	}
	// go-github resolves paths against BaseURL, which must end in a slash.
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	retry := opts.Retry
	if retry == nil {
		retry = &Retry{}
	}
	auth := &hostAuth{scheme: base.Scheme, host: base.Host, next: retry}
	if opts.App != nil {
		auth.token = newAppTokens(opts.App, base, retry).forRequest
	} else {
		auth.token = func(*http.Request) (string, error) { return opts.Token, nil }
	}
	hc := &http.Client{
		Transport:     auth,
		Timeout:       5 * time.Minute,
		CheckRedirect: sameHostRedirect(base),
	}
	gh := gogithub.NewClient(hc)
	gh.BaseURL = base
	gh.UserAgent = "pipewright"
	return &Client{gh: gh}, nil
}

// hostAuth adds the token to requests for the configured API host only.
// go-github's WithAuthToken adds it in the transport to every request, so a
// redirect to another host would receive it.
type hostAuth struct {
	scheme, host string
	// token is the credential for req: fixed, or a GitHub App's.
	token func(req *http.Request) (string, error)
	next  http.RoundTripper
}

func (a *hostAuth) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	if req.URL.Scheme == a.scheme && req.URL.Host == a.host {
		token, err := a.token(req)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
	} else {
		req.Header.Del("Authorization")
	}
	return a.next.RoundTrip(req)
}

// sameHostRedirect refuses redirects away from the API host: GitHub's API
// redirects within itself (a renamed repository), and a redirect elsewhere
// is either a misconfigured proxy or an attempt to collect the token.
func sameHostRedirect(base *url.URL) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if req.URL.Scheme != base.Scheme || req.URL.Host != base.Host {
			return fmt.Errorf("redirected from %s to %s://%s: not following a GitHub API redirect to another host (the token is only sent to %s)",
				via[len(via)-1].URL.Host, req.URL.Scheme, req.URL.Host, base.Host)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
}

// maxSecretBytes bounds token and secret files: a GitHub token is under
// 300 bytes, and a file much larger than this is the wrong file.
const maxSecretBytes = 64 << 10

// ReadToken returns the token in file, or the GITHUB_TOKEN environment
// variable when file is empty. Surrounding whitespace is dropped: a token
// file written by echo or a Secret ends in a newline.
func ReadToken(file string) (string, error) {
	if file == "" {
		if t := strings.TrimSpace(os.Getenv("GITHUB_TOKEN")); t != "" {
			return t, nil
		}
		return "", errors.New("no GitHub token: pass --token-file or set GITHUB_TOKEN")
	}
	data, err := boundedio.ReadFile(file, maxSecretBytes)
	if err != nil {
		return "", fmt.Errorf("token file: %w", err)
	}
	t := strings.TrimSpace(string(data))
	if t == "" {
		return "", fmt.Errorf("token file %s is empty", file)
	}
	return t, nil
}

// splitRepo splits "owner/name".
func splitRepo(repo string) (string, string, error) {
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return "", "", fmt.Errorf("repo %s: want OWNER/NAME, e.g. pipewright/example-go", boundedio.Quote(repo))
	}
	return owner, name, nil
}

var shaRE = regexp.MustCompile(`^(?:[0-9a-f]{40}|[0-9a-f]{64})$`)

func checkSHA(sha string) error {
	if !shaRE.MatchString(sha) {
		return fmt.Errorf("sha %s: want the full commit sha (40 lowercase hex digits), e.g. the git-clone Task's commit result", boundedio.Quote(sha))
	}
	return nil
}

// explain turns a go-github error into one line: what was asked, what GitHub
// answered, and the likely cause. notFound is the hint for a 404, which
// GitHub also answers when the token may not see the repository.
func explain(err error, notFound string) error {
	var rl *gogithub.RateLimitError
	if errors.As(err, &rl) {
		return fmt.Errorf("%s: rate limit exhausted until %s; retry later or use another token",
			request(rl.Response), rl.Rate.Reset.Format(time.RFC3339))
	}
	var arl *gogithub.AbuseRateLimitError
	if errors.As(err, &arl) {
		after := "a while"
		if arl.RetryAfter != nil {
			after = arl.RetryAfter.String()
		}
		return fmt.Errorf("%s: secondary rate limit; GitHub asks to retry after %s", request(arl.Response), after)
	}
	var er *gogithub.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil {
		return err
	}
	code := er.Response.StatusCode
	msg := er.Message
	for _, e := range er.Errors {
		if e.Message != "" {
			msg += "; " + e.Message
		} else if e.Field != "" {
			msg += fmt.Sprintf("; %s %s", e.Field, e.Code)
		}
	}
	var hint string
	switch code {
	case http.StatusUnauthorized:
		hint = "the token is invalid or expired (check --token-file or GITHUB_TOKEN)"
	case http.StatusForbidden:
		hint = "the token lacks the permission for this call"
	case http.StatusNotFound:
		hint = notFound
	case http.StatusUnprocessableEntity:
		hint = "GitHub refused the request body"
	default:
		if code >= 500 {
			hint = "GitHub kept failing; retries exhausted"
		}
	}
	line := fmt.Sprintf("%s: HTTP %d", request(er.Response), code)
	if msg != "" {
		line += " " + msg
	}
	if hint != "" {
		line += ": " + hint
	}
	return errors.New(line)
}

func request(resp *http.Response) string {
	if resp == nil || resp.Request == nil {
		return "GitHub"
	}
	return resp.Request.Method + " " + resp.Request.URL.Path
}
