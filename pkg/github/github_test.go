package github

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pipewright/pipewright/pkg/github/githubtest"
)

const (
	repo = "octo/app"
	sha  = "0123456789abcdef0123456789abcdef01234567"
)

// fixture is a fake GitHub with one repository and a client whose waits are
// recorded instead of slept.
type fixture struct {
	srv   *githubtest.Server
	waits []time.Duration
	now   time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv := githubtest.New(t)
	srv.AddRepo(repo, sha)
	return &fixture{srv: srv, now: time.Unix(1_700_000_000, 0)}
}

func (f *fixture) client(t *testing.T, token string) *Client {
	t.Helper()
	c, err := New(Options{APIURL: f.srv.URL, Token: token, Retry: &Retry{
		Backoff: 10 * time.Millisecond,
		Sleep: func(_ context.Context, d time.Duration) error {
			f.waits = append(f.waits, d)
			return nil
		},
		Now: func() time.Time { return f.now },
	}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// req builds an expected request; body is JSON text or "".
func req(t *testing.T, method, path, query, token, accept, body string) githubtest.Request {
	t.Helper()
	r := githubtest.Request{Method: method, Path: path, Query: query, Auth: "Bearer " + token, Accept: accept}
	if body != "" {
		if err := json.Unmarshal([]byte(body), &r.Body); err != nil {
			t.Fatalf("bad expected body %s: %v", body, err)
		}
	}
	return r
}

func assertRequests(t *testing.T, got []githubtest.Request, want ...githubtest.Request) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

const (
	restJSON   = "application/vnd.github.v3+json"
	checksJSON = "application/vnd.github.antiope-preview+json"
	statusPath = "/repos/octo/app/statuses/" + sha
)

var fullStatus = Status{Repo: repo, SHA: sha, State: "success", Context: "pipewright/pr",
	Description: "all 4 tasks passed", TargetURL: "https://dashboard.example.com/run/42"}

const fullStatusBody = `{"state":"success","context":"pipewright/pr","description":"all 4 tasks passed","target_url":"https://dashboard.example.com/run/42"}`

func TestSetStatus(t *testing.T) {
	long := strings.Repeat("é", 150)
	for _, tc := range []struct {
		name   string
		status Status
		body   string
	}{
		{"all fields", fullStatus, fullStatusBody},
		{"defaults", Status{Repo: repo, SHA: sha, State: "pending"}, `{"state":"pending","context":"pipewright"}`},
		{"description cut to 140 characters", Status{Repo: repo, SHA: sha, State: "failure", Description: long},
			fmt.Sprintf(`{"state":"failure","context":"pipewright","description":%q}`, strings.Repeat("é", 139)+"…")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			if err := f.client(t, "test-token").SetStatus(context.Background(), tc.status); err != nil {
				t.Fatal(err)
			}
			assertRequests(t, f.srv.Requests(), req(t, "POST", statusPath, "", "test-token", restJSON, tc.body))
			if n := len(f.srv.Statuses(repo)); n != 1 {
				t.Errorf("server has %d statuses, want 1", n)
			}
			if len(f.waits) != 0 {
				t.Errorf("waited %v on a success", f.waits)
			}
		})
	}
}

func TestSetStatusRetries(t *testing.T) {
	for _, tc := range []struct {
		name    string
		replies []githubtest.Reply
		waits   []time.Duration
	}{
		{"502 then success", []githubtest.Reply{{Status: 502, Body: `{"message":"Server Error"}`}},
			[]time.Duration{10 * time.Millisecond}},
		{"5xx twice, backoff doubles", []githubtest.Reply{{Status: 502}, {Status: 503}},
			[]time.Duration{10 * time.Millisecond, 20 * time.Millisecond}},
		{"secondary rate limit with Retry-After", []githubtest.Reply{{Status: 403, Header: map[string]string{"Retry-After": "7"},
			Body: `{"message":"You have exceeded a secondary rate limit.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`}},
			[]time.Duration{7 * time.Second}},
		{"429 with Retry-After", []githubtest.Reply{{Status: 429, Header: map[string]string{"Retry-After": "3"}}},
			[]time.Duration{3 * time.Second}},
		{"rate limit exhausted waits for the reset", []githubtest.Reply{{Status: 403, Header: map[string]string{
			"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1700000030"}, Body: `{"message":"API rate limit exceeded"}`}},
			[]time.Duration{30 * time.Second}},
		{"secondary rate limit without headers backs off", []githubtest.Reply{{Status: 403,
			Body: `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}`}},
			[]time.Duration{10 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.srv.Script(tc.replies...)
			if err := f.client(t, "test-token").SetStatus(context.Background(), fullStatus); err != nil {
				t.Fatal(err)
			}
			var want []githubtest.Request
			for range len(tc.replies) + 1 {
				want = append(want, req(t, "POST", statusPath, "", "test-token", restJSON, fullStatusBody))
			}
			assertRequests(t, f.srv.Requests(), want...)
			if diff := cmp.Diff(tc.waits, f.waits); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
			if n := len(f.srv.Statuses(repo)); n != 1 {
				t.Errorf("server has %d statuses, want 1", n)
			}
		})
	}
}

func TestSetStatusErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		token    string
		status   Status
		replies  []githubtest.Reply
		requests int
		want     string
	}{
		{name: "401 bad token", token: "wrong", status: fullStatus, requests: 1,
			want: "POST " + statusPath + ": HTTP 401 Bad credentials: the token is invalid or expired (check --token-file or GITHUB_TOKEN)"},
		{name: "404 unknown repo", token: "test-token", status: Status{Repo: "octo/missing", SHA: sha, State: "success"}, requests: 1,
			want: "POST /repos/octo/missing/statuses/" + sha + ": HTTP 404 Not Found: unknown repository or sha, or the token cannot see the repository"},
		{name: "422 unknown sha", token: "test-token", status: Status{Repo: repo, SHA: strings.Repeat("f", 40), State: "success"}, requests: 1,
			want: "POST /repos/octo/app/statuses/" + strings.Repeat("f", 40) + ": HTTP 422 No commit found for SHA: " + strings.Repeat("f", 40) + ": GitHub refused the request body"},
		{name: "plain 403 is not retried", token: "test-token", status: fullStatus, requests: 1,
			replies: []githubtest.Reply{{Status: 403, Body: `{"message":"Resource not accessible by integration"}`}},
			want:    "POST " + statusPath + ": HTTP 403 Resource not accessible by integration: the token lacks the permission for this call"},
		{name: "5xx until attempts run out", token: "test-token", status: fullStatus, requests: 5,
			replies: []githubtest.Reply{{Status: 502}, {Status: 502}, {Status: 502}, {Status: 502}, {Status: 502, Body: `{"message":"Server Error"}`}},
			want:    "POST " + statusPath + ": HTTP 502 Server Error: GitHub kept failing; retries exhausted"},
		{name: "rate limit resetting past the wait cap", token: "test-token", status: fullStatus, requests: 1,
			replies: []githubtest.Reply{{Status: 403, Header: map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1700003600"},
				Body: `{"message":"API rate limit exceeded"}`}},
			want: "POST " + statusPath + ": rate limit exhausted until " + time.Unix(1700003600, 0).Format(time.RFC3339) + "; retry later or use another token"},
		{name: "bad state", token: "test-token", status: Status{Repo: repo, SHA: sha, State: "done"},
			want: `state "done": want pending, success, failure or error`},
		{name: "short sha", token: "test-token", status: Status{Repo: repo, SHA: "0123abc", State: "success"},
			want: `sha "0123abc": want the full commit sha (40 lowercase hex digits), e.g. the git-clone Task's commit result`},
		{name: "bad repo", token: "test-token", status: Status{Repo: "octo", SHA: sha, State: "success"},
			want: `repo "octo": want OWNER/NAME, e.g. pipewright/example-go`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.srv.Script(tc.replies...)
			err := f.client(t, tc.token).SetStatus(context.Background(), tc.status)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error:\n got %v\nwant %s", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
			if n := len(f.srv.Requests()); n != tc.requests {
				t.Errorf("sent %d requests, want %d", n, tc.requests)
			}
		})
	}
}

