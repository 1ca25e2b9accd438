package interceptor_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/pipewright/pipewright/pkg/github"
	"github.com/pipewright/pipewright/pkg/github/githubtest"
	"github.com/pipewright/pipewright/pkg/interceptor"
	"google.golang.org/grpc/codes"
)

// With paths, a pull_request goes through only when a file the pull
// request changes (listed from GitHub, each name whole) matches one of
// them; commas in names are ordinary characters. A bad glob, no token, or
// a GitHub failure is an error, not a silent pass.
func TestPullRequestPaths(t *testing.T) {
	many := make([]string, github.MaxPullRequestFiles+50)
	for n := range many {
		many[n] = fmt.Sprintf("docs/page%04d.md", n)
	}
	many[len(many)-1] = "services/api/late.go" // beyond what GitHub lists
	for _, c := range []struct {
		name     string
		paths    []string
		files    []string
		noGitHub bool
		pass     bool
		code     codes.Code
		want     string
	}{
		{name: "no paths", files: []string{"README.md"}, pass: true},
		{name: "comma name matches", paths: []string{"services/api/*.go"}, files: []string{"README.md", "services/api/a,b.go"}, pass: true, want: "services/api/a,b.go (services/api/*.go)"},
		{name: "comma name does not split", paths: []string{"services/api/*.go"}, files: []string{"docs/x,services/api/y.go"}, code: codes.FailedPrecondition, want: "changes 1 file(s), none under paths"},
		{name: "unicode", paths: []string{"services/café/**"}, files: []string{"services/café/menu.go"}, pass: true},
		{name: "bad glob", paths: []string{"/abs"}, files: []string{"abs"}, code: codes.InvalidArgument, want: "paths[0]"},
		{name: "no token", paths: []string{"x"}, files: []string{"x"}, noGitHub: true, code: codes.FailedPrecondition, want: "needs a GitHub token"},
		{name: "cut at GitHub's bound", paths: []string{"services/**"}, files: many, pass: true, want: fmt.Sprintf("none of the first %d files", github.MaxPullRequestFiles)},
	} {
		t.Run(c.name, func(t *testing.T) {
			gh := githubtest.New(t)
			gh.AddRepo(repo)
			gh.AddPull(repo, githubtest.Pull{Number: 2, HeadSHA: head, BaseRef: "master", Files: c.files})
			i := &interceptor.Interceptor{Repositories: []string{repo}, Namespace: "ci"}
			if !c.noGitHub {
				i.GitHub = client(t, gh.URL)
			}
			body, _ := json.Marshal(map[string]any{"number": 2, "repository": map[string]any{"full_name": repo}})
			req := request("pull_request", repo, string(body), "ci")
			req.InterceptorParams["paths"] = c.paths
			resp := i.Process(context.Background(), req)
			if resp.Continue != c.pass {
				t.Fatalf("continue %v, want %v: %+v", resp.Continue, c.pass, resp.Status)
			}
			if !c.pass && (resp.Status.Code != c.code || !strings.Contains(resp.Status.Message, c.want)) {
				t.Errorf("%v %q, want %v %q", resp.Status.Code, resp.Status.Message, c.code, c.want)
			}
			if c.pass && c.want != "" && !strings.Contains(fmt.Sprint(resp.Extensions["path_match"]), c.want) {
				t.Errorf("path_match %q, want %q", resp.Extensions["path_match"], c.want)
			}
			if len(c.paths) == 0 && len(gh.Requests()) > 0 {
				t.Errorf("GitHub asked without paths: %+v", gh.Requests())
			}
		})
	}
}
