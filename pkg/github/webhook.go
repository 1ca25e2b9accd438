package github

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	gogithub "github.com/google/go-github/v62/github"
	"github.com/pipewright/pipewright/pkg/boundedio"
)

// WebhookEvents are the events pipewright's triggers listen to.
var WebhookEvents = []string{"pull_request", "push", "issue_comment"}

// Webhook is the repository webhook that feeds the EventListener.
type Webhook struct {
	Repo   string // OWNER/NAME
	URL    string // the EventListener's public URL
	Secret string // the HMAC secret the GitHub interceptor checks
}

// WebhookResult says what EnsureWebhook did.
type WebhookResult struct {
	ID      int64
	Created bool // false: the hook with this URL was updated
	// Duplicates are other hooks with the same URL, left alone: each one
	// delivers every event again.
	Duplicates []int64
}

// EnsureWebhook makes the repository have one webhook for w.URL with
// pipewright's events, JSON payloads and w.Secret: it updates the hook with
// that URL if there is one and creates it otherwise, so running it twice
// leaves one hook. GitHub never returns a hook's secret, so an existing hook
// is always rewritten rather than compared.
func (c *Client) EnsureWebhook(ctx context.Context, w Webhook) (WebhookResult, error) {
	owner, name, err := splitRepo(w.Repo)
	if err != nil {
		return WebhookResult{}, err
	}
	u, err := url.Parse(w.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return WebhookResult{}, fmt.Errorf("webhook url %s: want the EventListener's absolute http(s) URL", boundedio.Quote(w.URL))
	}
	if w.Secret == "" {
		return WebhookResult{}, errors.New("webhook secret is empty: the EventListener rejects unsigned deliveries")
	}
	notFound := "unknown repository, or the token lacks admin:repo_hook (classic) or Webhooks: write (fine-grained) on it"

	var matches []int64
	opts := &gogithub.ListOptions{PerPage: 100}
	for {
		hooks, resp, err := c.gh.Repositories.ListHooks(ctx, owner, name, opts)
		if err != nil {
			return WebhookResult{}, explain(err, notFound)
		}
		for _, h := range hooks {
			if h.GetConfig() != nil && h.GetConfig().GetURL() == w.URL {
				matches = append(matches, h.GetID())
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}

	hook := &gogithub.Hook{
		Config: &gogithub.HookConfig{
			URL:         gogithub.String(w.URL),
			ContentType: gogithub.String("json"),
			Secret:      gogithub.String(w.Secret),
			InsecureSSL: gogithub.String("0"),
		},
		Events: WebhookEvents,
		Active: gogithub.Bool(true),
	}
	if len(matches) == 0 {
		h, _, err := c.gh.Repositories.CreateHook(ctx, owner, name, hook)
		if err != nil {
			return WebhookResult{}, explain(err, notFound)
		}
		return WebhookResult{ID: h.GetID(), Created: true}, nil
	}
	if _, _, err := c.gh.Repositories.EditHook(ctx, owner, name, matches[0], hook); err != nil {
		return WebhookResult{}, explain(err, notFound)
	}
	return WebhookResult{ID: matches[0], Duplicates: matches[1:]}, nil
}

// ReadSecret returns the webhook secret in file without its trailing line
// break, which editors and echo add but the EventListener's Secret, made
// with --from-literal, does not have.
func ReadSecret(file string) (string, error) {
	if file == "" {
		return "", errors.New("no webhook secret: pass --secret-file")
	}
	data, err := boundedio.ReadFile(file, maxSecretBytes)
	if err != nil {
		return "", fmt.Errorf("secret file: %w", err)
	}
	s := strings.TrimRight(string(data), "\r\n")
	if err := CheckSecret(s); err != nil {
		return "", fmt.Errorf("secret file %s: %w", file, err)
	}
	return s, nil
}

// CheckSecret refuses a webhook secret that signs nothing: empty or only
// whitespace, anyone can compute its signatures.
func CheckSecret(s string) error {
	if strings.TrimSpace(s) == "" {
		return errors.New("the webhook secret is empty or whitespace: anyone could sign deliveries (hint: openssl rand -hex 32 | tr -d '\\n' > webhook-secret)")
	}
	return nil
}
