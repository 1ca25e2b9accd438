package github

import (
	"context"
	"fmt"

	gogithub "github.com/google/go-github/v62/github"
)

// MaxPullRequestFiles is as many files as GitHub's PR files API lists for
// one pull request (3000, 30 pages of 100).
const MaxPullRequestFiles = 3000

// PullRequestFiles lists the paths a pull request changes (renames list the
// new name), following the API's pagination, at most max files (at most
// MaxPullRequestFiles when max is not positive). truncated says the list
// was cut at max. Each path comes whole: no joining, so a comma in a file
// name is just a character.
func (c *Client) PullRequestFiles(ctx context.Context, repo string, number, max int) (files []string, truncated bool, err error) {
	owner, name, err := splitRepo(repo)
	if err != nil {
		return nil, false, err
	}
	if max <= 0 || max > MaxPullRequestFiles {
		max = MaxPullRequestFiles
	}
	opt := &gogithub.ListOptions{PerPage: 100}
	for {
		page, resp, err := c.gh.PullRequests.ListFiles(ctx, owner, name, number, opt)
		if err != nil {
			return nil, false, explain(err, fmt.Sprintf("unknown pull request #%d, or the token cannot see the repository", number))
		}
		for _, f := range page {
			if len(files) == max {
				return files, true, nil
			}
			files = append(files, f.GetFilename())
		}
		if resp.NextPage == 0 {
			return files, false, nil
		}
		if len(files) == max {
			return files, true, nil
		}
		opt.Page = resp.NextPage
	}
}
