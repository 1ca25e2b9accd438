// Package interceptor is pipewright's Tekton Triggers ClusterInterceptor: it
// turns a ChatOps comment on a pull request (/retest, /ok-to-test <sha>) into
// the PR's head sha and refs, after asking GitHub whether the commenter may
// start CI, and binds an approval to the commit it names.
//
// It speaks Triggers' interceptor protocol: an InterceptorRequest in, an
// InterceptorResponse out, over HTTP, or over HTTPS with a certificate from
// files or a CA of its own that it publishes in its ClusterInterceptor's
// caBundle (certs.go, cabundle.go), which is how Triggers calls it.
package interceptor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pipewright/pipewright/pkg/github"
	triggersv1 "github.com/tektoncd/triggers/pkg/apis/triggers/v1beta1"
	"github.com/tektoncd/triggers/pkg/interceptors"
	"google.golang.org/grpc/codes"
	"sigs.k8s.io/yaml"
)

// Params are the interceptor params a trigger passes.
type Params struct {
	// Repository is the OWNER/NAME the trigger serves; comments from
	// other repositories are refused.
	Repository string `json:"repository"`
	// DefaultBranch is the only base branch PRs run CI for.
	DefaultBranch string `json:"defaultBranch"`
	// Owners are logins trusted besides collaborators with write and the
	// OWNERS file.
	Owners []string `json:"owners,omitempty"`
}

// Interceptor answers Triggers' interceptor requests.
type Interceptor struct {
	GitHub *github.Client
}

var _ triggersv1.InterceptorInterface = (*Interceptor)(nil)

// ServeHTTP implements the protocol: POST an InterceptorRequest, get an
// InterceptorResponse (always 200 unless the request is not one).
func (i *Interceptor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST an InterceptorRequest", http.StatusMethodNotAllowed)
		return
	}
	var req triggersv1.InterceptorRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxRequestBytes)).Decode(&req); err != nil {
		status := http.StatusBadRequest
		if tooBig := (*http.MaxBytesError)(nil); errors.As(err, &tooBig) {
			status = http.StatusRequestEntityTooLarge
		}
		http.Error(w, "interceptor request: "+err.Error(), status)
		return
	}
	resp := i.Process(r.Context(), &req)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(resp)
}

// comment is the part of an issue_comment payload read here.
type comment struct {
	Action string `json:"action"`
	Issue  struct {
		Number      int             `json:"number"`
		PullRequest json.RawMessage `json:"pull_request"`
	} `json:"issue"`
	Comment struct {
		Body string `json:"body"`
		User struct {
			Login string `json:"login"`
		} `json:"user"`
	} `json:"comment"`
	Repository struct {
		FullName string `json:"full_name"`
	} `json:"repository"`
}

// Command is a parsed ChatOps comment.
type Command struct {
	Name string // retest or ok-to-test
	SHA  string // the commit /ok-to-test approves
}

var (
	commandRE = regexp.MustCompile(`^/(retest|ok-to-test)(?:[ \t]+(\S+))?[ \t]*$`)
	// The full 40 hex digits: a short prefix is cheap to collide with a
	// crafted commit pushed after the approval.
	shaRE = regexp.MustCompile(`^[0-9a-f]{40}$`)
)

// ParseCommand reads the first line of a comment that is a command.
func ParseCommand(body string) (Command, error) {
	for _, line := range strings.Split(body, "\n") {
		line = strings.TrimSpace(line)
		m := commandRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		c := Command{Name: m[1]}
		switch {
		case c.Name == "retest" && m[2] != "":
			return Command{}, fmt.Errorf("/retest takes no argument")
		case c.Name == "ok-to-test" && m[2] == "":
			return Command{}, fmt.Errorf("/ok-to-test needs the commit it approves: /ok-to-test <sha> (the 40 hex digits of the PR head)")
		case c.Name == "ok-to-test" && !shaRE.MatchString(strings.ToLower(m[2])):
			return Command{}, fmt.Errorf("/ok-to-test %s: want the full commit sha, 40 hex digits (a short prefix can be collided with)", m[2])
		}
		c.SHA = strings.ToLower(m[2])
		return c, nil
	}
	return Command{}, fmt.Errorf("no /retest or /ok-to-test command in the comment")
}

func refuse(format string, args ...any) *triggersv1.InterceptorResponse {
	return interceptors.Failf(codes.FailedPrecondition, format, args...)
}

