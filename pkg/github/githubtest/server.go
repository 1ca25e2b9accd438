// Package githubtest is a GitHub REST API for tests: an httptest server that
// answers the paths and JSON shapes go-github uses for commit statuses,
// repository webhooks and check runs, keeps their state, and records every
// request so a test can assert exactly what was sent.
//
// New starts one for a Go test. Serve starts one on a listener the caller
// chose, for a harness whose Pods post statuses and check runs to it from
// another network namespace; what they sent can be read back with Requests
// in the same process, or from anywhere with GET /_githubtest/requests.
package githubtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// RequestsPath answers GET with every request recorded so far, as a JSON
// array of Request in arrival order. It needs no token, is not recorded
// itself and does not take a scripted reply.
const RequestsPath = "/_githubtest/requests"

// maxBody bounds a request body the server reads.
const maxBody = 10 << 20

// Request is one request the server received. Its JSON form, served at
// RequestsPath, leaves out Auth so the endpoint does not hand out tokens.
type Request struct {
	Method string `json:"method"`
	Path   string `json:"path"`  // e.g. /repos/o/r/statuses/SHA
	Query  string `json:"query"` // raw query, e.g. check_name=pipewright
	Auth   string `json:"-"`     // the Authorization header
	Accept string `json:"accept"`
	Body   any    `json:"body"` // the decoded JSON body; nil when there was none
}

// Reply is a scripted answer, sent instead of the normal one.
type Reply struct {
	Status int
	Header map[string]string
	Body   string
}

// Server is a fake GitHub. Its exported fields may be set before the first
// request.
type Server struct {
	*httptest.Server
	// Token is accepted for every call; AppToken also for check runs, which
	// GitHub only allows to GitHub Apps. When Token is empty any non-empty
	// bearer token is accepted; when AppToken is empty too, also for check
	// runs. New sets both; Serve sets neither.
	Token, AppToken string
	// AnyRepo makes every OWNER/NAME exist, created empty on first use, and
	// every sha a known commit of it, so statuses and check runs need no
	// AddRepo first.
	AnyRepo bool
	// CloneURLBase is what pull requests' clone_url starts with, before
	// OWNER/NAME.git; empty means https://github.com/. A test whose Pods
	// clone from a local git server points it there.
	CloneURLBase string
	// RateLimit is the requests the token may make; past it the server
	// answers 403 "API rate limit exceeded", as GitHub does.
	// DefaultRateLimit when zero.
	RateLimit int
	// Clock is the server's time, for JWTs and installation tokens;
	// time.Now when nil.
	Clock func() time.Time

	mu       sync.Mutex
	requests []Request
	replies  []Reply
	repos    map[string]*repo
	nextID   int64
	used     int // requests counted against the rate limit

	apps          map[int64]*app
	installations map[int64]*installation
	tokens        map[string]issuedToken
}

// DefaultRateLimit is the primary rate limit the server reports in
// GitHub's X-RateLimit-* headers when Server.RateLimit is zero: a token's
// 5000 requests an hour.
const DefaultRateLimit = 5000

type repo struct {
	shas      map[string]bool
	statuses  []map[string]any
	hooks     []map[string]any
	checkRuns []map[string]any
	// annotations per check run id, appended as GitHub does.
	annotations map[int64][]any
	pulls       map[int]Pull
	perms       map[string]string // login -> permission
	files       map[string]string // path -> content
	branches    map[string]string // branch -> head sha
}

// extra holds handlers other files of the package add.
var extra = map[string]func(*Server, http.ResponseWriter, *http.Request, *repo){}

// New starts a server on 127.0.0.1 that knows no repositories and takes
// the tokens "test-token" and "ghs_test-app-token"; it stops with the test.
func New(t testing.TB) *Server {
	s := newServer()
	s.Token, s.AppToken = "test-token", "ghs_test-app-token"
	s.Server = httptest.NewServer(s.handler())
	t.Cleanup(s.Close)
	return s
}

