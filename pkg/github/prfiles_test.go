package github

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/pipewright/pipewright/pkg/github/githubtest"
)

// PullRequestFiles follows the API's pages (100 a page) and keeps each
// path whole, commas included; max bounds the list and says it was cut.
func TestPullRequestFiles(t *testing.T) {
	srv := githubtest.New(t)
	srv.AddRepo(repo)
	var files []string
	for i := range 250 {
		files = append(files, fmt.Sprintf("services/api/f%03d.go", i))
	}
	files = append(files, "services/api/a,b.go")
	srv.AddPull(repo, githubtest.Pull{Number: 7, HeadSHA: sha, BaseRef: "main", Files: files})
	c, err := New(Options{APIURL: srv.URL, Token: srv.Token})
	if err != nil {
		t.Fatal(err)
	}
	got, truncated, err := c.PullRequestFiles(context.Background(), repo, 7, 0)
	if err != nil || truncated {
		t.Fatalf("PullRequestFiles = %v, %v", truncated, err)
	}
	if !reflect.DeepEqual(got, files) {
		t.Errorf("got %d files (last %q), want %d (last %q)", len(got), got[len(got)-1], len(files), files[len(files)-1])
	}
	pages := 0
	for _, r := range srv.Requests() {
		if r.Path == "/repos/"+repo+"/pulls/7/files" {
			pages++
		}
	}
	if pages != 3 {
		t.Errorf("%d page requests, want 3 of 100", pages)
	}

	got, truncated, err = c.PullRequestFiles(context.Background(), repo, 7, 120)
	if err != nil || !truncated || len(got) != 120 {
		t.Errorf("max 120: %d files, truncated %v, %v", len(got), truncated, err)
	}
	if _, _, err := c.PullRequestFiles(context.Background(), repo, 8, 0); err == nil {
		t.Error("an unknown pull request listed files")
	}
}
