// Package gitserver serves bare Git repositories over smart HTTP, read-only,
// with the machine's own git http-backend behind net/http/cgi.
//
// The one-machine node harness runs real Pods whose steps clone the
// repository a pipeline is about; they cannot reach GitHub, and they cannot
// reach 127.0.0.1 of the harness either, since they live in their own
// network namespace. So the harness listens on an address of its choosing,
// starts a Server there with Serve, makes repositories with CreateRepo and
// Commit, and gives the Pods RepoURL. The commits are made with a fixed
// author, committer and date, so their shas are the same on every run.
package gitserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// Identity is the author and committer of every commit the server makes,
// with a fixed date, as git fast-import wants it.
const Identity = "Pipewright Test <test@pipewright.invalid> 1700000000 +0000"

// Branch is the branch CreateRepo makes, HEAD points at, and Commit extends.
const Branch = "main"

const (
	maxBody    = 64 << 20        // largest request body read
	gitTimeout = 2 * time.Minute // bound of one git command of CreateRepo or Commit
)

// Server serves the bare repositories under Root: OWNER/NAME.git is cloned
// from URL/OWNER/NAME.git.
type Server struct {
	Root string // absolute folder holding OWNER/NAME.git
	URL  string // http:// and the listener's address, without a trailing slash

	git  string // the git binary
	srv  *http.Server
	done chan error
	mu   sync.Mutex // one writer of repositories at a time

	closeOnce sync.Once
	closeErr  error
}

// Serve serves the repositories under root, which it creates when missing,
// on l until Close. URL is "http://" and l's address, so l should be bound
// to the address clients dial. It fails when git or its http-backend cannot
// be found.
func Serve(l net.Listener, root string) (*Server, error) {
	git, err := exec.LookPath("git")
	if err != nil {
		return nil, fmt.Errorf("gitserver: %w", err)
	}
	root, err = filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("gitserver: %w", err)
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("gitserver: %w", err)
	}
	s := &Server{Root: root, URL: "http://" + l.Addr().String(), git: git, done: make(chan error, 1)}
	ctx, cancel := context.WithTimeout(context.Background(), gitTimeout)
	defer cancel()
	out, err := s.run(ctx, "", nil, "--exec-path")
	if err != nil {
		return nil, err
	}
	backend := filepath.Join(strings.TrimSpace(out), "git-http-backend")
	if _, err := os.Stat(backend); err != nil {
		return nil, fmt.Errorf("gitserver: no git http-backend: %w", err)
	}
	h := &cgi.Handler{
		Path: backend,
		Dir:  root,
		// net/http/cgi passes PATH (and LD_LIBRARY_PATH) on from this
		// process; nothing else of its environment reaches git.
		Env: append(gitEnv(),
			"GIT_PROJECT_ROOT="+root,
			"GIT_HTTP_EXPORT_ALL=1",
			// Read-only, and any commit may be fetched by its sha.
			"GIT_CONFIG_COUNT=2",
			"GIT_CONFIG_KEY_0=http.receivepack", "GIT_CONFIG_VALUE_0=false",
			"GIT_CONFIG_KEY_1=uploadpack.allowAnySHA1InWant", "GIT_CONFIG_VALUE_1=true",
		),
	}
	s.srv = &http.Server{
		Handler:           unchunk(h),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
	}
	go func() { s.done <- s.srv.Serve(l) }()
	return s, nil
}

// Close stops the server and closes its listener, giving requests under
// way a few seconds to finish. Later calls return the first one's error.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := s.srv.Shutdown(ctx)
		if err != nil {
			err = errors.Join(err, s.srv.Close())
		}
		if serr := <-s.done; !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
		s.closeErr = err
	})
	return s.closeErr
}

// RepoURL is where OWNER/NAME is cloned from.
func (s *Server) RepoURL(owner, name string) string {
	return s.URL + "/" + owner + "/" + name + ".git"
}

// CreateRepo makes Root/OWNER/NAME.git, a bare repository whose HEAD is
// Branch, with one commit of files (path -> content; "" is an empty file)
// on Branch, and returns the commit's sha. The same files and message give
// the same sha every time. The repository must not exist yet.
func (s *Server) CreateRepo(owner, name string, files map[string]string, message string) (sha string, err error) {
	dir, err := s.dir(owner, name)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := os.Stat(dir); err == nil {
		return "", fmt.Errorf("gitserver: %s/%s exists", owner, name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), gitTimeout)
	defer cancel()
	if _, err := s.run(ctx, "", nil, "init", "--quiet", "--bare", dir); err != nil {
		return "", err
	}
	if _, err := s.run(ctx, dir, nil, "symbolic-ref", "HEAD", "refs/heads/"+Branch); err != nil {
		return "", err
	}
	return s.commit(ctx, dir, files, message, false)
}

// Commit adds a commit on top of Branch of OWNER/NAME that writes files
// (path -> content) and deletes the paths whose content is "", and returns
// its sha.
func (s *Server) Commit(owner, name string, files map[string]string, message string) (sha string, err error) {
	dir, err := s.dir(owner, name)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("gitserver: no repository %s/%s: %w", owner, name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), gitTimeout)
	defer cancel()
	return s.commit(ctx, dir, files, message, true)
}

