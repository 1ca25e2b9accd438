package github

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pipewright/pipewright/pkg/github/githubtest"
)

const appID = 4242

var (
	keyOnce  sync.Once
	testKeys [2]*rsa.PrivateKey
)

// appKeys are two RSA keys: the App's, and another one.
func appKeys(t *testing.T) (*rsa.PrivateKey, *rsa.PrivateKey) {
	t.Helper()
	keyOnce.Do(func() {
		for i := range testKeys {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			testKeys[i] = k
		}
	})
	return testKeys[0], testKeys[1]
}

// appFixture is the test server with the App installed on octo's
// repositories, and one clock for the server and the App.
type appFixture struct {
	srv          *githubtest.Server
	installation int64
	now          time.Time
}

func newAppFixture(t *testing.T) *appFixture {
	t.Helper()
	key, _ := appKeys(t)
	f := &appFixture{srv: githubtest.New(t), now: time.Now().Truncate(time.Second)}
	f.srv.Clock = func() time.Time { return f.now }
	f.srv.AddRepo(repo, sha)
	f.srv.AddRepo("other/app", sha)
	f.srv.AddApp(appID, &key.PublicKey)
	f.installation = f.srv.Install(appID, "octo")
	return f
}

func (f *appFixture) client(t *testing.T, app App) *Client {
	t.Helper()
	app.Now = func() time.Time { return f.now }
	c, err := New(Options{APIURL: f.srv.URL, App: &app, Retry: &Retry{Attempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func run() CheckRun {
	return CheckRun{Repo: repo, SHA: sha, Name: "pipewright/app-pull-request", State: "pending"}
}

// The App finds its installation on the repository, trades its JWT for an
// installation token and writes the check run with it; the JWT carries
// GitHub's claims and is sent to the App endpoints only.
func TestAppWritesCheckRunWithInstallationToken(t *testing.T) {
	f := newAppFixture(t)
	key, _ := appKeys(t)
	c := f.client(t, App{ID: appID, Key: key})
	if _, err := c.SetCheckRun(context.Background(), run()); err != nil {
		t.Fatal(err)
	}
	reqs := f.srv.Requests()
	var got []string
	for _, r := range reqs {
		got = append(got, r.Method+" "+r.Path)
	}
	want := []string{
		"GET /repos/octo/app/installation",
		"POST /app/installations/" + itoa(f.installation) + "/access_tokens",
		"GET /repos/octo/app/commits/" + sha + "/check-runs",
		"POST /repos/octo/app/check-runs",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	jwt := strings.TrimPrefix(reqs[0].Auth, "Bearer ")
	if reqs[1].Auth != reqs[0].Auth {
		t.Errorf("the token exchange did not use the App's JWT")
	}
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("JWT %q has %d parts", jwt, len(parts))
	}
	var header, claims map[string]any
	for i, v := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatal(err)
		}
	}
	if header["alg"] != "RS256" {
		t.Errorf("alg %v, want RS256", header["alg"])
	}
	if claims["iss"] != "4242" || claims["iat"] != float64(f.now.Add(-time.Minute).Unix()) || claims["exp"] != float64(f.now.Add(9*time.Minute).Unix()) {
		t.Errorf("claims %v, want iss 4242, iat a minute ago, exp in nine minutes", claims)
	}
	for _, r := range reqs[2:] {
		if !strings.HasPrefix(r.Auth, "Bearer ghs_") {
			t.Errorf("%s %s authenticated with %.20q, want the installation token", r.Method, r.Path, r.Auth)
		}
	}
}

// An installation token is reused until five minutes before it expires,
// then replaced; the installation is looked up once.
func TestAppCachesTokenUntilShortlyBeforeExpiry(t *testing.T) {
	f := newAppFixture(t)
	key, _ := appKeys(t)
	c := f.client(t, App{ID: appID, Key: key})
	ctx := context.Background()
	for i, step := range []struct {
		advance time.Duration
		issued  int
	}{{0, 1}, {30 * time.Minute, 1}, {24 * time.Minute, 1}, {2 * time.Minute, 2}, {time.Minute, 2}} {
		f.now = f.now.Add(step.advance)
		if _, err := c.SetCheckRun(ctx, run()); err != nil {
			t.Fatalf("report %d: %v", i, err)
		}
		if n := f.srv.IssuedTokens(); n != step.issued {
			t.Errorf("after report %d (+%s): %d tokens issued, want %d", i, step.advance, n, step.issued)
		}
	}
	lookups := 0
	for _, r := range f.srv.Requests() {
		if strings.HasSuffix(r.Path, "/installation") {
			lookups++
		}
	}
	if lookups != 1 {
		t.Errorf("installation looked up %d times, want once", lookups)
	}
}

// A given installation id skips the lookup.
func TestAppWithInstallationID(t *testing.T) {
	f := newAppFixture(t)
	key, _ := appKeys(t)
	c := f.client(t, App{ID: appID, InstallationID: f.installation, Key: key})
	if _, err := c.SetCheckRun(context.Background(), run()); err != nil {
		t.Fatal(err)
	}
	if p := f.srv.Requests()[0].Path; !strings.HasPrefix(p, "/app/installations/") {
		t.Errorf("first request %s, want the token exchange", p)
	}
}

func TestAppRefusals(t *testing.T) {
	key, other := appKeys(t)
	for _, tc := range []struct {
		name string
		app  App
		skew time.Duration // the App's clock minus the server's
		repo string
		want string
	}{
		{"another key", App{ID: appID, Key: other}, 0, repo,
			"github app 4242: finding its installation on octo/app: GET /repos/octo/app/installation: HTTP 401 A JSON web token could not be decoded: the token is invalid or expired (check --token-file or GITHUB_TOKEN) (the App's JWT was refused: check github app id, its private key, and this machine's clock)"},
		{"unknown app", App{ID: 7, Key: key}, 0, repo, "HTTP 401 Integration not found"},
		{"clock behind", App{ID: appID, Key: key}, -20 * time.Minute, repo, "HTTP 401 'Expiration time' claim ('exp') must be a numeric value"},
		{"clock ahead", App{ID: appID, Key: key}, 5 * time.Minute, repo, "HTTP 401 'Issued at' claim ('iat')"},
		{"not installed", App{ID: appID, Key: key}, 0, "other/app",
			"github app 4242: finding its installation on other/app: GET /repos/other/app/installation: HTTP 404 Not Found: the App is not installed on the repository"},
		{"wrong installation", App{ID: appID, InstallationID: 99, Key: key}, 0, repo, "installation 99 token: POST /app/installations/99/access_tokens: HTTP 404 Not Found: no such installation of the App"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newAppFixture(t)
			tc.app.Now = func() time.Time { return f.now.Add(tc.skew) }
			c, err := New(Options{APIURL: f.srv.URL, App: &tc.app, Retry: &Retry{Attempts: 1}})
			if err != nil {
				t.Fatal(err)
			}
			r := run()
			r.Repo = tc.repo
			_, err = c.SetCheckRun(context.Background(), r)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v\nwant it to contain %s", err, tc.want)
			}
			if n := f.srv.IssuedTokens(); n != 0 && tc.name != "wrong installation" {
				t.Errorf("%d tokens issued", n)
			}
		})
	}
}

