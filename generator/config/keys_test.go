package config

import (
	"reflect"
	"testing"

	"github.com/pipewright/pipewright/pkg/keys"
)

// A struct tag cannot name a constant: the documented default of
// github.apiURL must still be the one keys defines.
func TestDocumentedGitHubAPIDefaultIsTheKey(t *testing.T) {
	f, ok := reflect.TypeOf(GitHub{}).FieldByName("APIURL")
	if !ok {
		t.Fatal("config.GitHub has no APIURL field")
	}
	if got := f.Tag.Get("default"); got != keys.GitHubAPIURL {
		t.Errorf("github.apiURL documents default %q, keys.GitHubAPIURL is %q", got, keys.GitHubAPIURL)
	}
}