// OpenPullRequest does what GitHub does when a pull request number is
// opened on BASE from HEAD (OWNER/NAME each; a fork or the same
// repository): it copies HEAD's Branch into BASE as refs/pull/N/head, so
// the base repository serves the head commit (clones fetch it by sha from
// the base, as on GitHub). It returns that commit's sha.
func (s *Server) OpenPullRequest(base, head string, number int) (sha string, err error) {
	bo, bn, _ := strings.Cut(base, "/")
	ho, hn, _ := strings.Cut(head, "/")
	baseDir, err := s.dir(bo, bn)
	if err != nil {
		return "", err
	}
	headDir, err := s.dir(ho, hn)
	if err != nil {
		return "", err
	}
	if number < 1 {
		return "", fmt.Errorf("gitserver: pull request number %d", number)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), gitTimeout)
	defer cancel()
	ref := fmt.Sprintf("refs/pull/%d/head", number)
	if _, err := s.run(ctx, baseDir, nil, "fetch", "--quiet", "--no-tags", headDir, "+refs/heads/"+Branch+":"+ref); err != nil {
		return "", err
	}
	out, err := s.run(ctx, baseDir, nil, "rev-parse", "--verify", ref)
	return strings.TrimSpace(out), err
}

// commit makes one commit on Branch with git fast-import.
func (s *Server) commit(ctx context.Context, dir string, files map[string]string, message string, onTop bool) (string, error) {
	if !strings.HasSuffix(message, "\n") {
		message += "\n"
	}
	var in bytes.Buffer
	fmt.Fprintf(&in, "commit refs/heads/%s\nauthor %s\ncommitter %s\ndata %d\n%s", Branch, Identity, Identity, len(message), message)
	if onTop {
		fmt.Fprintf(&in, "from refs/heads/%s^0\n", Branch)
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		if err := checkPath(p); err != nil {
			return "", err
		}
		content := files[p]
		if onTop && content == "" {
			fmt.Fprintf(&in, "D %s\n", p)
			continue
		}
		fmt.Fprintf(&in, "M 100644 inline %s\ndata %d\n%s\n", p, len(content), content)
	}
	in.WriteString("done\n")
	if _, err := s.run(ctx, dir, &in, "fast-import", "--quiet", "--done"); err != nil {
		return "", err
	}
	out, err := s.run(ctx, dir, nil, "rev-parse", "--verify", "refs/heads/"+Branch)
	return strings.TrimSpace(out), err
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// dir is where OWNER/NAME lives, once both are plain GitHub-like names.
func (s *Server) dir(owner, name string) (string, error) {
	for _, n := range []string{owner, name} {
		if !nameRE.MatchString(n) || strings.HasPrefix(n, ".") || strings.HasPrefix(n, "-") {
			return "", fmt.Errorf("gitserver: bad repository name %q", owner+"/"+name)
		}
	}
	return filepath.Join(s.Root, owner, name+".git"), nil
}

// checkPath refuses paths git would not store or fast-import would read
// differently.
func checkPath(p string) error {
	if p == "" || strings.ContainsAny(p, "\n\x00") || strings.HasPrefix(p, `"`) || strings.HasPrefix(p, "/") {
		return fmt.Errorf("gitserver: bad path %q", p)
	}
	for _, part := range strings.Split(p, "/") {
		if part == "" || part == "." || part == ".." || part == ".git" {
			return fmt.Errorf("gitserver: bad path %q", p)
		}
	}
	return nil
}

// run runs git in dir ("" for the current folder) with the environment of
// gitEnv and returns its output.
func (s *Server) run(ctx context.Context, dir string, stdin io.Reader, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, s.git, args...)
	cmd.Dir = dir
	cmd.Stdin = stdin
	cmd.Env = append(gitEnv(), "PATH="+os.Getenv("PATH"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("gitserver: git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// gitEnv is the environment of every git the server runs: HOME of this
// process and nothing else of it, and no system or user configuration, so
// that neither secrets nor someone's git settings reach the repositories.
func gitEnv() []string {
	return []string{
		"HOME=" + os.Getenv("HOME"),
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=" + os.DevNull,
		"LC_ALL=C",
	}
}

// unchunk bounds request bodies and reads chunked ones into memory, since
// net/http/cgi refuses them and git sends large fetch negotiations chunked.
func unchunk(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		req.Body = http.MaxBytesReader(w, req.Body, maxBody)
		if req.ContentLength < 0 || len(req.TransferEncoding) > 0 {
			data, err := io.ReadAll(req.Body)
			if err != nil {
				code := http.StatusBadRequest
				if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
					code = http.StatusRequestEntityTooLarge
				}
				http.Error(w, "gitserver: "+err.Error(), code)
				return
			}
			req.Body = io.NopCloser(bytes.NewReader(data))
			req.ContentLength = int64(len(data))
			req.TransferEncoding = nil
		}
		next.ServeHTTP(w, req)
	})
}