// Serve starts a server on l, which it closes with Close, for callers with
// no testing.T: a harness whose Pods must reach it at an address it chose.
// It knows no repositories and takes any bearer token; set AnyRepo, Token or
// AppToken before the first request to change that. URL is "http://" and
// l's address, so l should be bound to the address clients dial.
func Serve(l net.Listener) *Server {
	s := newServer()
	s.Server = &httptest.Server{Listener: l, Config: &http.Server{
		Handler:           s.handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      time.Minute,
		IdleTimeout:       2 * time.Minute,
	}}
	s.Start()
	return s
}

func newServer() *Server {
	return &Server{repos: map[string]*repo{}, nextID: 1000}
}

// handler is the API behind the request log, and RequestsPath beside it.
func (s *Server) handler() http.Handler {
	mux := http.NewServeMux()
	for pattern, h := range map[string]handler{
		"POST /repos/{owner}/{repo}/statuses/{sha}":          s.createStatus,
		"GET /repos/{owner}/{repo}/hooks":                    s.listHooks,
		"POST /repos/{owner}/{repo}/hooks":                   s.createHook,
		"PATCH /repos/{owner}/{repo}/hooks/{id}":             s.editHook,
		"GET /repos/{owner}/{repo}/commits/{ref}/check-runs": s.listCheckRuns,
		"POST /repos/{owner}/{repo}/check-runs":              s.createCheckRun,
		"PATCH /repos/{owner}/{repo}/check-runs/{id}":        s.updateCheckRun,
	} {
		mux.Handle(pattern, s.locked(h))
	}
	mux.HandleFunc("GET /repos/{owner}/{repo}/installation", s.findInstallation)
	mux.HandleFunc("POST /app/installations/{id}/access_tokens", s.createToken)
	for pattern, h := range extra {
		mux.Handle(pattern, s.locked(func(w http.ResponseWriter, req *http.Request, r *repo) { h(s, w, req, r) }))
	}
	top := http.NewServeMux()
	top.HandleFunc("GET "+RequestsPath, func(w http.ResponseWriter, req *http.Request) {
		writeJSON(w, http.StatusOK, s.Requests())
	})
	top.Handle("/", s.record(mux))
	return top
}

// AddRepo makes OWNER/NAME exist with the given commits.
func (s *Server) AddRepo(fullName string, shas ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := newRepo()
	for _, sha := range shas {
		r.shas[sha] = true
	}
	s.repos[strings.ToLower(fullName)] = r
}

func newRepo() *repo {
	return &repo{shas: map[string]bool{}, annotations: map[int64][]any{}}
}

// known reports whether sha is a commit of r.
func (s *Server) known(r *repo, sha string) bool {
	return s.AnyRepo || r.shas[sha]
}

// view returns a repository for reading; an unknown one is empty.
func (s *Server) view(fullName string) *repo {
	if r := s.repos[strings.ToLower(fullName)]; r != nil {
		return r
	}
	return &repo{}
}

// AddHook puts an existing webhook on a repository and returns its id.
func (s *Server) AddHook(fullName, url string, events ...string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repos[strings.ToLower(fullName)]
	s.nextID++
	r.hooks = append(r.hooks, hookJSON(s.nextID, map[string]any{"url": url, "content_type": "form"}, toAny(events), true))
	return s.nextID
}

// Script queues replies; each of the next requests gets one, in order,
// before the normal handling resumes.
func (s *Server) Script(replies ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replies = append(s.replies, replies...)
}

// Requests returns what the server received so far, in order, leaving
// out RequestsPath.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Statuses returns the statuses set on a repository.
func (s *Server) Statuses(fullName string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.view(fullName).statuses)
}

// Hooks returns a repository's webhooks as GitHub lists them.
func (s *Server) Hooks(fullName string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.view(fullName).hooks)
}

// HookSecret returns the secret last set on hook id (GitHub never shows it;
// tests may look).
func (s *Server) HookSecret(fullName string, id int64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, h := range s.view(fullName).hooks {
		if h["id"] == id {
			sec, _ := h["_secret"].(string)
			return sec
		}
	}
	return ""
}