// Process decides one comment event.
func (i *Interceptor) Process(ctx context.Context, r *triggersv1.InterceptorRequest) *triggersv1.InterceptorResponse {
	var p Params
	if err := interceptors.UnmarshalParams(r.InterceptorParams, &p); err != nil {
		return interceptors.Failf(codes.InvalidArgument, "pipewright interceptor params: %v", err)
	}
	if p.Repository == "" || p.DefaultBranch == "" {
		return interceptors.Failf(codes.InvalidArgument, "pipewright interceptor params: repository and defaultBranch are required")
	}
	if ev := interceptors.Canonical(r.Header).Get("X-Github-Event"); ev != "issue_comment" {
		return refuse("event %q: only issue_comment carries commands", ev)
	}
	var c comment
	if err := json.Unmarshal([]byte(r.Body), &c); err != nil {
		return interceptors.Failf(codes.InvalidArgument, "issue_comment body: %v", err)
	}
	if c.Action != "created" {
		return refuse("comment %s, not created", c.Action)
	}
	if len(c.Issue.PullRequest) == 0 || string(c.Issue.PullRequest) == "null" {
		return refuse("comment on issue #%d, not on a pull request", c.Issue.Number)
	}
	if !strings.EqualFold(c.Repository.FullName, p.Repository) {
		return refuse("comment on %s, but this trigger serves %s", c.Repository.FullName, p.Repository)
	}
	cmd, err := ParseCommand(c.Comment.Body)
	if err != nil {
		return refuse("%v", err)
	}
	pr, err := i.GitHub.GetPullRequest(ctx, p.Repository, c.Issue.Number)
	if err != nil {
		return interceptors.Failf(codes.Unavailable, "%v", err)
	}
	switch {
	case pr.State != "open":
		return refuse("pull request #%d is %s", pr.Number, pr.State)
	case pr.BaseRef != p.DefaultBranch:
		return refuse("pull request #%d targets %s, not %s", pr.Number, pr.BaseRef, p.DefaultBranch)
	}
	t := &trust{i: i, p: p, ctx: ctx}
	commenter := c.Comment.User.Login
	ok, why, err := t.trusted(commenter)
	if err != nil {
		return interceptors.Failf(codes.Unavailable, "%v", err)
	}
	if !ok {
		return refuse("%s may not start CI here (%s)", commenter, why)
	}
	switch cmd.Name {
	case "ok-to-test":
		// The approval is for the commit the approver reviewed. A push
		// after it moves the head, and the head then needs its own
		// approval: whatever happens between the comment and this lookup
		// cannot sneak in unreviewed code.
		if !strings.EqualFold(pr.HeadSHA, cmd.SHA) {
			return refuse("approval names %s but the PR head is %s: review the new commits and approve again", cmd.SHA, pr.HeadSHA)
		}
	case "retest":
		if pr.Fork() && !slices.Contains(trustedAssociations, pr.Association) {
			// /retest names no commit: on a fork from an untrusted author it
			// would approve whatever the head is by now.
			ok, _, err := t.trusted(pr.Author)
			if err != nil {
				return interceptors.Failf(codes.Unavailable, "%v", err)
			}
			if !ok {
				return refuse("pull request #%d comes from fork %s by %s, who is not trusted: approve a commit with /ok-to-test <sha>", pr.Number, pr.HeadRepo, pr.Author)
			}
		}
	}
	return &triggersv1.InterceptorResponse{Continue: true, Extensions: map[string]any{
		"head_sha":       pr.HeadSHA,
		"head_ref":       pr.HeadRef,
		"base_ref":       pr.BaseRef,
		"pr_number":      strconv.Itoa(pr.Number),
		"clone_url":      pr.CloneURL,
		"repo_full_name": pr.BaseRepo,
		"command":        cmd.Name,
		"approved_by":    commenter,
		"trusted_by":     why,
	}}
}

var trustedAssociations = []string{"OWNER", "MEMBER", "COLLABORATOR"}

// trust answers whether a login may start CI, asking GitHub only as far as
// needed: the configured owners, then collaborator permission, then the
// OWNERS file on the default branch (read once).
type trust struct {
	i      *Interceptor
	p      Params
	ctx    context.Context
	owners *ownersFile
}

type ownersFile struct {
	Approvers []string `json:"approvers"`
	Reviewers []string `json:"reviewers"`
}

func (t *trust) trusted(login string) (bool, string, error) {
	if login == "" {
		return false, "no login", nil
	}
	for _, o := range t.p.Owners {
		if strings.EqualFold(o, login) {
			return true, "owners in pipewright.yaml", nil
		}
	}
	perm, err := t.i.GitHub.Permission(t.ctx, t.p.Repository, login)
	if err != nil {
		return false, "", err
	}
	if perm == "admin" || perm == "write" || perm == "maintain" {
		return true, "collaborator with " + perm + " permission", nil
	}
	if t.owners == nil {
		data, found, err := t.i.GitHub.File(t.ctx, t.p.Repository, "OWNERS", t.p.DefaultBranch)
		if err != nil {
			return false, "", err
		}
		t.owners = &ownersFile{}
		if found {
			if err := yaml.Unmarshal(data, t.owners); err != nil {
				return false, "", fmt.Errorf("OWNERS on %s: %w", t.p.DefaultBranch, err)
			}
		}
	}
	for _, o := range append(append([]string{}, t.owners.Approvers...), t.owners.Reviewers...) {
		if strings.EqualFold(o, login) {
			return true, "OWNERS file", nil
		}
	}
	return false, "permission " + perm + ", not in OWNERS or the configured owners", nil
}
