package github

import (
	"context"
	"errors"
	"net/http"

	gogithub "github.com/google/go-github/v62/github"
)

// PullRequest is what deciding whether to run CI on a PR needs.
type PullRequest struct {
	Number      int
	State       string // open or closed
	Draft       bool
	HeadSHA     string
	HeadRef     string
	HeadRepo    string // OWNER/NAME of the head; empty when the fork was deleted
	BaseRef     string
	BaseRepo    string
	CloneURL    string // of the base repository
	Author      string
	Association string // the author's author_association
}

// Fork says whether the PR's head lives in another repository.
func (p PullRequest) Fork() bool { return p.HeadRepo != p.BaseRepo }

// GetPullRequest reads PR number of repo (OWNER/NAME).
func (c *Client) GetPullRequest(ctx context.Context, repo string, number int) (PullRequest, error) {
	owner, name, err := splitRepo(repo)
	if err != nil {
		return PullRequest{}, err
	}
	pr, _, err := c.gh.PullRequests.Get(ctx, owner, name, number)
	if err != nil {
		return PullRequest{}, explain(err, "unknown pull request, or the token cannot see the repository")
	}
	out := PullRequest{
		Number:      pr.GetNumber(),
		State:       pr.GetState(),
		Draft:       pr.GetDraft(),
		HeadSHA:     pr.GetHead().GetSHA(),
		HeadRef:     pr.GetHead().GetRef(),
		HeadRepo:    pr.GetHead().GetRepo().GetFullName(),
		BaseRef:     pr.GetBase().GetRef(),
		BaseRepo:    pr.GetBase().GetRepo().GetFullName(),
		CloneURL:    pr.GetBase().GetRepo().GetCloneURL(),
		Author:      pr.GetUser().GetLogin(),
		Association: pr.GetAuthorAssociation(),
	}
	return out, nil
}

// Permission is user's permission on repo: admin, write, read or none
// (GitHub's legacy values; maintain reads as write, triage as read).
func (c *Client) Permission(ctx context.Context, repo, user string) (string, error) {
	owner, name, err := splitRepo(repo)
	if err != nil {
		return "", err
	}
	p, _, err := c.gh.Repositories.GetPermissionLevel(ctx, owner, name, user)
	if err != nil {
		var er *gogithub.ErrorResponse
		// GitHub answers 404 for a user who is not a collaborator (and
		// does not exist) on some installations.
		if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound {
			return "none", nil
		}
		return "", explain(err, "unknown repository, or the token cannot see its collaborators")
	}
	return p.GetPermission(), nil
}

// File returns the content of path in repo at ref; found is false when it
// does not exist.
func (c *Client) File(ctx context.Context, repo, path, ref string) (content []byte, found bool, err error) {
	owner, name, err := splitRepo(repo)
	if err != nil {
		return nil, false, err
	}
	f, _, resp, err := c.gh.Repositories.GetContents(ctx, owner, name, path, &gogithub.RepositoryContentGetOptions{Ref: ref})
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusNotFound {
			return nil, false, nil
		}
		return nil, false, explain(err, "unknown repository, or the token cannot read it")
	}
	if f == nil {
		return nil, false, nil // a folder
	}
	s, err := f.GetContent()
	if err != nil {
		return nil, false, explain(err, "")
	}
	return []byte(s), true, nil
}

// BranchHead is the commit a branch of repo points at now.
func (c *Client) BranchHead(ctx context.Context, repo, branch string) (string, error) {
	owner, name, err := splitRepo(repo)
	if err != nil {
		return "", err
	}
	// No redirect followed: a renamed branch is not the branch a push named.
	b, _, err := c.gh.Repositories.GetBranch(ctx, owner, name, branch, 0)
	if err != nil {
		return "", explain(err, "unknown branch, or the token cannot see the repository")
	}
	return b.GetCommit().GetSHA(), nil
}
