package interceptor_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pipewright/pipewright/pkg/interceptor"
	"github.com/pipewright/pipewright/pkg/keys"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"
)

func caPool(t testing.TB, caPEM []byte) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatalf("the CA is not PEM:\n%s", caPEM)
	}
	return pool
}

// The serving certificate verifies, against the CA alone, for every name
// Triggers and Pods reach the Service by, and for no other; both keys are
// ECDSA, the CA signs nothing but certificates.
func TestSelfSignedVerifiesForTheService(t *testing.T) {
	now := time.Now()
	s, err := interceptor.NewSelfSigned("ci", "api-interceptor", now)
	if err != nil {
		t.Fatal(err)
	}
	roots := caPool(t, s.CAPEM)
	leaf := s.Cert.Leaf
	for _, name := range []string{"api-interceptor.ci.svc", "api-interceptor.ci.svc.cluster.local", "api-interceptor.ci", "api-interceptor"} {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, name := range []string{"api-interceptor.default.svc", "other.ci.svc", "example.com"} {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: roots}); err == nil {
			t.Errorf("verifies for %s", name)
		}
	}
	// Another CA's serving certificate does not verify against this one.
	other, err := interceptor.NewSelfSigned("ci", "api-interceptor", now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Cert.Leaf.Verify(x509.VerifyOptions{DNSName: "api-interceptor.ci.svc", Roots: roots}); err == nil {
		t.Error("a certificate from another CA verifies")
	}
	if _, ok := s.Cert.PrivateKey.(*ecdsa.PrivateKey); !ok {
		t.Errorf("serving key is %T, want ECDSA", s.Cert.PrivateKey)
	}
	block, _ := pem.Decode(s.CAPEM)
	ca, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !ca.IsCA || ca.KeyUsage&x509.KeyUsageCertSign == 0 || ca.PublicKeyAlgorithm != x509.ECDSA {
		t.Errorf("CA: IsCA %v, key usage %v, key %v", ca.IsCA, ca.KeyUsage, ca.PublicKeyAlgorithm)
	}
	if leaf.IsCA || !leaf.NotBefore.Before(now) || leaf.NotAfter.Before(now.Add(interceptor.ServingValidity-time.Minute)) || !ca.NotAfter.After(now.Add(5*365*24*time.Hour)) {
		t.Errorf("serving certificate: IsCA %v, valid %s to %s", leaf.IsCA, leaf.NotBefore, leaf.NotAfter)
	}
}

func TestParseServiceRef(t *testing.T) {
	if ns, svc, err := interceptor.ParseServiceRef("ci/api-interceptor"); err != nil || ns != "ci" || svc != "api-interceptor" {
		t.Errorf("ci/api-interceptor: %q %q %v", ns, svc, err)
	}
	for _, bad := range []string{"api-interceptor", "ci/", "/svc", "ci/Svc", "ci/a.b", "a/b/c"} {
		if _, _, err := interceptor.ParseServiceRef(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func clusterInterceptor(name string, labels map[string]any, caBundle string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "triggers.tekton.dev/v1alpha1", "kind": "ClusterInterceptor",
		"metadata": map[string]any{"name": name},
		"spec": map[string]any{"clientConfig": map[string]any{
			"service": map[string]any{"name": "api-interceptor", "namespace": "ci", "path": "/", "port": int64(8443)},
		}},
	}}
	if labels != nil {
		u.Object["metadata"].(map[string]any)["labels"] = labels
	}
	if caBundle != "" {
		unstructured.SetNestedField(u.Object, caBundle, "spec", "clientConfig", "caBundle")
	}
	return u
}

func fakeDynamic(objs ...runtime.Object) *dynamicfake.FakeDynamicClient {
	return dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{interceptor.ClusterInterceptors: "ClusterInterceptorList", interceptor.EventListeners: "EventListenerList"}, objs...)
}

func eventListener(ns, name string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "triggers.tekton.dev/v1beta1", "kind": "EventListener",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec": map[string]any{
			"serviceAccountName": "api-triggers",
			"resources": map[string]any{"kubernetesResource": map[string]any{"spec": map[string]any{"template": map[string]any{
				"metadata": map[string]any{"annotations": map[string]any{"team": "payments"}},
			}}}},
		},
	}}
}

