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
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pipewright/pipewright/pkg/github"
	"github.com/pipewright/pipewright/pkg/glob"
	"github.com/pipewright/pipewright/pkg/keys"
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
	// Pipelines are the names /test <pipeline> accepts: the pipelines
	// this trigger's template runs.
	Pipelines []string `json:"pipelines,omitempty"`
	// Paths are the config's path globs (pkg/glob). When set, a
	// pull_request delivery goes through only if the pull request changes
	// a file one of them matches: the interceptor lists the files itself
	// (GitHub's PR files API), each name whole, where Triggers' github
	// interceptor would join them with commas.
	Paths []string `json:"paths,omitempty"`
	// Service is a monorepo service's name (its runs' keys.Service
	// label). One delivery starts a run for each service it touches, so
	// replay, cancel and prune look only at this service's runs.
	Service string `json:"service,omitempty"`
}

// Interceptor answers Triggers' interceptor requests.
type Interceptor struct {
	GitHub *github.Client
	// Repositories are the OWNER/NAMEs it answers for (case-insensitive):
	// a request naming another is refused before GitHub is asked, so the
	// interceptor is no oracle on other repositories its token can read.
	// Empty answers for none.
	Repositories []string
	// Namespace, when set, is the only namespace whose triggers it serves
	// (its own; its replay lookups are allowed there only).
	Namespace string
	// Runs finds the PipelineRuns earlier deliveries started, for replay
	// protection; nil leaves the lookup out (no cluster to ask).
	Runs Runs
	// Timeout bounds one decision, GitHub calls and their retries
	// included, so Triggers gets an answer within its EventListener's
	// own timeout; DefaultTimeout when zero.
	Timeout time.Duration
	// Log gets one line per decision, with the delivery id; nil is silent.
	Log *slog.Logger
	// KeepRuns, when positive, is how many finished runs of each kind
	// (pull-request, release) the project keeps: older ones, and their
	// volume claims, are deleted when a new run is let through.
	KeepRuns int
}

// DefaultTimeout answers before Triggers' EventListener gives up waiting
// for it: the EventListener answers GitHub 202 at once and calls
// interceptors afterwards, with a 10s response-header timeout (Triggers
// v0.37.0, el-httpclient-responseheadertimeout; its 5s timeout handler
// bounds only that first answer). A loaded API server can take seconds for
// the replay and cancel lookups; a timeout refuses the delivery, which
// GitHub then shows as delivered, so the budget is what Triggers allows,
// less a margin.
const DefaultTimeout = 8 * time.Second

// Labels every generated PipelineRun carries: the replay lookups find
// earlier runs by them, cancelling and pruning a project's older runs.
const (
	// RepositoryLabel is RepositoryLabelValue of the configured repository.
	RepositoryLabel = "pipewright.dev/repository"
	// KindLabel is pull-request or release.
	KindLabel = "pipewright.dev/kind"
	// SHALabel is the commit the run builds.
	SHALabel = "pipewright.dev/sha"
	// PullRequestLabel is the pull request's number.
	PullRequestLabel = "pipewright.dev/pull-request"
	// DeliveryLabel is the X-GitHub-Delivery id (a GUID): GitHub's
	// redelivery of one delivery keeps it.
	DeliveryLabel = "pipewright.dev/delivery"
	// PayloadLabel is PayloadHash of the signed body: a replayed body with
	// a made-up delivery id (the header is not signed) still has it.
	PayloadLabel = "pipewright.dev/payload"
)

// RepositoryLabelValue is OWNER/NAME as a label value: OWNER.NAME (owners
// have no dots), lower case (GitHub's names are case-insensitive), cut to
// 63 characters.
func RepositoryLabelValue(repo string) string {
	v := strings.ToLower(strings.Replace(repo, "/", ".", 1))
	if len(v) > 63 {
		v = v[:63]
	}
	return strings.TrimRight(v, "-_.")
}

