package githubtest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// GitHub Apps, as GitHub authenticates them: the App signs a JWT (RS256,
// iss the App id, at most ten minutes long) with its private key, which
// only GET /repos/{owner}/{repo}/installation and
// POST /app/installations/{id}/access_tokens take; the latter issues an
// installation token (ghs_..., an hour long), which the rest of the API
// takes. Creating or updating a check run needs such a token: GitHub
// answers a personal access token 403 "You must authenticate via a GitHub
// App.". The JWT is checked with golang-jwt, an implementation other than
// the one pkg/github signs with.

// TokenLifetime is how long an installation token lasts, as on GitHub.
const TokenLifetime = time.Hour

type app struct {
	id  int64
	key *rsa.PublicKey
}

type installation struct {
	id, appID int64
	account   string
	repos     map[string]bool // lower-case owner/name; nil: all of the account's
}

type issuedToken struct {
	installation int64
	expires      time.Time
}

// AddApp registers a GitHub App with its public key.
func (s *Server) AddApp(id int64, key *rsa.PublicKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.apps == nil {
		s.apps = map[int64]*app{}
	}
	s.apps[id] = &app{id: id, key: key}
}

// Install installs App appID on account (a user or organisation) for the
// given repositories (OWNER/NAME), or all of the account's when none are
// given, and returns the installation id.
func (s *Server) Install(appID int64, account string, repos ...string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	in := &installation{id: s.nextID, appID: appID, account: account}
	if len(repos) > 0 {
		in.repos = map[string]bool{}
		for _, r := range repos {
			in.repos[strings.ToLower(r)] = true
		}
	}
	if s.installations == nil {
		s.installations = map[int64]*installation{}
	}
	s.installations[in.id] = in
	return in.id
}

// IssuedTokens counts the installation tokens the server has issued.
func (s *Server) IssuedTokens() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tokens)
}

func (s *Server) now() time.Time {
	if s.Clock != nil {
		return s.Clock()
	}
	return time.Now()
}

func (in *installation) covers(fullName string) bool {
	owner, _, _ := strings.Cut(fullName, "/")
	if !strings.EqualFold(owner, in.account) {
		return false
	}
	return in.repos == nil || in.repos[strings.ToLower(fullName)]
}