// CheckRuns returns a repository's check runs.
func (s *Server) CheckRuns(fullName string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.view(fullName).checkRuns)
}

// Annotations returns every annotation sent for check run id.
func (s *Server) Annotations(fullName string, id int64) []any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.view(fullName).annotations[id])
}

// record logs each request, answers scripted replies, checks the token and
// the repository, and hands the rest to the API handlers.
func (s *Server) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		data, err := io.ReadAll(http.MaxBytesReader(w, req.Body, maxBody))
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			writeJSON(w, http.StatusRequestEntityTooLarge, apiError("Request body too large", ""))
			return
		}
		rec := Request{Method: req.Method, Path: req.URL.Path, Query: req.URL.RawQuery,
			Auth: req.Header.Get("Authorization"), Accept: req.Header.Get("Accept")}
		if len(data) > 0 {
			if err := json.Unmarshal(data, &rec.Body); err != nil {
				rec.Body = "invalid JSON: " + string(data)
			}
		}
		s.mu.Lock()
		s.requests = append(s.requests, rec)
		var scripted *Reply
		if len(s.replies) > 0 {
			scripted = &s.replies[0]
			s.replies = s.replies[1:]
		}
		s.used++
		used, limit := s.used, s.RateLimit
		s.mu.Unlock()
		if limit == 0 {
			limit = DefaultRateLimit
		}
		// GitHub's rate-limit headers on every answer; a scripted reply
		// may override them (a 403 with X-RateLimit-Remaining: 0).
		h := w.Header()
		h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
		h.Set("X-RateLimit-Remaining", strconv.Itoa(max(limit-used, 0)))
		h.Set("X-RateLimit-Used", strconv.Itoa(used))
		h.Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Truncate(time.Hour).Unix(), 10))
		h.Set("X-RateLimit-Resource", "core")
		h.Set("X-GitHub-Api-Version-Selected", "2022-11-28")
		if scripted != nil {
			for k, v := range scripted.Header {
				w.Header().Set(k, v)
			}
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(scripted.Status)
			io.WriteString(w, scripted.Body)
			return
		}
		if used > limit {
			writeJSON(w, http.StatusForbidden, apiError("API rate limit exceeded for user.", "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"))
			return
		}
		token, _ := strings.CutPrefix(rec.Auth, "Bearer ")
		if req = s.authorize(w, req, token); req == nil {
			return
		}
		req.Body = io.NopCloser(strings.NewReader(string(data)))
		next.ServeHTTP(w, req)
	})
}

// handler answers one API call on a repository, under the server's lock.
type handler func(w http.ResponseWriter, req *http.Request, r *repo)

// locked finds the request's repository (names are case-insensitive, as on
// GitHub), answering 404 as GitHub does for
// one that is missing or hidden from the token (unless AnyRepo), and runs h.
func (s *Server) locked(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		name := req.PathValue("owner") + "/" + req.PathValue("repo")
		r := s.repos[strings.ToLower(name)]
		if r == nil && s.AnyRepo {
			r = newRepo()
			s.repos[strings.ToLower(name)] = r
		}
		if r == nil {
			writeJSON(w, http.StatusNotFound, apiError("Not Found", "https://docs.github.com/rest"))
			return
		}
		h(w, req, r)
	})
}

// decode reads the JSON body into v, answering 400 as GitHub does when it
// cannot.
func decode(w http.ResponseWriter, req *http.Request, v any) bool {
	if err := json.NewDecoder(req.Body).Decode(v); err != nil {
		writeJSON(w, http.StatusBadRequest, apiError("Problems parsing JSON", ""))
		return false
	}
	return true
}

// byID returns the object of list with the request's {id}, or answers 404.
func byID(w http.ResponseWriter, req *http.Request, list []map[string]any) map[string]any {
	id, _ := strconv.ParseInt(req.PathValue("id"), 10, 64)
	for _, x := range list {
		if x["id"] == id {
			return x
		}
	}
	writeJSON(w, http.StatusNotFound, apiError("Not Found", "https://docs.github.com/rest"))
	return nil
}

