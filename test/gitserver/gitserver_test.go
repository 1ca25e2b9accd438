package gitserver_test

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipewright/pipewright/test/gitserver"
)

func serve(t *testing.T) *gitserver.Server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s, err := gitserver.Serve(l, filepath.Join(t.TempDir(), "repos"))
	if err != nil {
		l.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// git runs the git client in dir with none of this machine's configuration
// and returns its trimmed output.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := gitErr(t, dir, args...)
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func gitErr(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=" + os.DevNull, "GIT_TERMINAL_PROMPT=0", "LC_ALL=C"}
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

var files = map[string]string{
	"README.md":         "hello\n",
	"tasks/build.yaml":  "kind: Task\n",
	"docs/empty.txt":    "",
	"with space/a file": "x",
}

// firstSHA is CreateRepo's commit of files with message "first": the same
// on every machine and run, and what git commit makes of them with the
// author, committer and date of gitserver.Identity.
const firstSHA = "d2688071daaf5768df5374d808da632a44cdb91f"

func TestCloneOverHTTP(t *testing.T) {
	s := serve(t)
	sha, err := s.CreateRepo("octo", "app", files, "first")
	if err != nil {
		t.Fatal(err)
	}
	if sha != firstSHA {
		t.Errorf("CreateRepo sha %s, want %s", sha, firstSHA)
	}
	if other, err := s.CreateRepo("someone", "else", files, "first"); err != nil || other != sha {
		t.Errorf("same files elsewhere: %s %v, want %s", other, err, sha)
	}

	url := s.RepoURL("octo", "app")
	if want := s.URL + "/octo/app.git"; url != want {
		t.Errorf("RepoURL %s, want %s", url, want)
	}
	work := t.TempDir()
	if got, want := git(t, work, "ls-remote", url), sha+"\tHEAD\n"+sha+"\trefs/heads/main"; got != want {
		t.Errorf("ls-remote:\n%s\nwant\n%s", got, want)
	}
	git(t, work, "clone", "--quiet", url, "clone")
	clone := filepath.Join(work, "clone")
	for path, want := range files {
		if got := readFile(t, filepath.Join(clone, path)); got != want {
			t.Errorf("%s: %q, want %q", path, got, want)
		}
	}
	if got := git(t, clone, "rev-parse", "HEAD"); got != sha {
		t.Errorf("cloned HEAD %s, want %s", got, sha)
	}
	if got := git(t, clone, "branch", "--show-current"); got != "main" {
		t.Errorf("cloned branch %s, want main", got)
	}
	if got := git(t, clone, "log", "-1", "--format=%an <%ae> %ad|%cn <%ce> %cd|%B", "--date=raw"); got !=
		"Pipewright Test <test@pipewright.invalid> 1700000000 +0000|Pipewright Test <test@pipewright.invalid> 1700000000 +0000|first" {
		t.Errorf("commit: %s", got)
	}

	second, err := s.Commit("octo", "app", map[string]string{"README.md": "", "tasks/build.yaml": "kind: Pipeline\n", "new.txt": "n"}, "second")
	if err != nil {
		t.Fatal(err)
	}
	git(t, clone, "pull", "--quiet", "--ff-only")
	if got := git(t, clone, "rev-parse", "HEAD", "HEAD^"); got != second+"\n"+sha {
		t.Errorf("HEAD and its parent after pull:\n%s\nwant %s and %s", got, second, sha)
	}
	if _, err := os.Stat(filepath.Join(clone, "README.md")); !os.IsNotExist(err) {
		t.Errorf("README.md not deleted: %v", err)
	}
	if got := readFile(t, filepath.Join(clone, "tasks/build.yaml")); got != "kind: Pipeline\n" {
		t.Errorf("tasks/build.yaml: %q", got)
	}
	if got := readFile(t, filepath.Join(clone, "new.txt")); got != "n" {
		t.Errorf("new.txt: %q", got)
	}

	// Pipelines fetch the commit they are about by its sha.
	fetch := filepath.Join(work, "fetch")
	git(t, work, "init", "--quiet", fetch)
	git(t, fetch, "fetch", "--quiet", "--depth=1", url, sha)
	if got := git(t, fetch, "rev-parse", "FETCH_HEAD"); got != sha {
		t.Errorf("fetched %s, want %s", got, sha)
	}

	// The server is read-only.
	git(t, clone, "-c", "user.name=x", "-c", "user.email=x@x", "commit", "--quiet", "--allow-empty", "-m", "push")
	if out, err := gitErr(t, clone, "push", "origin", "HEAD:main"); err == nil {
		t.Errorf("push succeeded: %s", out)
	}
}

// TestChunkedRequest sends a fetch request with a chunked body, as git does
// for large negotiations, which net/http/cgi alone refuses.
func TestChunkedRequest(t *testing.T) {
	s := serve(t)
	sha, err := s.CreateRepo("octo", "app", files, "first")
	if err != nil {
		t.Fatal(err)
	}
	body := "003ewant " + sha + " no-progress\n" + "0000" + "0009done\n"
	req, err := http.NewRequest("POST", s.RepoURL("octo", "app")+"/git-upload-pack",
		io.MultiReader(strings.NewReader(body))) // no length: sent chunked
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-git-upload-pack-request")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !bytes.HasPrefix(out, []byte("0008NAK\nPACK")) {
		t.Errorf("%s: %q", resp.Status, out[:min(len(out), 100)])
	}
}

func TestRefusals(t *testing.T) {
	s := serve(t)
	if _, err := s.CreateRepo("octo", "app", files, "first"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateRepo("octo", "app", files, "again"); err == nil {
		t.Error("CreateRepo of an existing repository succeeded")
	}
	if _, err := s.Commit("octo", "missing", files, "x"); err == nil {
		t.Error("Commit to a missing repository succeeded")
	}
	for _, name := range [][2]string{{"..", "x"}, {"a/b", "c"}, {"o", ""}, {"o", ".git"}, {"-o", "r"}} {
		if _, err := s.CreateRepo(name[0], name[1], nil, "x"); err == nil {
			t.Errorf("CreateRepo(%q, %q) succeeded", name[0], name[1])
		}
	}
	for _, path := range []string{"../x", "/abs", "a//b", ".git/config", "a\nb"} {
		if _, err := s.Commit("octo", "app", map[string]string{path: "x"}, "x"); err == nil {
			t.Errorf("Commit of path %q succeeded", path)
		}
	}
}

// TestOpenPullRequest: a fork's commit is fetched by its sha from the base
// repository once a pull request is open, as on GitHub, and not before.
func TestOpenPullRequest(t *testing.T) {
	s := serve(t)
	if _, err := s.CreateRepo("octo", "app", files, "first"); err != nil {
		t.Fatal(err)
	}
	forkSHA, err := s.CreateRepo("stranger", "app", map[string]string{"fork.txt": "f"}, "fork")
	if err != nil {
		t.Fatal(err)
	}
	url := s.RepoURL("octo", "app")
	work := t.TempDir()
	git(t, work, "init", "--quiet", "before")
	if out, err := gitErr(t, filepath.Join(work, "before"), "fetch", "--quiet", "--depth=1", url, forkSHA); err == nil {
		t.Fatalf("the fork's commit was served before a pull request: %s", out)
	}
	sha, err := s.OpenPullRequest("octo/app", "stranger/app", 7)
	if err != nil || sha != forkSHA {
		t.Fatalf("OpenPullRequest = %s, %v; want %s", sha, err, forkSHA)
	}
	git(t, work, "init", "--quiet", "after")
	git(t, filepath.Join(work, "after"), "fetch", "--quiet", "--depth=1", url, forkSHA)
	if got := git(t, work, "ls-remote", url, "refs/pull/7/head"); got != forkSHA+"\trefs/pull/7/head" {
		t.Errorf("ls-remote refs/pull/7/head = %q", got)
	}
	for _, bad := range [][2]string{{"octo/app", "nobody/app"}, {"octo/app", "../x"}} {
		if _, err := s.OpenPullRequest(bad[0], bad[1], 1); err == nil {
			t.Errorf("OpenPullRequest(%s, %s) succeeded", bad[0], bad[1])
		}
	}
}
