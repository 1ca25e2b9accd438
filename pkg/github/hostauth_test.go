package github

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// authLog records the Authorization header of every request a server gets.
type authLog struct {
	mu    sync.Mutex
	auths []string
}

func (l *authLog) record(r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.auths = append(l.auths, r.Header.Get("Authorization"))
}

func (l *authLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.auths...)
}

// A GitHub API that answers with a redirect to another host must not hand
// that host the token: the client refuses to follow, and its transport adds
// the token for the configured host only.
func TestTokenStaysOnAPIHost(t *testing.T) {
	var other authLog
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		other.record(r)
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{}`))
	}))
	defer elsewhere.Close()
	var api authLog
	apiSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		api.record(r)
		http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer apiSrv.Close()

	c, err := New(Options{APIURL: apiSrv.URL, Token: "s3cret", Retry: &Retry{Attempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	err = c.SetStatus(context.Background(), Status{Repo: repo, SHA: sha, State: "success", Context: "ci"})
	if err == nil || !strings.Contains(err.Error(), "not following a GitHub API redirect to another host") {
		t.Errorf("err = %v, want the cross-host redirect refused", err)
	}
	if got := api.get(); len(got) != 1 || got[0] != "Bearer s3cret" {
		t.Errorf("API host got Authorization %q, want the token once", got)
	}
	if got := other.get(); len(got) != 0 {
		t.Errorf("the other host got %d requests (Authorization %q), want none", len(got), got)
	}

	// The transport alone: even a request that already carries the header
	// (as a followed redirect copies it) reaches another host without it.
	tr := &hostAuth{scheme: "http", host: strings.TrimPrefix(apiSrv.URL, "http://"), token: func(*http.Request) (string, error) { return "s3cret", nil }, next: http.DefaultTransport}
	req, _ := http.NewRequest("POST", elsewhere.URL+"/repos/octo/app/statuses/"+sha, strings.NewReader("{}"))
	req.Header.Set("Authorization", "Bearer s3cret")
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := other.get(); len(got) != 1 || got[0] != "" {
		t.Errorf("the other host got Authorization %q through the transport, want none", got)
	}
}

// Token and secret files are read with a limit and must be regular files.
func TestTokenFileBounded(t *testing.T) {
	dir := t.TempDir()
	big := dir + "/token"
	if err := os.WriteFile(big, []byte(strings.Repeat("t", maxSecretBytes+1)), 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := dir + "/fifo"
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadToken(big); err == nil || err.Error() != "token file: "+big+": input too large: more than 64 KiB, the limit for this input" {
		t.Errorf("big token file: %v", err)
	}
	if _, err := ReadToken(fifo); err == nil || err.Error() != "token file: "+fifo+": not a regular file (a named pipe); give a file" {
		t.Errorf("fifo token file: %v", err)
	}
	if _, err := ReadSecret(fifo); err == nil || err.Error() != "secret file: "+fifo+": not a regular file (a named pipe); give a file" {
		t.Errorf("fifo secret file: %v", err)
	}
}

// A bad value in a flag (a repository, a sha, a state) is quoted by a short
// prefix and its length, not echoed whole.
func TestErrorsQuoteAShortPrefix(t *testing.T) {
	huge := strings.Repeat("x", 1<<20)
	c, err := New(Options{APIURL: "http://127.0.0.1:1", Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []Status{
		{Repo: huge, SHA: sha, State: "success"},
		{Repo: repo, SHA: huge, State: "success"},
		{Repo: repo, SHA: sha, State: huge},
	} {
		err := c.SetStatus(context.Background(), st)
		if err == nil || len(err.Error()) > 300 || !strings.Contains(err.Error(), `"… (1048576 bytes)`) {
			t.Errorf("error of %d bytes: %.300s", len(fmt.Sprint(err)), err)
		}
	}
	if _, err := New(Options{APIURL: huge, Token: "t"}); err == nil || len(err.Error()) > 300 {
		t.Errorf("api url error of %d bytes", len(fmt.Sprint(err)))
	}
}