func (s *Server) createStatus(w http.ResponseWriter, req *http.Request, r *repo) {
	sha := req.PathValue("sha")
	if !s.known(r, sha) {
		writeJSON(w, http.StatusUnprocessableEntity, apiError("No commit found for SHA: "+sha, "https://docs.github.com/rest/commits/statuses#create-a-commit-status"))
		return
	}
	var in map[string]any
	if !decode(w, req, &in) {
		return
	}
	switch in["state"] {
	case "pending", "success", "failure", "error":
	default:
		writeJSON(w, http.StatusUnprocessableEntity, validation("Status", "state"))
		return
	}
	s.nextID++
	out := map[string]any{"id": s.nextID, "state": in["state"], "description": in["description"],
		"target_url": in["target_url"], "context": or(in["context"], "default"),
		"url": fmt.Sprintf("%s/repos/%s/%s/statuses/%s", s.URL, req.PathValue("owner"), req.PathValue("repo"), sha)}
	r.statuses = append(r.statuses, out)
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) listHooks(w http.ResponseWriter, req *http.Request, r *repo) {
	perPage, page := 30, 1
	if v, err := strconv.Atoi(req.URL.Query().Get("per_page")); err == nil && v > 0 {
		perPage = min(v, 100)
	}
	if v, err := strconv.Atoi(req.URL.Query().Get("page")); err == nil && v > 0 {
		page = v
	}
	lo, hi := min((page-1)*perPage, len(r.hooks)), min(page*perPage, len(r.hooks))
	if hi < len(r.hooks) {
		next := *req.URL
		q := next.Query()
		q.Set("page", strconv.Itoa(page+1))
		q.Set("per_page", strconv.Itoa(perPage))
		next.RawQuery = q.Encode()
		w.Header().Set("Link", fmt.Sprintf(`<%s%s>; rel="next"`, s.URL, next.RequestURI()))
	}
	out := []map[string]any{}
	for _, h := range r.hooks[lo:hi] {
		out = append(out, public(h))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) createHook(w http.ResponseWriter, req *http.Request, r *repo) {
	var in struct {
		Name   string         `json:"name"`
		Config map[string]any `json:"config"`
		Events []string       `json:"events"`
		Active *bool          `json:"active"`
	}
	if !decode(w, req, &in) {
		return
	}
	if in.Name != "web" || in.Config["url"] == nil {
		writeJSON(w, http.StatusUnprocessableEntity, validation("Hook", "config"))
		return
	}
	for _, h := range r.hooks {
		if h["config"].(map[string]any)["url"] == in.Config["url"] {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed",
				"errors": []any{map[string]any{"resource": "Hook", "code": "custom", "message": "Hook already exists on this repository"}}})
			return
		}
	}
	events := in.Events
	if len(events) == 0 {
		events = []string{"push"}
	}
	s.nextID++
	h := hookJSON(s.nextID, in.Config, toAny(events), in.Active == nil || *in.Active)
	r.hooks = append(r.hooks, h)
	writeJSON(w, http.StatusCreated, public(h))
}

func (s *Server) editHook(w http.ResponseWriter, req *http.Request, r *repo) {
	h := byID(w, req, r.hooks)
	if h == nil {
		return
	}
	var in map[string]any
	if !decode(w, req, &in) {
		return
	}
	if cfg, ok := in["config"].(map[string]any); ok {
		old := h["config"].(map[string]any)
		for k, v := range cfg {
			if k == "secret" {
				h["_secret"] = v
				continue
			}
			old[k] = v
		}
	}
	if ev, ok := in["events"].([]any); ok {
		h["events"] = ev
	}
	if a, ok := in["active"].(bool); ok {
		h["active"] = a
	}
	writeJSON(w, http.StatusOK, public(h))
}