// An installation token only reaches the installation's repositories, and
// the App's JWT is no token for the rest of the API.
func TestInstallationTokenScope(t *testing.T) {
	f := newAppFixture(t)
	key, _ := appKeys(t)
	other := f.srv.Install(appID, "other")
	c := f.client(t, App{ID: appID, InstallationID: other, Key: key})
	_, err := c.SetCheckRun(context.Background(), run())
	if err == nil || !strings.Contains(err.Error(), "HTTP 404") {
		t.Errorf("a token of other's installation on octo/app: %v, want 404", err)
	}
	jwt, err := (&App{ID: appID, Key: key, Now: func() time.Time { return f.now }}).JWT()
	if err != nil {
		t.Fatal(err)
	}
	byJWT, err := New(Options{APIURL: f.srv.URL, Token: jwt, Retry: &Retry{Attempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = byJWT.SetCheckRun(context.Background(), run())
	if err == nil || !strings.Contains(err.Error(), "HTTP 401 Bad credentials") {
		t.Errorf("the App's JWT on the check runs API: %v, want 401", err)
	}
}

func TestParseAppKey(t *testing.T) {
	key, _ := appKeys(t)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	for _, tc := range []struct {
		name, pem, err string
	}{
		{"pkcs1", string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})), ""},
		{"pkcs8", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})), ""},
		{"ec", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER})), "private key is a *ecdsa.PrivateKey: GitHub Apps sign with RSA (RS256)"},
		{"public", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1}})), `PEM block "PUBLIC KEY": want RSA PRIVATE KEY`},
		{"token", "ghp_0123456789", "no PEM block"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseAppKey([]byte(tc.pem))
			if tc.err == "" {
				if err != nil || !got.Equal(key) {
					t.Fatalf("got %v, %v", got != nil, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("got %v, want %s", err, tc.err)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// The App's JWT and its installation tokens stay on the API host too: a
// redirect of the installation lookup to another host is not followed.
func TestAppCredentialsStayOnAPIHost(t *testing.T) {
	var other authLog
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		other.record(r)
		w.Write([]byte(`{"id": 1}`))
	}))
	defer elsewhere.Close()
	apiSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer apiSrv.Close()
	key, _ := appKeys(t)
	c, err := New(Options{APIURL: apiSrv.URL, App: &App{ID: appID, Key: key}, Retry: &Retry{Attempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.SetCheckRun(context.Background(), run())
	if err == nil || !strings.Contains(err.Error(), "not following a GitHub API redirect to another host") {
		t.Errorf("err = %v, want the cross-host redirect refused", err)
	}
	if got := other.get(); len(got) != 0 {
		t.Errorf("the other host got %d requests (Authorization %q), want none", len(got), got)
	}
}
