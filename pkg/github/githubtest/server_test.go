package githubtest_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
	gogithub "github.com/google/go-github/v62/github"
	"github.com/pipewright/pipewright/pkg/github/githubtest"
)

func serve(t *testing.T) *githubtest.Server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := githubtest.Serve(l)
	t.Cleanup(s.Close)
	return s
}

func client(t *testing.T, s *githubtest.Server, token string) *gogithub.Client {
	t.Helper()
	c := gogithub.NewClient(nil)
	if token != "" {
		c = c.WithAuthToken(token)
	}
	u, err := url.Parse(s.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	c.BaseURL = u
	return c
}

func code(err error) int {
	var e *gogithub.ErrorResponse
	if errors.As(err, &e) {
		return e.Response.StatusCode
	}
	return 0
}

func TestServeAnyRepoAnyToken(t *testing.T) {
	s := serve(t)
	s.AnyRepo = true
	ctx := context.Background()
	gh := client(t, s, "whatever-a-pod-has")

	st, _, err := gh.Repositories.CreateStatus(ctx, "someone", "anything", "deadbeef",
		&gogithub.RepoStatus{State: gogithub.String("success"), Context: gogithub.String("pipewright/pr")})
	if err != nil {
		t.Fatal(err)
	}
	if st.GetState() != "success" || st.GetContext() != "pipewright/pr" {
		t.Errorf("status answer %+v", st)
	}
	if got := s.Statuses("someone/anything"); len(got) != 1 || got[0]["state"] != "success" {
		t.Errorf("server statuses %v", got)
	}

	run, _, err := gh.Checks.CreateCheckRun(ctx, "someone", "anything",
		gogithub.CreateCheckRunOptions{Name: "ci", HeadSHA: "cafe", Status: gogithub.String("in_progress")})
	if err != nil {
		t.Fatal(err)
	}
	if run.GetHeadSHA() != "cafe" || len(s.CheckRuns("someone/anything")) != 1 {
		t.Errorf("check run %+v, server has %v", run, s.CheckRuns("someone/anything"))
	}

	_, _, err = client(t, s, "").Repositories.CreateStatus(ctx, "someone", "anything", "deadbeef",
		&gogithub.RepoStatus{State: gogithub.String("success")})
	if code(err) != http.StatusUnauthorized {
		t.Errorf("no token: got %v, want 401", err)
	}
}

func TestServeDefaults(t *testing.T) {
	s := serve(t)
	ctx := context.Background()
	status := &gogithub.RepoStatus{State: gogithub.String("pending")}

	if got := s.Statuses("o/unknown"); len(got) != 0 {
		t.Errorf("unknown repository has statuses %v", got)
	}
	if _, _, err := client(t, s, "any").Repositories.CreateStatus(ctx, "o", "unknown", "abc", status); code(err) != http.StatusNotFound {
		t.Errorf("unknown repository without AnyRepo: got %v, want 404", err)
	}
	s.AddRepo("o/r", "abc")
	if _, _, err := client(t, s, "any").Repositories.CreateStatus(ctx, "o", "r", "abc", status); err != nil {
		t.Errorf("any token: %v", err)
	}

	s.Token = "only-this"
	if _, _, err := client(t, s, "any").Repositories.CreateStatus(ctx, "o", "r", "abc", status); code(err) != http.StatusUnauthorized {
		t.Errorf("wrong token once Token is set: got %v, want 401", err)
	}
	if _, _, err := client(t, s, "only-this").Repositories.CreateStatus(ctx, "o", "r", "abc", status); err != nil {
		t.Errorf("Token: %v", err)
	}
	s.AppToken = "ghs_app"
	opts := gogithub.CreateCheckRunOptions{Name: "ci", HeadSHA: "abc"}
	if _, _, err := client(t, s, "only-this").Checks.CreateCheckRun(ctx, "o", "r", opts); code(err) != http.StatusForbidden {
		t.Errorf("check run without the app token: got %v, want 403", err)
	}
	if _, _, err := client(t, s, "ghs_app").Checks.CreateCheckRun(ctx, "o", "r", opts); err != nil {
		t.Errorf("check run with the app token: %v", err)
	}
}

func TestRequestsEndpoint(t *testing.T) {
	for name, start := range map[string]func(*testing.T) *githubtest.Server{
		"Serve": serve,
		"New":   func(t *testing.T) *githubtest.Server { return githubtest.New(t) },
	} {
		t.Run(name, func(t *testing.T) {
			s := start(t)
			s.AddRepo("o/r", "abc")
			ctx := context.Background()
			gh := client(t, s, "test-token")
			if _, _, err := gh.Repositories.CreateStatus(ctx, "o", "r", "abc",
				&gogithub.RepoStatus{State: gogithub.String("failure"), Context: gogithub.String("ci")}); err != nil {
				t.Fatal(err)
			}
			if _, _, err := gh.Repositories.ListHooks(ctx, "o", "r", &gogithub.ListOptions{PerPage: 5}); err != nil {
				t.Fatal(err)
			}
			// A scripted reply is for the API, not for the endpoint.
			s.Script(githubtest.Reply{Status: http.StatusBadGateway})

			get := func() []githubtest.Request {
				t.Helper()
				resp, err := http.Get(s.URL + githubtest.RequestsPath) // no token needed
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("GET %s: %s", githubtest.RequestsPath, resp.Status)
				}
				var got []githubtest.Request
				if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
					t.Fatal(err)
				}
				return got
			}
			want := []githubtest.Request{
				{Method: "POST", Path: "/repos/o/r/statuses/abc", Accept: "application/vnd.github.v3+json",
					Body: map[string]any{"state": "failure", "context": "ci"}},
				{Method: "GET", Path: "/repos/o/r/hooks", Query: "per_page=5", Accept: "application/vnd.github.v3+json"},
			}
			if diff := cmp.Diff(want, get()); diff != "" {
				t.Errorf("endpoint (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want, get()); diff != "" {
				t.Errorf("endpoint, second time (-want +got):\n%s", diff)
			}
			if got := s.Requests(); len(got) != 2 || got[0].Auth != "Bearer test-token" {
				t.Errorf("Requests() = %+v, want the 2 API calls with their Authorization", got)
			}
			if _, _, err := gh.Repositories.ListHooks(ctx, "o", "r", nil); code(err) != http.StatusBadGateway {
				t.Errorf("scripted reply: got %v, want 502", err)
			}
		})
	}
}