func TestRetryDoesNotWaitPastContext(t *testing.T) {
	srv := githubtest.New(t)
	srv.AddRepo(repo, sha)
	srv.Script(githubtest.Reply{Status: 502})
	c, err := New(Options{APIURL: srv.URL, Token: "test-token", Retry: &Retry{Backoff: time.Hour, MaxWait: 2 * time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := c.SetStatus(ctx, fullStatus); err == nil || !strings.Contains(err.Error(), "context deadline exceeded") {
		t.Fatalf("got %v, want the context's deadline", err)
	}
}

const hooksPath = "/repos/octo/app/hooks"

func hookBody(url, secret string) string {
	return fmt.Sprintf(`{"config":{"url":%q,"content_type":"json","secret":%q,"insecure_ssl":"0"},"events":["pull_request","push","issue_comment"],"active":true}`, url, secret)
}

func TestEnsureWebhookIdempotent(t *testing.T) {
	f := newFixture(t)
	other := f.srv.AddHook(repo, "https://chat.example.com/hook", "push")
	c := f.client(t, "test-token")
	url := "https://ci.example.com/hooks/github"
	w := Webhook{Repo: repo, URL: url, Secret: "s3cret"}

	first, err := c.EnsureWebhook(context.Background(), w)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Created || first.ID == 0 {
		t.Fatalf("first run: %+v, want a created hook", first)
	}
	w.Secret = "rotated"
	second, err := c.EnsureWebhook(context.Background(), w)
	if err != nil {
		t.Fatal(err)
	}
	if second.Created || second.ID != first.ID || len(second.Duplicates) != 0 {
		t.Fatalf("second run: %+v, want an update of hook %d", second, first.ID)
	}

	create := `{"name":"web",` + strings.TrimPrefix(hookBody(url, "s3cret"), "{")
	assertRequests(t, f.srv.Requests(),
		req(t, "GET", hooksPath, "per_page=100", "test-token", restJSON, ""),
		req(t, "POST", hooksPath, "", "test-token", restJSON, create),
		req(t, "GET", hooksPath, "per_page=100", "test-token", restJSON, ""),
		req(t, "PATCH", fmt.Sprintf("%s/%d", hooksPath, first.ID), "", "test-token", restJSON, hookBody(url, "rotated")),
	)
	hooks := f.srv.Hooks(repo)
	if len(hooks) != 2 || hooks[0]["id"] != other || hooks[1]["id"] != first.ID {
		t.Fatalf("hooks after two runs: %v, want the other hook and one pipewright hook", hooks)
	}
	cfg := hooks[1]["config"].(map[string]any)
	if cfg["url"] != url || cfg["content_type"] != "json" || cfg["insecure_ssl"] != "0" {
		t.Errorf("hook config %v", cfg)
	}
	if got := f.srv.HookSecret(repo, first.ID); got != "rotated" {
		t.Errorf("hook secret %q, want the rotated one", got)
	}
}

func TestEnsureWebhookFindsHookOnLaterPage(t *testing.T) {
	f := newFixture(t)
	for i := range 100 {
		f.srv.AddHook(repo, fmt.Sprintf("https://other.example.com/%d", i), "push")
	}
	url := "https://ci.example.com/hooks/github"
	id := f.srv.AddHook(repo, url, "push")
	dup := f.srv.AddHook(repo, url, "push") // a leftover duplicate is reported, not touched
	res, err := f.client(t, "test-token").EnsureWebhook(context.Background(), Webhook{Repo: repo, URL: url, Secret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Created || res.ID != id || len(res.Duplicates) != 1 || res.Duplicates[0] != dup {
		t.Fatalf("got %+v, want update of %d with duplicate %d", res, id, dup)
	}
	assertRequests(t, f.srv.Requests(),
		req(t, "GET", hooksPath, "per_page=100", "test-token", restJSON, ""),
		req(t, "GET", hooksPath, "page=2&per_page=100", "test-token", restJSON, ""),
		req(t, "PATCH", fmt.Sprintf("%s/%d", hooksPath, id), "", "test-token", restJSON, hookBody(url, "s")),
	)
}

func TestEnsureWebhookErrors(t *testing.T) {
	f := newFixture(t)
	c := f.client(t, "test-token")
	for _, tc := range []struct {
		w    Webhook
		want string
	}{
		{Webhook{Repo: "octo/missing", URL: "https://ci.example.com/h", Secret: "s"},
			"GET /repos/octo/missing/hooks: HTTP 404 Not Found: unknown repository, or the token lacks admin:repo_hook (classic) or Webhooks: write (fine-grained) on it"},
		{Webhook{Repo: repo, URL: "ci.example.com/h", Secret: "s"}, `webhook url "ci.example.com/h": want the EventListener's absolute http(s) URL`},
		{Webhook{Repo: repo, URL: "https://ci.example.com/h"}, "webhook secret is empty: the EventListener rejects unsigned deliveries"},
	} {
		if _, err := c.EnsureWebhook(context.Background(), tc.w); err == nil || err.Error() != tc.want {
			t.Errorf("%+v:\n got %v\nwant %s", tc.w, err, tc.want)
		}
	}
}

const lintOutput = `running go vet
./pkg/a/a.go:12:3: undefined: foo
/workspace/source/pkg/b/b.go:7: missing return
FAIL	example.com/pkg/a [build failed]
see https://example.com:443/doc for details
`

func TestParseAnnotations(t *testing.T) {
	got, err := ParseAnnotations(strings.NewReader(lintOutput), "/workspace/source")
	if err != nil {
		t.Fatal(err)
	}
	want := []Annotation{
		{Path: "pkg/a/a.go", Line: 12, Column: 3, Message: "undefined: foo"},
		{Path: "pkg/b/b.go", Line: 7, Message: "missing return"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestParseTasks(t *testing.T) {
	got, err := ParseTasks([]string{"clone=Succeeded", "test=failed", "deploy=None"})
	if err != nil {
		t.Fatal(err)
	}
	want := []TaskOutcome{{Name: "clone", Outcome: "Succeeded"}, {Name: "test", Outcome: "Failed"}, {Name: "deploy", Outcome: "None"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for in, msg := range map[string]string{
		"test":                      `task "test": want NAME=OUTCOME, e.g. test=$(tasks.test.status)`,
		"test=$(tasks.test.status)": `task test: outcome "$(tasks.test.status)" is not Succeeded, Failed or None (Tekton's $(tasks.test.status))`,
	} {
		if _, err := ParseTasks([]string{in}); err == nil || err.Error() != msg {
			t.Errorf("%s: got %v, want %s", in, err, msg)
		}
	}
	if _, err := ParseTasks([]string{"a=None", "a=Failed"}); err == nil || err.Error() != "task a: given twice" {
		t.Errorf("duplicate: got %v", err)
	}
}

const wantSummary = "| Task | Outcome | Duration |\n| --- | --- | --- |\n" +
	"| clone | ✅ Succeeded | 4s |\n| test | ❌ Failed | 1m12s |\n| deploy | ⏭️ None (did not run) | — |\n"

var pipelineTasks = []TaskOutcome{{"clone", "Succeeded", 4 * time.Second}, {"test", "Failed", 72 * time.Second}, {"deploy", "None", 0}}

func annotationJSON(path string, line, col int, msg string) string {
	cols := ""
	if col > 0 {
		cols = fmt.Sprintf(`,"start_column":%d,"end_column":%d`, col, col)
	}
	return fmt.Sprintf(`{"path":%q,"start_line":%d,"end_line":%d%s,"annotation_level":"failure","message":%q}`, path, line, line, cols, msg)
}

func TestCheckRunCreateThenUpdate(t *testing.T) {
	f := newFixture(t)
	c := f.client(t, "ghs_test-app-token")
	anns, err := ParseAnnotations(strings.NewReader(lintOutput), "/workspace/source")
	if err != nil {
		t.Fatal(err)
	}
	// The pipeline starts: an in-progress run with no outcomes yet.
	first, err := c.SetCheckRun(context.Background(), CheckRun{Repo: repo, SHA: sha, Name: "pipewright/pr", State: "pending",
		DetailsURL: "https://dashboard.example.com/run/42"})
	if err != nil {
		t.Fatal(err)
	}
	// Its finally reports the outcomes and the failed task's problems.
	second, err := c.SetCheckRun(context.Background(), CheckRun{Repo: repo, SHA: sha, Name: "pipewright/pr", State: "failure",
		DetailsURL: "https://dashboard.example.com/run/42", Tasks: pipelineTasks, Annotations: anns})
	if err != nil {
		t.Fatal(err)
	}
	if !first.Created || second.Created || second.ID != first.ID {
		t.Fatalf("first %+v, second %+v: want one run, created then updated", first, second)
	}
	list := "/repos/octo/app/commits/" + sha + "/check-runs"
	summary, _ := json.Marshal("No task outcomes were reported.\n")
	wantSummaryJSON, _ := json.Marshal(wantSummary)
	assertRequests(t, f.srv.Requests(),
		req(t, "GET", list, "check_name=pipewright%2Fpr", "ghs_test-app-token", checksJSON, ""),
		req(t, "POST", "/repos/octo/app/check-runs", "", "ghs_test-app-token", checksJSON,
			`{"name":"pipewright/pr","head_sha":"`+sha+`","details_url":"https://dashboard.example.com/run/42","status":"in_progress",
			  "output":{"title":"Pipeline pending","summary":`+string(summary)+`}}`),
		req(t, "GET", list, "check_name=pipewright%2Fpr", "ghs_test-app-token", checksJSON, ""),
		req(t, "PATCH", fmt.Sprintf("/repos/octo/app/check-runs/%d", first.ID), "", "ghs_test-app-token", checksJSON,
			`{"name":"pipewright/pr","details_url":"https://dashboard.example.com/run/42","status":"completed","conclusion":"failure",
			  "output":{"title":"1 failed, 1 succeeded, 1 did not run","summary":`+string(wantSummaryJSON)+`,"annotations":[`+
				annotationJSON("pkg/a/a.go", 12, 3, "undefined: foo")+","+annotationJSON("pkg/b/b.go", 7, 0, "missing return")+`]}}`),
	)
	runs := f.srv.CheckRuns(repo)
	if len(runs) != 1 || runs[0]["status"] != "completed" || runs[0]["conclusion"] != "failure" {
		t.Fatalf("check runs on the server: %v, want one completed failure", runs)
	}
	if n := len(f.srv.Annotations(repo, first.ID)); n != 2 {
		t.Errorf("server kept %d annotations, want 2", n)
	}
}

func TestCheckRunAnnotationsInBatches(t *testing.T) {
	f := newFixture(t)
	var anns []Annotation
	for i := range 60 {
		anns = append(anns, Annotation{Path: "main.go", Line: i + 1, Column: 1, Message: fmt.Sprintf("problem %d", i)})
	}
	res, err := f.client(t, "ghs_test-app-token").SetCheckRun(context.Background(), CheckRun{
		Repo: repo, SHA: sha, Name: "lint", State: "success", Tasks: pipelineTasks[:1], Annotations: anns})
	if err != nil {
		t.Fatal(err)
	}
	got := f.srv.Requests()
	if len(got) != 3 || got[1].Method != "POST" || got[2].Method != "PATCH" {
		t.Fatalf("requests %v: want list, create, one update", got)
	}
	sizes := []int{}
	for _, r := range got[1:] {
		sizes = append(sizes, len(r.Body.(map[string]any)["output"].(map[string]any)["annotations"].([]any)))
	}
	if diff := cmp.Diff([]int{50, 10}, sizes); diff != "" {
		t.Errorf("annotations per request (-want +got):\n%s", diff)
	}
	if n := len(f.srv.Annotations(repo, res.ID)); n != 60 {
		t.Errorf("server kept %d annotations, want 60", n)
	}
	if run := f.srv.CheckRuns(repo)[0]; run["conclusion"] != "success" {
		t.Errorf("conclusion %v, want success", run["conclusion"])
	}
}

// A personal access token may read check runs but not write them, as on
// GitHub.
func TestCheckRunNeedsAppToken(t *testing.T) {
	f := newFixture(t)
	_, err := f.client(t, "test-token").SetCheckRun(context.Background(), CheckRun{Repo: repo, SHA: sha, Name: "ci", State: "success"})
	want := "POST /repos/octo/app/check-runs: HTTP 403 You must authenticate via a GitHub App.: " +
		"the token lacks the permission for this call (check runs need a GitHub App installation token with checks:write)"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}

func TestSummary(t *testing.T) {
	if got := Summary(pipelineTasks); got != wantSummary {
		t.Errorf("got\n%s\nwant\n%s", got, wantSummary)
	}
}

func TestReadToken(t *testing.T) {
	t.Setenv("GITHUB_TOKEN", " from-env\n")
	if got, err := ReadToken(""); err != nil || got != "from-env" {
		t.Errorf("env: %q %v", got, err)
	}
	file := t.TempDir() + "/token"
	if err := os.WriteFile(file, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadToken(file); err != nil || got != "from-file" {
		t.Errorf("file: %q %v", got, err)
	}
	t.Setenv("GITHUB_TOKEN", "")
	if _, err := ReadToken(""); err == nil || err.Error() != "no GitHub token: pass --token-file or set GITHUB_TOKEN" {
		t.Errorf("none: %v", err)
	}
}

// An empty or whitespace webhook secret is refused before any webhook is
// set up with it; a trailing line break is not part of the secret.
func TestReadSecret(t *testing.T) {
	dir := t.TempDir()
	for content, want := range map[string]string{
		"":           "",
		"\n":         "",
		"  \t \r\n":  "",
		"s3cret\n":   "s3cret",
		"s3cret\r\n": "s3cret",
	} {
		f := filepath.Join(dir, "secret")
		if err := os.WriteFile(f, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := ReadSecret(f)
		if want == "" {
			if err == nil || !strings.Contains(err.Error(), "empty or whitespace") {
				t.Errorf("ReadSecret(%q) = %q, %v; want the empty-secret error", content, got, err)
			}
		} else if err != nil || got != want {
			t.Errorf("ReadSecret(%q) = %q, %v; want %q", content, got, err, want)
		}
	}
}
