package githubtest

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Pull is a pull request the server knows.
type Pull struct {
	Number      int
	State       string // open (default) or closed
	Draft       bool
	Author      string
	Association string // author_association, e.g. OWNER or NONE
	HeadSHA     string
	HeadRef     string
	HeadRepo    string // OWNER/NAME of the head; the base repository when empty
	BaseRef     string
	Files       []string // changed files, for GET .../pulls/N/files
}

// AddPull puts (or replaces) a pull request on a repository; its head sha
// becomes a known commit.
func (s *Server) AddPull(fullName string, p Pull) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repos[strings.ToLower(fullName)]
	if r.pulls == nil {
		r.pulls = map[int]Pull{}
	}
	r.pulls[p.Number] = p
	r.shas[p.HeadSHA] = true
}

// SetPermission gives user a permission (admin, write, read) on a repository.
func (s *Server) SetPermission(fullName, user, perm string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repos[strings.ToLower(fullName)]
	if r.perms == nil {
		r.perms = map[string]string{}
	}
	r.perms[user] = perm
}

// AddFile puts a file on a repository's branches (the server keeps one
// version for every ref).
func (s *Server) AddFile(fullName, path, content string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repos[strings.ToLower(fullName)]
	if r.files == nil {
		r.files = map[string]string{}
	}
	r.files[path] = content
}

func init() {
	extra["GET /repos/{owner}/{repo}/pulls/{number}"] = (*Server).getPull
	extra["GET /repos/{owner}/{repo}/pulls/{number}/files"] = (*Server).listPullFiles
	extra["GET /repos/{owner}/{repo}/collaborators/{user}/permission"] = (*Server).getPermission
	extra["GET /repos/{owner}/{repo}/contents/{path...}"] = (*Server).getContents
	extra["GET /repos/{owner}/{repo}/branches/{branch...}"] = (*Server).getBranch
}

func (s *Server) pull(w http.ResponseWriter, req *http.Request, r *repo) (Pull, bool) {
	n, _ := strconv.Atoi(req.PathValue("number"))
	p, ok := r.pulls[n]
	if !ok {
		writeJSON(w, http.StatusNotFound, apiError("Not Found", "https://docs.github.com/rest/pulls/pulls#get-a-pull-request"))
	}
	return p, ok
}

func (s *Server) getPull(w http.ResponseWriter, req *http.Request, r *repo) {
	p, ok := s.pull(w, req, r)
	if !ok {
		return
	}
	base := req.PathValue("owner") + "/" + req.PathValue("repo")
	head := p.HeadRepo
	if head == "" {
		head = base
	}
	cloneBase := s.CloneURLBase
	if cloneBase == "" {
		cloneBase = "https://github.com/"
	}
	repoJSON := func(full string) map[string]any {
		return map[string]any{"full_name": full, "clone_url": cloneBase + full + ".git"}
	}
	state := p.State
	if state == "" {
		state = "open"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"number": p.Number, "state": state, "draft": p.Draft,
		"user": map[string]any{"login": p.Author}, "author_association": p.Association,
		"head": map[string]any{"sha": p.HeadSHA, "ref": p.HeadRef, "repo": repoJSON(head)},
		"base": map[string]any{"ref": p.BaseRef, "repo": repoJSON(base)},
	})
}

func (s *Server) listPullFiles(w http.ResponseWriter, req *http.Request, r *repo) {
	p, ok := s.pull(w, req, r)
	if !ok {
		return
	}
	out := []map[string]any{}
	for _, f := range paginate(w, req, p.Files) {
		out = append(out, map[string]any{"filename": f, "status": "modified", "sha": "", "additions": 1, "deletions": 0, "changes": 1})
	}
	writeJSON(w, http.StatusOK, out)
}

// paginate is GitHub's page-based pagination: per_page (30 by default, 100
// at most) and page (from 1) select the items, and a Link header names the
// next, last, first and prev pages, as clients follow them.
func paginate[T any](w http.ResponseWriter, req *http.Request, items []T) []T {
	q := req.URL.Query()
	per, err := strconv.Atoi(q.Get("per_page"))
	if err != nil || per <= 0 {
		per = 30
	}
	per = min(per, 100)
	page, err := strconv.Atoi(q.Get("page"))
	if err != nil || page <= 0 {
		page = 1
	}
	last := max((len(items)+per-1)/per, 1)
	link := func(n int, rel string) string {
		u := *req.URL
		u.Scheme, u.Host = "http", req.Host
		v := u.Query()
		v.Set("per_page", strconv.Itoa(per))
		v.Set("page", strconv.Itoa(n))
		u.RawQuery = v.Encode()
		return fmt.Sprintf("<%s>; rel=%q", u.String(), rel)
	}
	var links []string
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"), link(page-1, "prev"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	from := min((page-1)*per, len(items))
	return items[from:min(from+per, len(items))]
}

// SetBranch points a branch of a repository at a commit, which becomes
// known.
func (s *Server) SetBranch(fullName, branch, sha string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repos[strings.ToLower(fullName)]
	if r.branches == nil {
		r.branches = map[string]string{}
	}
	r.branches[branch] = sha
	r.shas[sha] = true
}

// getBranch answers GET /repos/{owner}/{repo}/branches/{branch} with the
// fields of GitHub's "branch with protection" that clients read.
func (s *Server) getBranch(w http.ResponseWriter, req *http.Request, r *repo) {
	name := req.PathValue("branch")
	sha, ok := r.branches[name]
	if !ok {
		writeJSON(w, http.StatusNotFound, apiError("Branch not found", "https://docs.github.com/rest/branches/branches#get-a-branch"))
		return
	}
	api := "https://api.github.com/repos/" + req.PathValue("owner") + "/" + req.PathValue("repo")
	writeJSON(w, http.StatusOK, map[string]any{
		"name":      name,
		"commit":    map[string]any{"sha": sha, "url": api + "/commits/" + sha},
		"_links":    map[string]any{"self": api + "/branches/" + name},
		"protected": false,
	})
}

func (s *Server) getPermission(w http.ResponseWriter, req *http.Request, r *repo) {
	user := req.PathValue("user")
	perm, ok := r.perms[user]
	if !ok {
		perm = "none"
	}
	writeJSON(w, http.StatusOK, map[string]any{"permission": perm, "user": map[string]any{"login": user}})
}

func (s *Server) getContents(w http.ResponseWriter, req *http.Request, r *repo) {
	path := req.PathValue("path")
	content, ok := r.files[path]
	if !ok {
		writeJSON(w, http.StatusNotFound, apiError("Not Found", "https://docs.github.com/rest/repos/contents#get-repository-content"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"type": "file", "encoding": "base64", "name": path, "path": path,
		"size": len(content), "content": base64.StdEncoding.EncodeToString([]byte(content))})
}
