package interceptor_test

import (
	"testing"

	"github.com/pipewright/pipewright/pkg/interceptor"
)

func TestParseCommand(t *testing.T) {
	for _, c := range []struct {
		body    string
		want    interceptor.Command
		wantErr bool
	}{
		{body: "/retest", want: interceptor.Command{Name: "retest"}},
		{body: "looks good\r\n  /retest  \n", want: interceptor.Command{Name: "retest"}},
		{body: "/ok-to-test ABCDEF1", want: interceptor.Command{Name: "ok-to-test", SHA: "abcdef1"}},
		{body: "/ok-to-test", wantErr: true},
		{body: "/ok-to-test abc", wantErr: true},  // too short to name a commit
		{body: "/ok-to-test main", wantErr: true}, // a branch is not a commit
		{body: "/retest please", wantErr: true},
		{body: "please /retest", wantErr: true}, // commands start a line
		{body: "/ok-to-test-all 1234567", wantErr: true},
	} {
		got, err := interceptor.ParseCommand(c.body)
		if (err != nil) != c.wantErr || got != c.want {
			t.Errorf("ParseCommand(%q) = %+v, %v; want %+v, error %v", c.body, got, err, c.want, c.wantErr)
		}
	}
}