// PayloadHash names a signed payload in a label value (63 characters at
// most): the first 40 hex digits of its SHA-256.
func PayloadHash(body []byte) string {
	h := sha256.Sum256(body)
	return hex.EncodeToString(h[:20])
}

// Runs are a namespace's PipelineRuns, as the interceptor uses them.
type Runs interface {
	// Exists answers whether a PipelineRun carrying every label of match
	// exists.
	Exists(ctx context.Context, namespace string, match map[string]string) (bool, error)
	// Cancel stops the unfinished runs carrying every label of match
	// (CancelledRunFinally: their finally tasks still report to GitHub)
	// and returns their names.
	Cancel(ctx context.Context, namespace string, match map[string]string) ([]string, error)
	// Prune deletes the finished runs carrying every label of match but
	// the newest keep, and returns their names.
	Prune(ctx context.Context, namespace string, match map[string]string, keep int) ([]string, error)
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
	ctx, cancel := context.WithTimeout(r.Context(), i.timeout())
	defer cancel()
	resp := i.Process(ctx, &req)
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
	Name     string // retest, ok-to-test, test or cancel
	SHA      string // the commit /ok-to-test approves
	Pipeline string // what /test names
}

var (
	commandRE = regexp.MustCompile(`^/(retest|ok-to-test|test|cancel)(?:[ \t]+(\S+))?[ \t]*$`)
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
		case (c.Name == "retest" || c.Name == "cancel") && m[2] != "":
			return Command{}, fmt.Errorf("/%s takes no argument", c.Name)
		case c.Name == "test" && m[2] == "":
			return Command{}, fmt.Errorf("/test needs the pipeline to run: /test <pipeline>")
		case c.Name == "test":
			c.Pipeline = m[2]
			return c, nil
		case c.Name == "ok-to-test" && m[2] == "":
			return Command{}, fmt.Errorf("/ok-to-test needs the commit it approves: /ok-to-test <sha> (the 40 hex digits of the PR head)")
		case c.Name == "ok-to-test" && !shaRE.MatchString(strings.ToLower(m[2])):
			return Command{}, fmt.Errorf("/ok-to-test %s: want the full commit sha, 40 hex digits (a short prefix can be collided with)", m[2])
		}
		c.SHA = strings.ToLower(m[2])
		return c, nil
	}
	return Command{}, fmt.Errorf("no /retest, /test, /ok-to-test or /cancel command in the comment")
}

func refuse(format string, args ...any) *triggersv1.InterceptorResponse {
	return interceptors.Failf(codes.FailedPrecondition, format, args...)
}

func (i *Interceptor) timeout() time.Duration {
	if i.Timeout > 0 {
		return i.Timeout
	}
	return DefaultTimeout
}

// Process decides one delivery and logs the decision.
func (i *Interceptor) Process(ctx context.Context, r *triggersv1.InterceptorRequest) *triggersv1.InterceptorResponse {
	start := time.Now()
	h := interceptors.Canonical(r.Header)
	resp, repo := i.process(ctx, r, h)
	if i.Log != nil {
		trigger := ""
		if r.Context != nil {
			trigger = r.Context.TriggerID
		}
		attrs := []any{"delivery", h.Get("X-Github-Delivery"), "event", h.Get("X-Github-Event"), "repository", repo,
			"trigger", trigger, "continue", resp.Continue, "duration", time.Since(start).Round(time.Millisecond)}
		if !resp.Continue {
			attrs = append(attrs, "reason", resp.Status.Message)
		}
		for _, k := range []string{"path_match", "cancelled", "pruned", "prune_error"} {
			if v, ok := resp.Extensions[k]; ok && v != "" {
				attrs = append(attrs, k, v)
			}
		}
		i.Log.Info("decision", attrs...)
	}
	return resp
}