func (s *Server) listCheckRuns(w http.ResponseWriter, req *http.Request, r *repo) {
	ref, name := req.PathValue("ref"), req.URL.Query().Get("check_name")
	if !s.known(r, ref) {
		writeJSON(w, http.StatusUnprocessableEntity, apiError("No commit found for SHA: "+ref, ""))
		return
	}
	runs := []map[string]any{}
	for _, c := range r.checkRuns {
		if c["head_sha"] == ref && (name == "" || c["name"] == name) {
			runs = append(runs, c)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"total_count": len(runs), "check_runs": runs})
}

func (s *Server) createCheckRun(w http.ResponseWriter, req *http.Request, r *repo) {
	var in map[string]any
	if !decode(w, req, &in) {
		return
	}
	sha, _ := in["head_sha"].(string)
	if in["name"] == nil || !s.known(r, sha) {
		writeJSON(w, http.StatusUnprocessableEntity, validation("CheckRun", "head_sha"))
		return
	}
	s.nextID++
	run := map[string]any{"id": s.nextID, "head_sha": sha, "name": in["name"], "status": or(in["status"], "queued"),
		"conclusion": in["conclusion"], "details_url": in["details_url"], "output": map[string]any{}}
	if !s.applyCheckRun(w, r, run, in) {
		return
	}
	r.checkRuns = append(r.checkRuns, run)
	writeJSON(w, http.StatusCreated, run)
}

func (s *Server) updateCheckRun(w http.ResponseWriter, req *http.Request, r *repo) {
	run := byID(w, req, r.checkRuns)
	if run == nil {
		return
	}
	var in map[string]any
	if !decode(w, req, &in) {
		return
	}
	for _, k := range []string{"name", "status", "conclusion", "details_url"} {
		if v, ok := in[k]; ok {
			run[k] = v
		}
	}
	if !s.applyCheckRun(w, r, run, in) {
		return
	}
	writeJSON(w, http.StatusOK, run)
}

// applyCheckRun enforces GitHub's rules on a check run's body and keeps
// its output and annotations.
func (s *Server) applyCheckRun(w http.ResponseWriter, r *repo, run, in map[string]any) bool {
	if run["status"] == "completed" && run["conclusion"] == nil {
		writeJSON(w, http.StatusUnprocessableEntity, validation("CheckRun", "conclusion"))
		return false
	}
	out, ok := in["output"].(map[string]any)
	if !ok {
		return true
	}
	if out["title"] == nil || out["summary"] == nil {
		writeJSON(w, http.StatusUnprocessableEntity, validation("CheckRun", "output"))
		return false
	}
	anns, _ := out["annotations"].([]any)
	if len(anns) > 50 {
		writeJSON(w, http.StatusUnprocessableEntity, apiError("Only 50 annotations are allowed per request", ""))
		return false
	}
	id := run["id"].(int64)
	r.annotations[id] = append(r.annotations[id], anns...)
	run["output"] = map[string]any{"title": out["title"], "summary": out["summary"], "annotations_count": len(r.annotations[id])}
	return true
}

func hookJSON(id int64, config map[string]any, events []any, active bool) map[string]any {
	cfg := map[string]any{}
	var secret any
	for k, v := range config {
		if k == "secret" {
			secret = v
			continue
		}
		cfg[k] = v
	}
	return map[string]any{"type": "Repository", "id": id, "name": "web", "active": active,
		"events": events, "config": cfg, "_secret": secret}
}

// public is a hook as GitHub shows it: the secret masked.
func public(h map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range h {
		if !strings.HasPrefix(k, "_") {
			out[k] = v
		}
	}
	cfg := map[string]any{}
	for k, v := range h["config"].(map[string]any) {
		cfg[k] = v
	}
	if h["_secret"] != nil {
		cfg["secret"] = "********"
	}
	out["config"] = cfg
	return out
}

func apiError(msg, doc string) map[string]any {
	return map[string]any{"message": msg, "documentation_url": doc}
}

func validation(resource, field string) map[string]any {
	return map[string]any{"message": "Validation Failed",
		"errors": []any{map[string]any{"resource": resource, "field": field, "code": "invalid"}}}
}

func or(v any, def string) any {
	if v == nil {
		return def
	}
	return v
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
