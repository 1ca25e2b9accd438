package interceptor_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/pipewright/pipewright/pkg/interceptor"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"
)

func fakeSecrets(objs ...runtime.Object) *dynamicfake.FakeDynamicClient {
	return dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{interceptor.Secrets: "SecretList", interceptor.ClusterInterceptors: "ClusterInterceptorList"}, objs...)
}

func kept(dc *dynamicfake.FakeDynamicClient, now *time.Time) *interceptor.KeptCerts {
	return &interceptor.KeptCerts{Client: dc, Namespace: "ci", Service: "api-interceptor", Secret: "api-interceptor-tls",
		Now: func() time.Time { return *now }}
}

func secretData(t *testing.T, dc *dynamicfake.FakeDynamicClient) map[string]string {
	t.Helper()
	u, err := dc.Resource(interceptor.Secrets).Namespace("ci").Get(context.Background(), "api-interceptor-tls", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	data, _, _ := unstructured.NestedStringMap(u.Object, "data")
	data["type"], _, _ = unstructured.NestedString(u.Object, "type")
	return data
}

// The first start makes the CA and keeps it in the Secret; a restart (a new
// KeptCerts on the same API) serves under the same CA and the same serving
// certificate, without writing; the kept pair verifies for the Service.
func TestKeptCertsSurviveARestart(t *testing.T) {
	now := time.Now()
	dc := fakeSecrets()
	first := kept(dc, &now)
	if err := first.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	data := secretData(t, dc)
	if data["type"] != "kubernetes.io/tls" {
		t.Errorf("Secret type %q", data["type"])
	}
	for _, k := range []string{interceptor.SecretCACert, interceptor.SecretCAKey, interceptor.SecretCert, interceptor.SecretKey} {
		if data[k] == "" {
			t.Errorf("Secret has no %s", k)
		}
	}
	if ca, _ := base64.StdEncoding.DecodeString(data[interceptor.SecretCACert]); string(ca) != string(first.Current().CAPEM) {
		t.Error("the Secret's ca.crt is not the CA served under")
	}

	dc.ClearActions()
	second := kept(dc, &now)
	if err := second.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, a := range dc.Actions() {
		if a.GetVerb() != "get" {
			t.Errorf("a restart with a good Secret writes: %s", a.GetVerb())
		}
	}
	if string(second.Current().CAPEM) != string(first.Current().CAPEM) {
		t.Fatal("the restart made a new CA")
	}
	c, err := second.GetCertificate(nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(c.Certificate[0]) != string(first.Current().Cert.Certificate[0]) {
		t.Error("the restart serves another certificate")
	}
	if _, err := c.Leaf.Verify(x509.VerifyOptions{DNSName: "api-interceptor.ci.svc", Roots: caPool(t, first.Current().CAPEM)}); err != nil {
		t.Errorf("kept serving certificate: %v", err)
	}
}

// Before a restart's Load, nothing is served.
func TestKeptCertsNothingBeforeLoad(t *testing.T) {
	now := time.Now()
	k := kept(fakeSecrets(), &now)
	if _, err := k.GetCertificate(nil); err == nil {
		t.Error("a certificate before Load")
	}
	if _, err := k.Renew(context.Background()); err == nil {
		t.Error("Renew before Load succeeded")
	}
}

// RenewBefore the serving certificate's end, Renew issues a new one from the
// kept CA, writes it, and serves it; a client trusting only the CA (as the
// caBundle makes the EventListener) accepts the new one. Earlier, Renew
// does nothing.
func TestKeptCertsRenewFromTheKeptCA(t *testing.T) {
	now := time.Now()
	dc := fakeSecrets()
	k := kept(dc, &now)
	if err := k.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	old := k.Current()
	oldLeaf := old.Cert.Leaf
	if got := oldLeaf.NotAfter.Sub(now); got < interceptor.ServingValidity-time.Minute || got > interceptor.ServingValidity+time.Minute {
		t.Errorf("serving certificate valid for %s, want %s", got, interceptor.ServingValidity)
	}

	now = oldLeaf.NotAfter.Add(-interceptor.RenewBefore - time.Hour)
	if renewed, err := k.Renew(context.Background()); err != nil || renewed {
		t.Fatalf("Renew long before the end = %v, %v", renewed, err)
	}

	now = oldLeaf.NotAfter.Add(-interceptor.RenewBefore + time.Hour)
	renewed, err := k.Renew(context.Background())
	if err != nil || !renewed {
		t.Fatalf("Renew near the end = %v, %v", renewed, err)
	}
	cur := k.Current()
	if string(cur.CAPEM) != string(old.CAPEM) {
		t.Fatal("renewal changed the CA")
	}
	if !cur.Cert.Leaf.NotAfter.After(oldLeaf.NotAfter) {
		t.Errorf("renewed certificate ends %s, not after the old %s", cur.Cert.Leaf.NotAfter, oldLeaf.NotAfter)
	}
	if _, err := cur.Cert.Leaf.Verify(x509.VerifyOptions{DNSName: "api-interceptor.ci.svc", Roots: caPool(t, old.CAPEM), CurrentTime: now}); err != nil {
		t.Errorf("renewed certificate against the kept CA: %v", err)
	}
	data := secretData(t, dc)
	if b, _ := base64.StdEncoding.DecodeString(data[interceptor.SecretCert]); len(b) == 0 {
		t.Fatal("no tls.crt")
	} else if pair, err := tls.X509KeyPair(b, mustB64(t, data[interceptor.SecretKey])); err != nil || string(pair.Certificate[0]) != string(cur.Cert.Certificate[0]) {
		t.Errorf("the Secret does not hold the renewed pair: %v", err)
	}
	// A restart after the renewal reads the renewed pair.
	again := kept(dc, &now)
	if err := again.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if string(again.Current().Cert.Certificate[0]) != string(cur.Cert.Certificate[0]) {
		t.Error("a restart after renewal does not serve the renewed certificate")
	}

	// A restart that finds an expired serving certificate renews it at once.
	now = cur.Cert.Leaf.NotAfter.Add(time.Hour)
	late := kept(dc, &now)
	if err := late.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !late.Current().Cert.Leaf.NotAfter.After(now) || string(late.Current().CAPEM) != string(old.CAPEM) {
		t.Error("an expired serving certificate was not renewed from the kept CA on Load")
	}
}

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Two Pods starting together (a rolling update): the one whose create
// loses reads the winner's Secret and serves under the same CA.
func TestKeptCertsCreateRace(t *testing.T) {
	now := time.Now()
	dc := fakeSecrets()
	winner := kept(fakeSecrets(), &now)
	if err := winner.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	won, _ := winner.Client.Resource(interceptor.Secrets).Namespace("ci").Get(context.Background(), "api-interceptor-tls", metav1.GetOptions{})
	// Between this Pod's get (not found) and its create, the winner's
	// Secret appears.
	raced := false
	dc.PrependReactor("create", "secrets", func(k8stesting.Action) (bool, runtime.Object, error) {
		if !raced {
			raced = true
			if err := dc.Tracker().Create(interceptor.Secrets, won, "ci"); err != nil {
				t.Fatal(err)
			}
			return true, nil, apierrors.NewAlreadyExists(schema.GroupResource{Resource: "secrets"}, "api-interceptor-tls")
		}
		return false, nil, nil
	})
	loser := kept(dc, &now)
	if err := loser.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if string(loser.Current().CAPEM) != string(winner.Current().CAPEM) {
		t.Error("the Pod that lost the create race serves under its own CA")
	}
}

// A Secret that does not hold a usable pair (edited by hand) is replaced
// with a new CA; an API error is returned, not papered over.
func TestKeptCertsBadSecret(t *testing.T) {
	now := time.Now()
	bad := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]any{"name": "api-interceptor-tls", "namespace": "ci"},
		"data":     map[string]any{interceptor.SecretCACert: base64.StdEncoding.EncodeToString([]byte("not a certificate"))},
	}}
	dc := fakeSecrets(bad)
	var logged []string
	k := kept(dc, &now)
	k.Logf = func(f string, args ...any) { logged = append(logged, f) }
	if err := k.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if k.Current() == nil || len(logged) == 0 {
		t.Fatal("a bad Secret was neither replaced nor logged")
	}
	if ca, _ := base64.StdEncoding.DecodeString(secretData(t, dc)[interceptor.SecretCACert]); string(ca) != string(k.Current().CAPEM) {
		t.Error("the new CA was not written to the Secret")
	}

	denied := fakeSecrets()
	denied.PrependReactor("get", "secrets", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, "api-interceptor-tls", errors.New("RBAC"))
	})
	if err := kept(denied, &now).Load(context.Background()); err == nil || !apierrors.IsForbidden(errors.Unwrap(err)) {
		t.Errorf("Load with the get forbidden = %v", err)
	}
}

// End to end in the process: two servers in turn (a Pod and its restart)
// on the same kept Secret are both trusted by a client holding the CA the
// first one published, as an EventListener that has not re-read the
// caBundle yet is.
func TestKeptCertsRestartedServerIsTrusted(t *testing.T) {
	now := time.Now()
	dc := fakeSecrets()
	var trusted *x509.CertPool
	for i := range 2 {
		k := kept(dc, &now)
		if err := k.Load(context.Background()); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			trusted = caPool(t, k.Current().CAPEM)
		}
		srv := interceptor.NewServer("", &interceptor.Interceptor{}, nil, interceptor.TLSConfig(k.GetCertificate))
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go srv.ServeTLS(ln, "", "")
		client := &http.Client{Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: trusted, MinVersion: tls.VersionTLS12},
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, ln.Addr().String())
			},
		}}
		resp, err := client.Get("https://api-interceptor.ci.svc:8443" + interceptor.ReadyPath)
		if err != nil {
			t.Errorf("server %d: %v", i+1, err)
		} else {
			resp.Body.Close()
		}
		srv.Close()
	}
}