func (i *Interceptor) process(ctx context.Context, r *triggersv1.InterceptorRequest, h http.Header) (*triggersv1.InterceptorResponse, string) {
	var p Params
	if err := interceptors.UnmarshalParams(r.InterceptorParams, &p); err != nil {
		return interceptors.Failf(codes.InvalidArgument, "pipewright interceptor params: %v", err), ""
	}
	if p.Repository == "" || p.DefaultBranch == "" {
		return interceptors.Failf(codes.InvalidArgument, "pipewright interceptor params: repository and defaultBranch are required"), ""
	}
	if !slices.ContainsFunc(i.Repositories, func(s string) bool { return strings.EqualFold(s, p.Repository) }) {
		return interceptors.Failf(codes.PermissionDenied, "this interceptor does not serve %s", p.Repository), p.Repository
	}
	ns := ""
	if r.Context != nil {
		ns, _ = triggersv1.ParseTriggerID(r.Context.TriggerID)
	}
	if i.Namespace != "" && ns != i.Namespace {
		return interceptors.Failf(codes.PermissionDenied, "trigger in namespace %q: this interceptor serves %s only", ns, i.Namespace), p.Repository
	}
	var head struct {
		Repository struct {
			FullName string `json:"full_name"`
		} `json:"repository"`
	}
	if err := json.Unmarshal([]byte(r.Body), &head); err != nil {
		return interceptors.Failf(codes.InvalidArgument, "webhook body: %v", err), p.Repository
	}
	if !strings.EqualFold(head.Repository.FullName, p.Repository) {
		return refuse("delivery for %s, but this trigger serves %s", head.Repository.FullName, p.Repository), p.Repository
	}
	payload := PayloadHash([]byte(r.Body))
	if i.Runs != nil {
		if resp := i.replayed(ctx, ns, p.Service, h.Get("X-Github-Delivery"), payload); resp != nil {
			return resp, p.Repository
		}
	}
	var resp *triggersv1.InterceptorResponse
	ev := h.Get("X-Github-Event")
	if i.GitHub == nil && (ev != "pull_request" || len(p.Paths) > 0) {
		// simulate without a token
		return refuse("the pipewright interceptor needs a GitHub token for %s: pass --token-file or set GITHUB_TOKEN", ev), p.Repository
	}
	switch ev {
	case "issue_comment":
		resp = i.comment(ctx, r, p)
	case "push":
		resp = i.push(ctx, r, p)
	case "pull_request":
		resp = i.pullRequestPaths(ctx, r, p)
	default:
		resp = refuse("event %q: the pipewright interceptor decides pull_request, push and issue_comment", ev)
	}
	if resp.Continue {
		if resp.Extensions == nil {
			resp.Extensions = map[string]any{}
		}
		resp.Extensions["payload_sha"] = payload
		if i.Runs != nil {
			if refused := i.lifecycle(ctx, ns, ev, r, p, resp); refused != nil {
				return refused, p.Repository
			}
		}
	}
	return resp, p.Repository
}

