package github

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	gogithub "github.com/google/go-github/v62/github"
	"github.com/pipewright/pipewright/pkg/boundedio"
)

// App authenticates as a GitHub App: it signs JWTs with the App's private
// key and trades them for installation tokens, which check runs need
// (GitHub refuses personal access tokens there).
type App struct {
	// ID is the App's id (its settings page shows it).
	ID int64
	// InstallationID is the App's installation on the repositories used;
	// zero looks it up per repository (GET /repos/{owner}/{repo}/installation).
	InstallationID int64
	// Key is the App's private key.
	Key *rsa.PrivateKey
	// Now reads the clock; time.Now when nil. Tests move it.
	Now func() time.Time
}

// ParseAppKey reads an App's private key: the PEM file GitHub lets one
// download (PKCS#1, "RSA PRIVATE KEY"), or the same key as PKCS#8.
func ParseAppKey(data []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block: want the App's private key as GitHub downloads it (-----BEGIN RSA PRIVATE KEY-----)")
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("RSA private key: %w", err)
		}
		return k, nil
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PKCS#8 private key: %w", err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("private key is a %T: GitHub Apps sign with RSA (RS256)", k)
		}
		return rk, nil
	}
	return nil, fmt.Errorf("PEM block %s: want RSA PRIVATE KEY (the App's key as GitHub downloads it)", boundedio.Quote(block.Type))
}

// ReadAppKey reads ParseAppKey's input from file.
func ReadAppKey(file string) (*rsa.PrivateKey, error) {
	data, err := boundedio.ReadFile(file, maxSecretBytes)
	if err != nil {
		return nil, fmt.Errorf("app key file: %w", err)
	}
	k, err := ParseAppKey(data)
	if err != nil {
		return nil, fmt.Errorf("app key file %s: %w", file, err)
	}
	return k, nil
}

// JWT lifetimes, as GitHub's docs advise: issued a minute in the past
// against clock drift, expiring within its ten-minute maximum.
const (
	jwtBackdate = time.Minute
	jwtLifetime = 9 * time.Minute
	// tokenMargin is how long before its expires_at an installation token
	// is replaced: a request started with it must not outlive it.
	tokenMargin = 5 * time.Minute
)

func (a *App) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// JWT returns a token that authenticates as the App for ten minutes at
// most: RS256 over {iat, exp, iss}.
func (a *App) JWT() (string, error) {
	if a.Key == nil {
		return "", errors.New("github app: no private key")
	}
	now := a.now()
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	claims, err := json.Marshal(map[string]any{
		"iat": now.Add(-jwtBackdate).Unix(),
		"exp": now.Add(jwtLifetime).Unix(),
		"iss": strconv.FormatInt(a.ID, 10),
	})
	if err != nil {
		return "", err
	}
	signed := header + "." + enc.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPKCS1v15(rand.Reader, a.Key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("github app: signing the JWT: %w", err)
	}
	return signed + "." + enc.EncodeToString(sig), nil
}

// appTokens hands out installation tokens for the repositories a client's
// requests name, each kept until shortly before it expires.
type appTokens struct {
	app  *App
	apps *gogithub.Client // authenticates with the App's JWT
	base string           // the API root's path, ending in /

	mu            sync.Mutex
	installations map[string]int64 // lower-case owner/name -> installation id
	tokens        map[int64]cachedToken
}

type cachedToken struct {
	token   string
	expires time.Time
}

func newAppTokens(app *App, base *url.URL, retry http.RoundTripper) *appTokens {
	t := &appTokens{app: app, base: base.Path, installations: map[string]int64{}, tokens: map[int64]cachedToken{}}
	hc := &http.Client{
		Transport: &hostAuth{scheme: base.Scheme, host: base.Host, next: retry, token: func(*http.Request) (string, error) {
			return app.JWT()
		}},
		Timeout:       time.Minute,
		CheckRedirect: sameHostRedirect(base),
	}
	t.apps = gogithub.NewClient(hc)
	t.apps.BaseURL = base
	t.apps.UserAgent = "pipewright"
	return t
}

// forRequest is the installation token for req: that of the configured
// installation, or of the one on the repository req's path names.
func (t *appTokens) forRequest(req *http.Request) (string, error) {
	id := t.app.InstallationID
	if id == 0 {
		owner, repo, ok := repoOf(strings.TrimPrefix(req.URL.Path, t.base))
		if !ok {
			return "", fmt.Errorf("%s %s: names no repository, so the App's installation is unknown: give its installation id", req.Method, req.URL.Path)
		}
		var err error
		if id, err = t.installation(req.Context(), owner, repo); err != nil {
			return "", err
		}
	}
	return t.token(req.Context(), id)
}

// repoOf reads owner and name from an API path such as repos/o/r/statuses/x.
func repoOf(path string) (string, string, bool) {
	parts := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 4)
	if len(parts) < 3 || parts[0] != "repos" || parts[1] == "" || parts[2] == "" {
		return "", "", false
	}
	return parts[1], parts[2], true
}

func (t *appTokens) installation(ctx context.Context, owner, repo string) (int64, error) {
	key := strings.ToLower(owner + "/" + repo)
	t.mu.Lock()
	id, ok := t.installations[key]
	t.mu.Unlock()
	if ok {
		return id, nil
	}
	inst, _, err := t.apps.Apps.FindRepositoryInstallation(ctx, owner, repo)
	if err != nil {
		return 0, fmt.Errorf("github app %d: finding its installation on %s/%s: %w", t.app.ID, owner, repo,
			explainApp(err, "the App is not installed on the repository (install it, or check github app id)"))
	}
	t.mu.Lock()
	t.installations[key] = inst.GetID()
	t.mu.Unlock()
	return inst.GetID(), nil
}

// token returns installation id's token, from the cache while it has more
// than tokenMargin left, else a new one. The lock is held across the
// exchange so concurrent requests wait for one token instead of minting many.
func (t *appTokens) token(ctx context.Context, id int64) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if c, ok := t.tokens[id]; ok && t.app.now().Before(c.expires.Add(-tokenMargin)) {
		return c.token, nil
	}
	tok, _, err := t.apps.Apps.CreateInstallationToken(ctx, id, nil)
	if err != nil {
		return "", fmt.Errorf("github app %d: installation %d token: %w", t.app.ID, id,
			explainApp(err, "no such installation of the App (check github app installationID)"))
	}
	if tok.GetToken() == "" {
		return "", fmt.Errorf("github app %d: installation %d: GitHub answered no token", t.app.ID, id)
	}
	c := cachedToken{token: tok.GetToken(), expires: tok.GetExpiresAt().Time}
	if c.expires.IsZero() {
		// GitHub always says; without it, use the token for this request only.
		c.expires = t.app.now()
	}
	t.tokens[id] = c
	return c.token, nil
}

// explainApp adds the usual cause of a 401 on the App endpoints, where the
// credential is the JWT.
func explainApp(err error, notFound string) error {
	err = explain(err, notFound)
	if strings.Contains(err.Error(), "HTTP 401") {
		return fmt.Errorf("%w (the App's JWT was refused: check github app id, its private key, and this machine's clock)", err)
	}
	return err
}
