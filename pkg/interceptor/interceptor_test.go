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
		{body: "/ok-to-test EC26C3E57CA3A959CA5AAD62DE7213C562F8C821", want: interceptor.Command{Name: "ok-to-test", SHA: "ec26c3e57ca3a959ca5aad62de7213c562f8c821"}},
		{body: "/ok-to-test ec26c3e", wantErr: true},                                   // a prefix is cheap to collide with
		{body: "/ok-to-test ec26c3e57ca3a959ca5aad62de7213c562f8c82", wantErr: true},   // 39 digits
		{body: "/ok-to-test ec26c3e57ca3a959ca5aad62de7213c562f8c8210", wantErr: true}, // 41
		{body: "/ok-to-test", wantErr: true},
		{body: "/ok-to-test abc", wantErr: true},  // too short to name a commit
		{body: "/ok-to-test main", wantErr: true}, // a branch is not a commit
		{body: "/retest please", wantErr: true},
		{body: "/cancel", want: interceptor.Command{Name: "cancel"}},
		{body: "/cancel all", wantErr: true},
		{body: "/test api-pull-request", want: interceptor.Command{Name: "test", Pipeline: "api-pull-request"}},
		{body: "/test", wantErr: true},          // which pipeline?
		{body: "please /retest", wantErr: true}, // commands start a line
		{body: "/ok-to-test-all ec26c3e57ca3a959ca5aad62de7213c562f8c821", wantErr: true},
	} {
		got, err := interceptor.ParseCommand(c.body)
		if (err != nil) != c.wantErr || got != c.want {
			t.Errorf("ParseCommand(%q) = %+v, %v; want %+v, error %v", c.body, got, err, c.want, c.wantErr)
		}
	}
}