// lifecycle runs just before Triggers creates the new run: the older
// unfinished runs it replaces are cancelled (a new push to a pull request
// makes its running CI moot; a newer release supersedes an older one, so
// two releases never deploy at once or out of order), and with KeepRuns
// the oldest finished ones are pruned. A failed cancel refuses the
// delivery (two releases could otherwise deploy at once); a failed prune
// is only logged.
func (i *Interceptor) lifecycle(ctx context.Context, ns, event string, r *triggersv1.InterceptorRequest, p Params, resp *triggersv1.InterceptorResponse) *triggersv1.InterceptorResponse {
	match := map[string]string{RepositoryLabel: RepositoryLabelValue(p.Repository), KindLabel: "release"}
	if p.Service != "" {
		match[keys.Service] = p.Service
	}
	if event != "push" {
		match[KindLabel] = "pull-request"
		var n struct {
			Number int `json:"number"`
			Issue  struct {
				Number int `json:"number"`
			} `json:"issue"`
		}
		if err := json.Unmarshal([]byte(r.Body), &n); err != nil {
			return interceptors.Failf(codes.InvalidArgument, "body: %v", err)
		}
		number := n.Number
		if event == "issue_comment" {
			number = n.Issue.Number
		}
		match[PullRequestLabel] = strconv.Itoa(number)
	}
	cancelled, err := i.Runs.Cancel(ctx, ns, match)
	if err != nil {
		return interceptors.Failf(codes.Unavailable, "cancelling the runs this one replaces: %v", err)
	}
	resp.Extensions["cancelled"] = strings.Join(cancelled, ",")
	if i.KeepRuns > 0 {
		delete(match, PullRequestLabel) // keep N per kind, not per pull request
		pruned, err := i.Runs.Prune(ctx, ns, match, i.KeepRuns)
		resp.Extensions["pruned"] = strings.Join(pruned, ",")
		if err != nil {
			resp.Extensions["prune_error"] = err.Error()
		}
	}
	return nil
}

// replayed refuses a delivery that already started a run: by its id
// (GitHub's redelivery), or by its signed body (a captured delivery sent
// again with another id). Runs survive the interceptor's restarts; pruned
// ones no longer count, and the push check covers what matters most then.
func (i *Interceptor) replayed(ctx context.Context, ns, service, delivery, payload string) *triggersv1.InterceptorResponse {
	for _, l := range [][2]string{{DeliveryLabel, delivery}, {PayloadLabel, payload}} {
		if l[1] == "" {
			continue
		}
		match := map[string]string{l[0]: l[1]}
		if service != "" {
			match[keys.Service] = service // the other services' runs of this delivery are no replay
		}
		found, err := i.Runs.Exists(ctx, ns, match)
		if err != nil {
			return interceptors.Failf(codes.Unavailable, "looking for earlier runs: %v", err)
		}
		if found {
			return refuse("replay: a PipelineRun with %s=%s exists already", l[0], l[1])
		}
	}
	return nil
}

// push lets a release through only for the commit the default branch
// points at now: an old signed push, replayed, would release an old
// commit; and of two quick merges the first, arriving late, is superseded.
func (i *Interceptor) push(ctx context.Context, r *triggersv1.InterceptorRequest, p Params) *triggersv1.InterceptorResponse {
	var ev struct {
		Ref   string `json:"ref"`
		After string `json:"after"`
	}
	if err := json.Unmarshal([]byte(r.Body), &ev); err != nil {
		return interceptors.Failf(codes.InvalidArgument, "push body: %v", err)
	}
	if ev.Ref != "refs/heads/"+p.DefaultBranch {
		return refuse("push to %s, not refs/heads/%s", ev.Ref, p.DefaultBranch)
	}
	head, err := i.GitHub.BranchHead(ctx, p.Repository, p.DefaultBranch)
	if err != nil {
		return interceptors.Failf(codes.Unavailable, "%v", err)
	}
	if !strings.EqualFold(head, ev.After) {
		return refuse("push of %s, but %s is at %s now: a replayed or superseded push is not released", ev.After, p.DefaultBranch, head)
	}
	return &triggersv1.InterceptorResponse{Continue: true}
}

// pullRequestPaths lets a pull_request delivery through when p.Paths is
// empty, or when the pull request changes a file they match (listed from
// GitHub, at most github.MaxPullRequestFiles). A list cut at that bound
// with no match lets it through too: CI that runs once too often is
// better than a change that is never tested.
func (i *Interceptor) pullRequestPaths(ctx context.Context, r *triggersv1.InterceptorRequest, p Params) *triggersv1.InterceptorResponse {
	if len(p.Paths) == 0 {
		return &triggersv1.InterceptorResponse{Continue: true}
	}
	pats, resp := compilePaths(p)
	if resp != nil {
		return resp
	}
	var ev struct {
		Number int `json:"number"`
	}
	if err := json.Unmarshal([]byte(r.Body), &ev); err != nil || ev.Number <= 0 {
		return interceptors.Failf(codes.InvalidArgument, "pull_request body: no pull request number (%v)", err)
	}
	return i.pathMatch(ctx, p, pats, ev.Number)
}

