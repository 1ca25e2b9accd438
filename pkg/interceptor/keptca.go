package interceptor

import (
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// Secrets is the core resource KeptCerts reads and writes.
var Secrets = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}

// Keys of the Secret KeptCerts keeps (a kubernetes.io/tls Secret, plus
// the CA's pair).
const (
	SecretCACert = "ca.crt"
	SecretCAKey  = "ca.key"
	SecretCert   = "tls.crt"
	SecretKey    = "tls.key"
)

// KeptCerts keeps the interceptor's CA and serving pair in one Secret of
// its namespace: made on first start, read back after a restart. A new CA
// would have to reach the ClusterInterceptor's caBundle and then every
// EventListener, which re-reads it about once a minute: deliveries in that
// window fail TLS. With the CA kept, a restarted Pod is trusted at once.
// The serving certificate is issued again from the kept CA RenewBefore it
// expires (Renew, run by Run), and written back.
type KeptCerts struct {
	Client             dynamic.Interface
	Namespace, Service string // the Service the certificate is for, and the Secret's namespace
	Secret             string
	Now                func() time.Time // default time.Now
	Logf               func(format string, args ...any)

	mu    sync.Mutex
	certs *SelfSigned
}

func (k *KeptCerts) now() time.Time {
	if k.Now != nil {
		return k.Now()
	}
	return time.Now()
}

func (k *KeptCerts) logf(format string, args ...any) {
	if k.Logf != nil {
		k.Logf(format, args...)
	}
}

// Current is the CA and serving pair in use (nil before Load).
func (k *KeptCerts) Current() *SelfSigned {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.certs
}

// GetCertificate serves the current serving certificate (tls.Config).
func (k *KeptCerts) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c := k.Current()
	if c == nil {
		return nil, errors.New("no serving certificate loaded yet")
	}
	return &c.Cert, nil
}

// Load reads the Secret, or creates it with a new CA when there is none,
// and renews a serving certificate that is near its end. Another Pod
// creating or renewing it at the same moment (a rolling update) is met by
// reading again: both end up with the same CA.
func (k *KeptCerts) Load(ctx context.Context) error {
	secrets := k.Client.Resource(Secrets).Namespace(k.Namespace)
	for attempt := 0; ; attempt++ {
		cur, err := secrets.Get(ctx, k.Secret, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			s, err := NewSelfSigned(k.Namespace, k.Service, k.now())
			if err != nil {
				return err
			}
			_, err = secrets.Create(ctx, k.secretObject(s), metav1.CreateOptions{FieldManager: "pipewright-interceptor"})
			if apierrors.IsAlreadyExists(err) && attempt < 3 {
				continue // another Pod made it first: use that one
			}
			if err != nil {
				return fmt.Errorf("create Secret %s/%s for the interceptor's CA: %w", k.Namespace, k.Secret, err)
			}
			k.logf("made a CA and kept it in Secret %s/%s", k.Namespace, k.Secret)
			k.set(s)
			return nil
		}
		if err != nil {
			return fmt.Errorf("read Secret %s/%s (the interceptor's CA): %w", k.Namespace, k.Secret, err)
		}
		s, perr := parseKept(cur)
		if perr != nil {
			// Unreadable (edited by hand, or not ours): start again
			// with a new CA; the Publisher puts it in the caBundle.
			k.logf("Secret %s/%s: %v; replacing it with a new CA", k.Namespace, k.Secret, perr)
			if s, err = NewSelfSigned(k.Namespace, k.Service, k.now()); err != nil {
				return err
			}
		} else if !k.due(s) {
			k.set(s)
			return nil
		} else if err := s.Issue(k.Namespace, k.Service, k.now()); err != nil {
			return err
		}
		if err := k.update(ctx, cur, s); err != nil {
			if apierrors.IsConflict(err) && attempt < 3 {
				continue // another Pod wrote it: read theirs
			}
			return err
		}
		k.set(s)
		return nil
	}
}

// due reports whether s's serving certificate must be issued again: it ends
// within RenewBefore, or is not for this Service.
func (k *KeptCerts) due(s *SelfSigned) bool {
	leaf := s.Cert.Leaf
	if leaf.VerifyHostname(ServiceDNSNames(k.Namespace, k.Service)[0]) != nil {
		return true
	}
	return !k.now().Add(RenewBefore).Before(leaf.NotAfter)
}

