package github

import (
	"context"
	"fmt"
	"unicode/utf8"

	gogithub "github.com/google/go-github/v62/github"
	"github.com/pipewright/pipewright/pkg/boundedio"
)

// States a commit status can take.
var states = map[string]bool{"pending": true, "success": true, "failure": true, "error": true}

// maxDescription is what GitHub keeps of a status description.
const maxDescription = 140

// Status is one commit status.
type Status struct {
	Repo        string // OWNER/NAME
	SHA         string // full commit sha
	State       string // pending, success, failure or error
	Context     string // one status line per context on the commit; "pipewright" when empty
	Description string // cut to 140 characters
	TargetURL   string // optional link, e.g. the PipelineRun's dashboard page
}

// SetStatus creates the commit status s.
func (c *Client) SetStatus(ctx context.Context, s Status) error {
	owner, name, err := splitRepo(s.Repo)
	if err != nil {
		return err
	}
	if err := checkSHA(s.SHA); err != nil {
		return err
	}
	if !states[s.State] {
		return fmt.Errorf("state %s: want pending, success, failure or error", boundedio.Quote(s.State))
	}
	st := &gogithub.RepoStatus{State: &s.State, Context: gogithub.String(s.Context)}
	if s.Context == "" {
		st.Context = gogithub.String("pipewright")
	}
	if s.Description != "" {
		st.Description = gogithub.String(truncate(s.Description, maxDescription))
	}
	if s.TargetURL != "" {
		st.TargetURL = &s.TargetURL
	}
	if _, _, err := c.gh.Repositories.CreateStatus(ctx, owner, name, s.SHA, st); err != nil {
		return explain(err, "unknown repository or sha, or the token cannot see the repository")
	}
	return nil
}

// truncate cuts s to at most n characters, marking the cut with an ellipsis
// so a reader knows there was more.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