// pathMatch lets pull request number through when it changes a file one
// of pats matches.
func (i *Interceptor) pathMatch(ctx context.Context, p Params, pats []*glob.Pattern, number int) *triggersv1.InterceptorResponse {
	files, truncated, err := i.GitHub.PullRequestFiles(ctx, p.Repository, number, github.MaxPullRequestFiles)
	if err != nil {
		return interceptors.Failf(codes.Unavailable, "%v", err)
	}
	for _, f := range files {
		for _, pat := range pats {
			if pat.Match(f) {
				return &triggersv1.InterceptorResponse{Continue: true, Extensions: map[string]any{"path_match": f + " (" + pat.String() + ")"}}
			}
		}
	}
	if truncated {
		return &triggersv1.InterceptorResponse{Continue: true, Extensions: map[string]any{"path_match": fmt.Sprintf("none of the first %d files; GitHub lists no more", len(files))}}
	}
	return refuse("pull request #%d changes %d file(s), none under paths %v", number, len(files), p.Paths)
}

func compilePaths(p Params) ([]*glob.Pattern, *triggersv1.InterceptorResponse) {
	var pats []*glob.Pattern
	for n, g := range p.Paths {
		pat, err := glob.Compile(g)
		if err != nil {
			return nil, interceptors.Failf(codes.InvalidArgument, "pipewright interceptor params: paths[%d]: %v", n, err)
		}
		pats = append(pats, pat)
	}
	return pats, nil
}

// comment decides one ChatOps comment.
func (i *Interceptor) comment(ctx context.Context, r *triggersv1.InterceptorRequest, p Params) *triggersv1.InterceptorResponse {
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
	case "cancel":
		// Stops the pull request's runs; starts none.
		if i.Runs == nil {
			return refuse("/cancel needs the interceptor's --namespace (it cancels runs there)")
		}
		ns := ""
		if r.Context != nil {
			ns, _ = triggersv1.ParseTriggerID(r.Context.TriggerID)
		}
		names, err := i.Runs.Cancel(ctx, ns, map[string]string{RepositoryLabel: RepositoryLabelValue(p.Repository),
			KindLabel: "pull-request", PullRequestLabel: strconv.Itoa(pr.Number)})
		if err != nil {
			return interceptors.Failf(codes.Unavailable, "/cancel: %v", err)
		}
		return interceptors.Failf(codes.OK, "/cancel by %s (%s): cancelled %d run(s) of pull request #%d %v; no new run", commenter, why, len(names), pr.Number, names)
	case "test":
		if !slices.Contains(p.Pipelines, cmd.Pipeline) {
			return refuse("/test %s: no such pipeline here; /test takes one of %v", cmd.Pipeline, p.Pipelines)
		}
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
	case "retest", "test":
		if pr.Fork() && !slices.Contains(trustedAssociations, pr.Association) {
			// /retest and /test name no commit: on a fork from an untrusted author it
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
	ext := map[string]any{}
	if len(p.Paths) > 0 && cmd.Name != "test" {
		// /retest and /ok-to-test rerun what the pull request's push
		// ran: in a monorepo, the services whose files it changes (each
		// service's trigger asks), not all of them. /test <pipeline>
		// names what it wants.
		pats, resp := compilePaths(p)
		if resp != nil {
			return resp
		}
		m := i.pathMatch(ctx, p, pats, pr.Number)
		if !m.Continue {
			return m
		}
		ext = m.Extensions
	}
	resp := &triggersv1.InterceptorResponse{Continue: true, Extensions: map[string]any{
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
	maps.Copy(resp.Extensions, ext)
	return resp
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