// Renew issues a new serving certificate from the kept CA when the current
// one is due, writes it to the Secret, and serves it. It reports whether
// it renewed.
func (k *KeptCerts) Renew(ctx context.Context) (bool, error) {
	cur := k.Current()
	if cur == nil {
		return false, errors.New("Renew before Load")
	}
	if !k.due(cur) {
		return false, nil
	}
	// Load reads the Secret again (another Pod may have renewed it
	// already) and issues and writes a new pair if it is still due.
	if err := k.Load(ctx); err != nil {
		return false, err
	}
	k.logf("serving certificate renewed from the kept CA, valid until %s", k.Current().Cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
	return true, nil
}

// Run calls Renew every interval (default an hour) until ctx ends; a
// failure is logged and tried again at the next tick, well before the
// certificate in use expires.
func (k *KeptCerts) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = time.Hour
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := k.Renew(ctx); err != nil && ctx.Err() == nil {
				k.logf("renewing the serving certificate: %v; trying again in %s", err, interval)
			}
		}
	}
}

func (k *KeptCerts) set(s *SelfSigned) {
	k.mu.Lock()
	k.certs = s
	k.mu.Unlock()
}

func (k *KeptCerts) secretData(s *SelfSigned) (map[string]any, error) {
	caKey, err := x509.MarshalECPrivateKey(s.CAKey)
	if err != nil {
		return nil, fmt.Errorf("CA key: %w", err)
	}
	key, ok := s.Cert.PrivateKey.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("serving key is %T, want ECDSA", s.Cert.PrivateKey)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("serving key: %w", err)
	}
	b64 := func(typ string, der []byte) string {
		return base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
	}
	return map[string]any{
		SecretCACert: base64.StdEncoding.EncodeToString(s.CAPEM),
		SecretCAKey:  b64("EC PRIVATE KEY", caKey),
		SecretCert:   b64("CERTIFICATE", s.Cert.Certificate[0]),
		SecretKey:    b64("EC PRIVATE KEY", keyDER),
	}, nil
}

func (k *KeptCerts) secretObject(s *SelfSigned) *unstructured.Unstructured {
	data, err := k.secretData(s)
	if err != nil {
		panic(err) // NewSelfSigned makes ECDSA keys, which always marshal
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]any{
			"name": k.Secret, "namespace": k.Namespace,
			"labels": map[string]any{"app.kubernetes.io/managed-by": "pipewright-interceptor"},
		},
		"type": "kubernetes.io/tls",
		"data": data,
	}}
}

// update writes s into cur (the Secret as read: its resourceVersion makes
// a concurrent write a conflict).
func (k *KeptCerts) update(ctx context.Context, cur *unstructured.Unstructured, s *SelfSigned) error {
	data, err := k.secretData(s)
	if err != nil {
		return err
	}
	next := cur.DeepCopy()
	next.Object["data"] = data
	if _, err := k.Client.Resource(Secrets).Namespace(k.Namespace).Update(ctx, next, metav1.UpdateOptions{FieldManager: "pipewright-interceptor"}); err != nil {
		return fmt.Errorf("write Secret %s/%s (the interceptor's CA): %w", k.Namespace, k.Secret, err)
	}
	return nil
}

// parseKept reads the CA and serving pair from a Secret, and checks that
// they belong together.
func parseKept(u *unstructured.Unstructured) (*SelfSigned, error) {
	data, _, _ := unstructured.NestedStringMap(u.Object, "data")
	get := func(key string) ([]byte, error) {
		b, err := base64.StdEncoding.DecodeString(data[key])
		if err != nil || len(b) == 0 {
			return nil, fmt.Errorf("no %s", key)
		}
		return b, nil
	}
	var pemOf [4][]byte
	for i, key := range []string{SecretCACert, SecretCAKey, SecretCert, SecretKey} {
		b, err := get(key)
		if err != nil {
			return nil, err
		}
		pemOf[i] = b
	}
	caPair, err := tls.X509KeyPair(pemOf[0], pemOf[1])
	if err != nil {
		return nil, fmt.Errorf("%s and %s: %w", SecretCACert, SecretCAKey, err)
	}
	caKey, ok := caPair.PrivateKey.(*ecdsa.PrivateKey)
	if !ok || !caPair.Leaf.IsCA {
		return nil, fmt.Errorf("%s is not an ECDSA CA", SecretCACert)
	}
	pair, err := tls.X509KeyPair(pemOf[2], pemOf[3])
	if err != nil {
		return nil, fmt.Errorf("%s and %s: %w", SecretCert, SecretKey, err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(caPair.Leaf)
	if _, err := pair.Leaf.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: pair.Leaf.NotBefore.Add(time.Hour), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		return nil, fmt.Errorf("%s is not signed by %s: %w", SecretCert, SecretCACert, err)
	}
	return &SelfSigned{CAPEM: pemOf[0], CA: caPair.Leaf, CAKey: caKey, Cert: pair}, nil
}