// A client pages through a PR's files by the Link header, as go-github and
// Triggers' changed-files lookup do, and reads the rate-limit headers.
func TestPaginationAndRateLimit(t *testing.T) {
	s := githubtest.New(t)
	s.AddRepo("octo/app")
	var files []string
	for i := range 250 {
		files = append(files, fmt.Sprintf("f%03d.go", i))
	}
	s.AddPull("octo/app", githubtest.Pull{Number: 7, HeadSHA: "0123456789abcdef0123456789abcdef01234567", BaseRef: "main", Files: files})
	c := client(t, s, s.Token)
	var got []string
	opt := &gogithub.ListOptions{PerPage: 100}
	pages := 0
	for {
		fs, resp, err := c.PullRequests.ListFiles(context.Background(), "octo", "app", 7, opt)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, f := range fs {
			got = append(got, f.GetFilename())
		}
		if resp.Rate.Limit != githubtest.DefaultRateLimit || resp.Rate.Remaining != githubtest.DefaultRateLimit-pages || resp.Rate.Reset.IsZero() {
			t.Errorf("page %d: rate %+v", pages, resp.Rate)
		}
		if pages == 1 && (resp.LastPage != 3 || resp.NextPage != 2) {
			t.Errorf("first page: next %d last %d, want 2 and 3", resp.NextPage, resp.LastPage)
		}
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	if pages != 3 || !cmp.Equal(got, files) {
		t.Errorf("%d pages, %d files; want 3 pages and all 250 in order", pages, len(got))
	}
	// Without per_page, GitHub's default of 30.
	fs, _, err := c.PullRequests.ListFiles(context.Background(), "octo", "app", 7, nil)
	if err != nil || len(fs) != 30 {
		t.Errorf("default page: %d files, %v; want 30", len(fs), err)
	}
}

func TestBranch(t *testing.T) {
	s := githubtest.New(t)
	s.AddRepo("octo/app")
	const sha = "0123456789abcdef0123456789abcdef01234567"
	s.SetBranch("octo/app", "release/1.x", sha)
	c := client(t, s, s.Token)
	b, _, err := c.Repositories.GetBranch(context.Background(), "octo", "app", "release/1.x", 0)
	if err != nil || b.GetName() != "release/1.x" || b.GetCommit().GetSHA() != sha {
		t.Errorf("GetBranch = %+v, %v", b, err)
	}
	if _, _, err := c.Repositories.GetBranch(context.Background(), "Octo", "App", "nope", 0); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("unknown branch: %v, want 404", err)
	}
}

