package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipewright/pipewright/generator/generatortest"
	"github.com/pipewright/pipewright/generator/trigger"
)

// TestInterceptorServeFlags: the arguments the generated Deployment passes
// are accepted (the command gets as far as reading the token file), and
// contradictory TLS options are refused before anything starts.
func TestInterceptorServeFlags(t *testing.T) {
	cfg := generatortest.Config(t, "tools:\n  image: "+generatortest.ToolImage(t)+"\n")
	generated := trigger.InterceptorArgs(cfg.Config)
	if strings.Join(generated[:2], " ") != "interceptor serve" {
		t.Fatalf("generated args %v", generated)
	}
	token := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(token, []byte("t0ken\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Not in a Pod: no in-cluster credentials to publish the CA with.
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("KUBERNETES_SERVICE_PORT", "")
	for _, c := range []struct {
		args []string
		want string
	}{
		{generated[2:], "token file: open " + trigger.InterceptorTokenDir + "/token"},
		{[]string{"--self-signed-for=ci/api-interceptor", "--cluster-interceptor=ci.api", "--token-file=" + token, "--repository=o/r"}, "--namespace and --cluster-interceptor use the Pod's service account"},
		{[]string{"--namespace=ci", "--token-file=" + token, "--repository=o/r"}, "--namespace and --cluster-interceptor use the Pod's service account"},
		{[]string{"--token-file=" + token}, "--repository OWNER/NAME is required"},
		{[]string{"--tls-cert-file=c.pem"}, "--tls-cert-file and --tls-key-file go together"},
		{[]string{"--tls-key-file=k.pem"}, "--tls-cert-file and --tls-key-file go together"},
		{[]string{"--tls-cert-file=c.pem", "--tls-key-file=k.pem", "--token-file=" + token, "--repository=o/r"}, "TLS key pair c.pem, k.pem"},
		{[]string{"--tls-cert-file=c.pem", "--tls-key-file=k.pem", "--self-signed-for=ci/api-interceptor", "--cluster-interceptor=ci.api"}, "--self-signed-for makes its own certificate"},
		{[]string{"--self-signed-for=ci/api-interceptor"}, "--self-signed-for needs --cluster-interceptor NAME"},
		{[]string{"--cluster-interceptor=ci.api"}, "--cluster-interceptor goes with --self-signed-for"},
		{[]string{"--ca-secret=api-interceptor-tls"}, "--ca-secret goes with --self-signed-for"},
		{[]string{"--self-signed-for=api-interceptor", "--cluster-interceptor=ci.api"}, `--self-signed-for "api-interceptor": want NAMESPACE/SERVICE`},
	} {
		root := newRoot()
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetErr(&out)
		root.SetArgs(append([]string{"interceptor", "serve"}, c.args...))
		err := root.Execute()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q\n%s", c.args, err, c.want, out.String())
		}
	}
}