// Once the CA is published, Run marks the EventListener's Pod template
// with the CA's digest (Triggers then starts its Pods again, and they read
// the caBundle at start), keeping what else the template has; it does not
// mark it again for the same CA, marks it anew for a new CA, and leaves
// other EventListeners alone. A missing EventListener is no error.
func TestPublisherRestartsTheListener(t *testing.T) {
	ctx := context.Background()
	s, err := interceptor.NewSelfSigned("ci", "api-interceptor", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	dc := fakeDynamic(clusterInterceptor("ci.api", nil, ""), eventListener("ci", "other-listener"))
	p := &interceptor.Publisher{Client: dc, Name: "ci.api", CA: s.CAPEM, Listener: "api-listener", Namespace: "ci"}
	if changed, err := p.RestartListener(ctx); err != nil || changed {
		t.Fatalf("no EventListener yet: RestartListener = %v, %v; want nothing done", changed, err)
	}
	if err := dc.Tracker().Create(interceptor.EventListeners, eventListener("ci", "api-listener"), "ci"); err != nil {
		t.Fatal(err)
	}
	mark := func(name string) map[string]string {
		t.Helper()
		got, err := dc.Resource(interceptor.EventListeners).Namespace("ci").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		a, _, _ := unstructured.NestedStringMap(got.Object, "spec", "resources", "kubernetesResource", "spec", "template", "metadata", "annotations")
		if sa, _, _ := unstructured.NestedString(got.Object, "spec", "serviceAccountName"); sa != "api-triggers" {
			t.Errorf("%s: the patch lost the service account: %v", name, got.Object)
		}
		return a
	}

	rc, cancel := context.WithCancel(ctx)
	published := make(chan struct{}, 1)
	done := make(chan struct{})
	p.Interval = 5 * time.Millisecond
	go func() { p.Run(rc, func() { published <- struct{}{} }); close(done) }()
	<-published
	deadline := time.Now().Add(5 * time.Second)
	for mark("api-listener")[keys.InterceptorCA] == "" && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	a := mark("api-listener")
	if a[keys.InterceptorCA] != interceptor.CADigest(s.CAPEM) || a["team"] != "payments" {
		t.Errorf("Pod template annotations %v, want %s=%s beside team=payments", a, keys.InterceptorCA, interceptor.CADigest(s.CAPEM))
	}
	if _, ok := mark("other-listener")[keys.InterceptorCA]; ok {
		t.Error("another EventListener was marked")
	}

	dc.ClearActions()
	if changed, err := p.RestartListener(ctx); err != nil || changed {
		t.Errorf("same CA: RestartListener = %v, %v; want nothing done", changed, err)
	}
	for _, a := range dc.Actions() {
		if a.GetVerb() != "get" {
			t.Errorf("the same CA marks the EventListener again (%s): its Pods would restart for nothing", a.GetVerb())
		}
	}
	s2, _ := interceptor.NewSelfSigned("ci", "api-interceptor", time.Now())
	p2 := &interceptor.Publisher{Client: dc, Name: "ci.api", CA: s2.CAPEM, Listener: "api-listener", Namespace: "ci"}
	if changed, err := p2.RestartListener(ctx); err != nil || !changed {
		t.Errorf("a new CA: RestartListener = %v, %v; want the EventListener marked", changed, err)
	}
	if got := mark("api-listener")[keys.InterceptorCA]; got != interceptor.CADigest(s2.CAPEM) || got == interceptor.CADigest(s.CAPEM) {
		t.Errorf("after a new CA the mark is %s, want the new CA's digest", got)
	}
}

// Refused (RBAC of an older release), marking the EventListener does not
// hold up readiness: the caBundle is what Triggers needs.
func TestPublisherReadyWhenTheListenerCannotBeMarked(t *testing.T) {
	s, err := interceptor.NewSelfSigned("ci", "api-interceptor", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	dc := fakeDynamic(clusterInterceptor("ci.api", nil, ""), eventListener("ci", "api-listener"))
	dc.PrependReactor("patch", "eventlisteners", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New(`eventlisteners.triggers.tekton.dev "api-listener" is forbidden`)
	})
	var logged atomic.Bool
	p := &interceptor.Publisher{Client: dc, Name: "ci.api", CA: s.CAPEM, Listener: "api-listener", Namespace: "ci",
		Interval: time.Hour, Logf: func(f string, a ...any) {
			if strings.Contains(fmt.Sprintf(f, a...), "forbidden") {
				logged.Store(true)
			}
		}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	published := make(chan struct{}, 1)
	go p.Run(ctx, func() { published <- struct{}{} })
	select {
	case <-published:
	case <-time.After(5 * time.Second):
		t.Fatal("not ready: a refused EventListener patch held up readiness")
	}
	deadline := time.Now().Add(5 * time.Second)
	for !logged.Load() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if !logged.Load() {
		t.Error("the refused patch was not logged")
	}
}

// Publish writes the CA into the caBundle (base64, as the API has it) and
// the server/type: https label, leaves the rest of the object alone, and
// does not write again what is already there.
func TestPublishCABundle(t *testing.T) {
	s, err := interceptor.NewSelfSigned("ci", "api-interceptor", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	// As Triggers' defaulting left it on create: server/type: http.
	dc := fakeDynamic(clusterInterceptor("ci.api", map[string]any{"server/type": "http"}, ""), clusterInterceptor("other.api", nil, ""))
	p := &interceptor.Publisher{Client: dc, Name: "ci.api", CA: s.CAPEM}
	changed, err := p.Publish(context.Background())
	if err != nil || !changed {
		t.Fatalf("Publish = %v, %v; want a change", changed, err)
	}
	got, err := dc.Resource(interceptor.ClusterInterceptors).Get(context.Background(), "ci.api", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b64, _, _ := unstructured.NestedString(got.Object, "spec", "clientConfig", "caBundle")
	if ca, _ := base64.StdEncoding.DecodeString(b64); string(ca) != string(s.CAPEM) {
		t.Errorf("caBundle %q, want the CA base64-encoded", b64)
	}
	if l := got.GetLabels()[interceptor.ServerTypeLabel]; l != "https" {
		t.Errorf("label %s = %q, want https", interceptor.ServerTypeLabel, l)
	}
	if port, _, _ := unstructured.NestedInt64(got.Object, "spec", "clientConfig", "service", "port"); port != 8443 {
		t.Errorf("the patch lost the service port: %v", got.Object)
	}
	other, _ := dc.Resource(interceptor.ClusterInterceptors).Get(context.Background(), "other.api", metav1.GetOptions{})
	if _, found, _ := unstructured.NestedString(other.Object, "spec", "clientConfig", "caBundle"); found {
		t.Error("another ClusterInterceptor was changed")
	}

	var patches []k8stesting.PatchAction
	for _, a := range dc.Actions() {
		if pa, ok := a.(k8stesting.PatchAction); ok {
			patches = append(patches, pa)
		}
	}
	if len(patches) != 1 || patches[0].GetName() != "ci.api" {
		t.Fatalf("patches %v, want one of ci.api", patches)
	}
	var patch map[string]any
	if err := json.Unmarshal(patches[0].GetPatch(), &patch); err != nil {
		t.Fatal(err)
	}
	if len(patch) != 2 || patch["metadata"] == nil || patch["spec"] == nil {
		t.Errorf("patch %s touches more than the label and the caBundle", patches[0].GetPatch())
	}

	dc.ClearActions()
	if changed, err := p.Publish(context.Background()); err != nil || changed {
		t.Errorf("second Publish = %v, %v; want no change", changed, err)
	}
	for _, a := range dc.Actions() {
		if a.GetVerb() != "get" {
			t.Errorf("an up-to-date caBundle is written again: %s", a.GetVerb())
		}
	}

	// Another process (a restart) publishes its own CA over the old one.
	s2, _ := interceptor.NewSelfSigned("ci", "api-interceptor", time.Now())
	p2 := &interceptor.Publisher{Client: dc, Name: "ci.api", CA: s2.CAPEM}
	if changed, err := p2.Publish(context.Background()); err != nil || !changed {
		t.Errorf("a new CA: Publish = %v, %v", changed, err)
	}
}

// Run retries until the ClusterInterceptor exists and the patch goes
// through (here: refused twice), then reports it published once, and puts
// the CA back when the object is applied again without it.
func TestPublisherRetriesUntilPublished(t *testing.T) {
	s, err := interceptor.NewSelfSigned("ci", "api-interceptor", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	dc := fakeDynamic() // not applied yet
	var refused atomic.Int32
	dc.PrependReactor("patch", "clusterinterceptors", func(k8stesting.Action) (bool, runtime.Object, error) {
		if refused.Add(1) <= 2 {
			return true, nil, errors.New("connection refused")
		}
		return false, nil, nil
	})
	var logs atomic.Int32
	p := &interceptor.Publisher{Client: dc, Name: "ci.api", CA: s.CAPEM, Interval: 5 * time.Millisecond,
		Backoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond, Logf: func(string, ...any) { logs.Add(1) }}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	published := make(chan struct{}, 10)
	done := make(chan struct{})
	go func() { p.Run(ctx, func() { published <- struct{}{} }); close(done) }()

	time.Sleep(20 * time.Millisecond)
	select {
	case <-published:
		t.Fatal("published before the ClusterInterceptor exists")
	default:
	}
	gvr := interceptor.ClusterInterceptors
	if err := dc.Tracker().Create(gvr, clusterInterceptor("ci.api", nil, ""), ""); err != nil {
		t.Fatal(err)
	}
	select {
	case <-published:
	case <-time.After(5 * time.Second):
		t.Fatal("never published")
	}
	if refused.Load() < 3 || logs.Load() < 3 {
		t.Errorf("%d patches, %d log lines: want the failures retried and logged", refused.Load(), logs.Load())
	}

	// kubectl delete and apply again: the caBundle is gone, Run restores it.
	if err := dc.Tracker().Delete(gvr, "", "ci.api"); err != nil {
		t.Fatal(err)
	}
	if err := dc.Tracker().Create(gvr, clusterInterceptor("ci.api", nil, ""), ""); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := dc.Resource(gvr).Get(context.Background(), "ci.api", metav1.GetOptions{})
		if b64, _, _ := unstructured.NestedString(got.Object, "spec", "clientConfig", "caBundle"); err == nil && b64 != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the caBundle was not restored")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return when its context ended")
	}
	if n := len(published); n != 0 {
		t.Errorf("published reported %d more times, want once", n)
	}
}

// The server serves TLS with the self-signed certificate to a client that
// trusts the CA alone and asks for SERVICE.NAMESPACE.svc, as Triggers does;
// /ready follows the publication; oversized requests are refused.
func TestServerTLSAndLimits(t *testing.T) {
	s, err := interceptor.NewSelfSigned("ci", "api-interceptor", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var ready atomic.Bool
	h := &interceptor.Interceptor{} // requests here never get far enough to ask GitHub
	srv := interceptor.NewServer("", h, ready.Load, interceptor.TLSConfig(func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return &s.Cert, nil }))
	if srv.ReadHeaderTimeout == 0 || srv.ReadTimeout == 0 || srv.WriteTimeout == 0 || srv.IdleTimeout == 0 {
		t.Errorf("timeouts unset: %+v", srv)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.ServeTLS(ln, "", "")
	defer srv.Close()

	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: caPool(t, s.CAPEM), MinVersion: tls.VersionTLS12},
		// Resolve the Service name to the test listener.
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, ln.Addr().String())
		},
	}}
	base := "https://api-interceptor.ci.svc:8443"
	get := func(path string) int {
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get(interceptor.ReadyPath); code != http.StatusServiceUnavailable {
		t.Errorf("ready before publication: %d", code)
	}
	ready.Store(true)
	if code := get(interceptor.ReadyPath); code != http.StatusOK {
		t.Errorf("ready after publication: %d", code)
	}

	big := `{"body": "` + strings.Repeat("x", interceptor.MaxRequestBytes) + `"}`
	resp, err := client.Post(base+"/", "application/json", strings.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a %d-byte request: %d %s", len(big), resp.StatusCode, body)
	}
	// A well-formed request gets the protocol's answer, not a transport error.
	resp, err = client.Post(base+"/", "application/json", strings.NewReader(`{"interceptor_params": {}}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "repository and defaultBranch are required") {
		t.Errorf("small request: %d %s", resp.StatusCode, body)
	}

	// A client that does not trust the CA, or asks for another name, fails.
	for _, c := range []struct {
		roots *x509.CertPool
		host  string
	}{{x509.NewCertPool(), "api-interceptor.ci.svc"}, {caPool(t, s.CAPEM), "other.ci.svc"}} {
		conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: c.roots, ServerName: c.host})
		if err == nil {
			conn.Close()
			t.Errorf("handshake as %s succeeded", c.host)
		}
	}
}

// --tls-cert-file and --tls-key-file: the pair is served, and read again
// when the files are replaced.
func TestFileCertificateReloads(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	write := func(s *interceptor.SelfSigned, mtime time.Time) {
		t.Helper()
		der, err := x509.MarshalPKCS8PrivateKey(s.Cert.PrivateKey)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Cert.Certificate[0]}), 0o600)
		os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
		os.Chtimes(certFile, mtime, mtime)
		os.Chtimes(keyFile, mtime, mtime)
	}
	if _, err := interceptor.FileCertificate(certFile, keyFile); err == nil {
		t.Error("missing files accepted")
	}
	first, _ := interceptor.NewSelfSigned("ci", "api-interceptor", time.Now())
	write(first, time.Now().Add(-time.Hour))
	get, err := interceptor.FileCertificate(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := get(nil)
	if string(c.Certificate[0]) != string(first.Cert.Certificate[0]) {
		t.Error("not the pair in the files")
	}
	second, _ := interceptor.NewSelfSigned("ci", "api-interceptor", time.Now())
	write(second, time.Now())
	if c, _ := get(nil); string(c.Certificate[0]) != string(second.Cert.Certificate[0]) {
		t.Error("the renewed pair is not served")
	}
	os.WriteFile(certFile, []byte("half written"), 0o600)
	os.Chtimes(certFile, time.Now().Add(time.Minute), time.Now().Add(time.Minute))
	if c, _ := get(nil); c == nil || string(c.Certificate[0]) != string(second.Cert.Certificate[0]) {
		t.Error("a broken renewal replaced the last good pair")
	}
}