// Past the limit GitHub answers 403 with X-RateLimit-Remaining: 0, which
// clients (go-github's RateLimitError) recognise.
func TestRateLimitExceeded(t *testing.T) {
	s := githubtest.New(t)
	s.AddRepo("octo/app")
	s.AddPull("octo/app", githubtest.Pull{Number: 1, HeadSHA: "0123456789abcdef0123456789abcdef01234567", BaseRef: "main"})
	s.RateLimit = 2
	c := client(t, s, s.Token)
	for i := range 2 {
		if _, _, err := c.PullRequests.Get(context.Background(), "octo", "app", 1); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	// A fresh client: go-github would refuse locally after seeing 0 left.
	_, _, err := client(t, s, s.Token).PullRequests.Get(context.Background(), "octo", "app", 1)
	var rl *gogithub.RateLimitError
	if !errors.As(err, &rl) || rl.Rate.Remaining != 0 {
		t.Errorf("third request: %v, want a rate limit error", err)
	}
}

// In Serve's any-token mode, adding an App makes check runs GitHub's
// way: any token still reads them, only the App's installation tokens
// write them, and a token expires after TokenLifetime.
func TestServeWithAppWritesChecksOnlyWithInstallationTokens(t *testing.T) {
	s := serve(t)
	s.AnyRepo = true
	now := time.Now()
	s.Clock = func() time.Time { return now }
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s.AddApp(9, &key.PublicKey)
	inst := s.Install(9, "octo")
	ctx := context.Background()
	sha := "0123456789abcdef0123456789abcdef01234567"
	opts := gogithub.CreateCheckRunOptions{Name: "ci", HeadSHA: sha}

	pat := client(t, s, "ghp_whatever")
	if _, _, err := pat.Checks.ListCheckRunsForRef(ctx, "octo", "app", sha, nil); err != nil {
		t.Errorf("a PAT reading check runs: %v", err)
	}
	_, _, err = pat.Checks.CreateCheckRun(ctx, "octo", "app", opts)
	if code(err) != 403 || !strings.Contains(err.Error(), "You must authenticate via a GitHub App.") {
		t.Errorf("a PAT writing a check run: %v", err)
	}

	claims := jwt.MapClaims{"iat": now.Add(-time.Minute).Unix(), "exp": now.Add(9 * time.Minute).Unix(), "iss": "9"}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	app := client(t, s, signed)
	found, _, err := app.Apps.FindRepositoryInstallation(ctx, "octo", "app")
	if err != nil || found.GetID() != inst || found.GetAppID() != 9 {
		t.Fatalf("installation %v, %v", found, err)
	}
	if _, _, err := app.Apps.FindRepositoryInstallation(ctx, "other", "app"); code(err) != 404 {
		t.Errorf("installation on another account: %v, want 404", err)
	}
	tok, _, err := app.Apps.CreateInstallationToken(ctx, inst, nil)
	if err != nil || !strings.HasPrefix(tok.GetToken(), "ghs_") || !tok.GetExpiresAt().Time.Equal(now.Add(time.Hour).UTC().Truncate(time.Second)) {
		t.Fatalf("token %v, %v", tok, err)
	}
	installed := client(t, s, tok.GetToken())
	if _, _, err := installed.Checks.CreateCheckRun(ctx, "octo", "app", opts); err != nil {
		t.Errorf("the installation token writing a check run: %v", err)
	}
	if _, _, err := installed.Checks.CreateCheckRun(ctx, "other", "app", opts); code(err) != 404 {
		t.Errorf("the installation token on another account's repository: %v, want 404", err)
	}
	if _, _, err := app.Checks.CreateCheckRun(ctx, "octo", "app", opts); code(err) != 401 {
		t.Errorf("the App's JWT writing a check run: %v, want 401", err)
	}
	now = now.Add(time.Hour)
	if _, _, err := installed.Checks.CreateCheckRun(ctx, "octo", "app", opts); code(err) != 401 {
		t.Errorf("an expired installation token: %v, want 401", err)
	}
	if _, _, err := app.Apps.CreateInstallationToken(ctx, inst, nil); code(err) != 401 || !strings.Contains(err.Error(), "'Expiration time' claim ('exp')") {
		t.Errorf("an expired JWT: %v", err)
	}
}