var (
	installationPath = regexp.MustCompile(`^/repos/[^/]+/[^/]+/installation$`)
	repoPath         = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)(?:/|$)`)
)

// jwtPath reports whether path is one of the endpoints that take the App's
// JWT, and no other credential.
func jwtPath(path string) bool {
	return strings.HasPrefix(path, "/app/") || path == "/app" || installationPath.MatchString(path)
}

// callerKey holds, in a request's context, the id of the App whose JWT
// authenticated it.
type callerKey struct{}

func caller(req *http.Request) int64 {
	id, _ := req.Context().Value(callerKey{}).(int64)
	return id
}

// authorize checks the bearer token of req as GitHub would and answers the
// refusal itself; it returns the request to go on with, or nil.
func (s *Server) authorize(w http.ResponseWriter, req *http.Request, token string) *http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	if jwtPath(req.URL.Path) {
		a, err := s.verifyJWT(token)
		if err != nil {
			writeJSON(w, http.StatusUnauthorized, apiError(err.Error(), "https://docs.github.com/rest"))
			return nil
		}
		return req.WithContext(context.WithValue(req.Context(), callerKey{}, a.id))
	}
	if !s.allowed(w, req, token) {
		return nil
	}
	return req
}

func (s *Server) allowed(w http.ResponseWriter, req *http.Request, token string) bool {
	path := req.URL.Path
	if it, ok := s.tokens[token]; ok {
		if !s.now().Before(it.expires) {
			writeJSON(w, http.StatusUnauthorized, apiError("Bad credentials", "https://docs.github.com/rest"))
			return false
		}
		// An installation token sees the installation's repositories only.
		if m := repoPath.FindStringSubmatch(path); m != nil && !s.installations[it.installation].covers(m[1]+"/"+m[2]) {
			writeJSON(w, http.StatusNotFound, apiError("Not Found", "https://docs.github.com/rest"))
			return false
		}
		return true
	}
	want, appToken := s.Token, s.AppToken
	if token == "" || (want != "" && token != want && token != appToken) || strings.Count(token, ".") == 2 && len(s.apps) > 0 {
		writeJSON(w, http.StatusUnauthorized, apiError("Bad credentials", "https://docs.github.com/rest"))
		return false
	}
	// Only GitHub Apps write check runs. Serve's any-token mode lets any
	// token through, unless an App was added: then only its tokens.
	if strings.Contains(path, "/check-runs") && req.Method != http.MethodGet && (appToken != "" || len(s.apps) > 0) && token != appToken {
		writeJSON(w, http.StatusForbidden, apiError("You must authenticate via a GitHub App.", "https://docs.github.com/rest/checks/runs#create-a-check-run"))
		return false
	}
	return true
}

// verifyJWT returns the App whose key signed token, or GitHub's complaint.
func (s *Server) verifyJWT(token string) (*app, error) {
	var signer *app
	now := s.now()
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		iss, err := t.Claims.GetIssuer()
		if err != nil {
			return nil, err
		}
		id, err := strconv.ParseInt(iss, 10, 64)
		if err != nil || s.apps[id] == nil {
			return nil, errIntegration
		}
		signer = s.apps[id]
		return signer.key, nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithExpirationRequired(), jwt.WithIssuedAt(),
		jwt.WithTimeFunc(func() time.Time { return now }))
	switch {
	case errors.Is(err, errIntegration):
		return nil, errIntegration
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, errors.New("'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires")
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return nil, errors.New("'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued")
	case err != nil:
		return nil, errors.New("A JSON web token could not be decoded")
	}
	exp, _ := claims.GetExpirationTime()
	iat, _ := claims.GetIssuedAt()
	if iat == nil {
		return nil, errors.New("'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued")
	}
	// GitHub takes JWTs that expire at most ten minutes from now.
	if exp.Sub(now) > 10*time.Minute || exp.Sub(iat.Time) > 11*time.Minute {
		return nil, errors.New("'Expiration time' claim ('exp') is too far in the future")
	}
	return signer, nil
}

var errIntegration = errors.New("Integration not found")

// findInstallation answers GET /repos/{owner}/{repo}/installation.
func (s *Server) findInstallation(w http.ResponseWriter, req *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	full := req.PathValue("owner") + "/" + req.PathValue("repo")
	for _, in := range s.installations {
		if in.appID == caller(req) && in.covers(full) {
			writeJSON(w, http.StatusOK, s.installationJSON(in))
			return
		}
	}
	writeJSON(w, http.StatusNotFound, apiError("Not Found", "https://docs.github.com/rest/apps/apps#get-a-repository-installation-for-the-authenticated-app"))
}

// createToken answers POST /app/installations/{id}/access_tokens.
func (s *Server) createToken(w http.ResponseWriter, req *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, _ := strconv.ParseInt(req.PathValue("id"), 10, 64)
	in := s.installations[id]
	if in == nil || in.appID != caller(req) {
		writeJSON(w, http.StatusNotFound, apiError("Not Found", "https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app"))
		return
	}
	b := make([]byte, 18)
	rand.Read(b)
	token := "ghs_" + hex.EncodeToString(b)
	expires := s.now().Add(TokenLifetime).UTC().Truncate(time.Second)
	if s.tokens == nil {
		s.tokens = map[string]issuedToken{}
	}
	s.tokens[token] = issuedToken{installation: id, expires: expires}
	writeJSON(w, http.StatusCreated, map[string]any{
		"token": token, "expires_at": expires.Format(time.RFC3339),
		"permissions": permissions, "repository_selection": selection(in),
	})
}

var permissions = map[string]string{"checks": "write", "statuses": "write", "contents": "read", "metadata": "read", "pull_requests": "read"}

func selection(in *installation) string {
	if in.repos == nil {
		return "all"
	}
	return "selected"
}

func (s *Server) installationJSON(in *installation) map[string]any {
	return map[string]any{
		"id": in.id, "app_id": in.appID, "app_slug": fmt.Sprintf("app-%d", in.appID),
		"target_type": "Organization", "target_id": 1,
		"account":              map[string]any{"login": in.account, "id": 1, "type": "Organization"},
		"access_tokens_url":    fmt.Sprintf("%s/app/installations/%d/access_tokens", s.URL, in.id),
		"repositories_url":     s.URL + "/installation/repositories",
		"html_url":             fmt.Sprintf("https://github.com/organizations/%s/settings/installations/%d", in.account, in.id),
		"repository_selection": selection(in), "permissions": permissions, "events": []string{"check_run"},
		"created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z",
	}
}
