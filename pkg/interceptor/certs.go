package interceptor

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Triggers' EventListeners call a ClusterInterceptor over HTTPS when its
// spec.clientConfig.caBundle is set, at SERVICE.NAMESPACE.svc, and trust the
// CAs in the caBundles of ClusterInterceptors labelled server/type: https.
// SelfSigned makes what the pipewright interceptor serves with in that
// setting: a CA of its own and a serving certificate it signed for the
// Service's DNS names. The CA goes to the ClusterInterceptor's caBundle (see
// Publisher); KeptCerts keeps both in a Secret, so a restarted Pod serves
// under the CA the EventListeners already trust.

// SelfSigned is a CA and the serving certificate it signed.
type SelfSigned struct {
	// CAPEM is the CA certificate, PEM encoded: the caBundle.
	CAPEM []byte
	// CA and CAKey sign serving certificates (Issue).
	CA    *x509.Certificate
	CAKey *ecdsa.PrivateKey
	// Cert is the serving certificate with its key, for tls.Config.
	Cert tls.Certificate
}

// caValidity is how long the CA is valid: it is kept (KeptCerts) and
// trusted through the caBundle, which Triggers re-reads only about once a
// minute, so it outlives any install.
const caValidity = 10 * 365 * 24 * time.Hour

// ServingValidity is how long a serving certificate is valid; KeptCerts
// issues a new one from the kept CA RenewBefore its end.
const (
	ServingValidity = 90 * 24 * time.Hour
	RenewBefore     = 30 * 24 * time.Hour
)

// ServiceDNSNames are the names a Service is reached by inside the cluster;
// Triggers uses SERVICE.NAMESPACE.svc.
func ServiceDNSNames(namespace, service string) []string {
	return []string{
		service + "." + namespace + ".svc",
		service + "." + namespace + ".svc.cluster.local",
		service + "." + namespace,
		service,
	}
}

// ParseServiceRef reads NAMESPACE/SERVICE.
func ParseServiceRef(s string) (namespace, service string, err error) {
	ns, svc, ok := strings.Cut(s, "/")
	if !ok {
		return "", "", fmt.Errorf("%q: want NAMESPACE/SERVICE", s)
	}
	for _, part := range []string{ns, svc} {
		if msgs := validation.IsDNS1123Label(part); len(msgs) > 0 {
			return "", "", fmt.Errorf("%q: %q is not a Kubernetes name: %s", s, part, strings.Join(msgs, "; "))
		}
	}
	return ns, svc, nil
}

// NewSelfSigned makes an ECDSA P-256 CA and a serving certificate signed by
// it for the Service's DNS names, valid from now (less an hour of clock
// skew).
func NewSelfSigned(namespace, service string, now time.Time) (*SelfSigned, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("CA key: %w", err)
	}
	caSerial, err := serial()
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          caSerial,
		Subject:               pkix.Name{CommonName: "pipewright interceptor CA for " + namespace + "/" + service},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("CA certificate: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	s := &SelfSigned{CAPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), CA: ca, CAKey: caKey}
	if err := s.Issue(namespace, service, now); err != nil {
		return nil, err
	}
	return s, nil
}

// Issue replaces the serving certificate (and its key) with a new one from
// the same CA, valid ServingValidity from now (less an hour of clock skew),
// never past the CA's own end.
func (s *SelfSigned) Issue(namespace, service string, now time.Time) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("serving key: %w", err)
	}
	leafSerial, err := serial()
	if err != nil {
		return err
	}
	names := ServiceDNSNames(namespace, service)
	notAfter := now.Add(ServingValidity)
	if notAfter.After(s.CA.NotAfter) {
		notAfter = s.CA.NotAfter
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: leafSerial,
		Subject:      pkix.Name{CommonName: names[0]},
		DNSNames:     names,
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, s.CA, &key.PublicKey, s.CAKey)
	if err != nil {
		return fmt.Errorf("serving certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(leafDER)
	if err != nil {
		return err
	}
	s.Cert = tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: key, Leaf: leaf}
	return nil
}

func serial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("certificate serial: %w", err)
	}
	return n, nil
}

// FileCertificate serves the key pair in certFile and keyFile (PEM), and
// reads them again when either changes (cert-manager and the kubelet
// replace a mounted Secret's files when it is renewed). A pair that fails
// to load at startup is an error; a bad pair later keeps the last good one.
func FileCertificate(certFile, keyFile string) (func(*tls.ClientHelloInfo) (*tls.Certificate, error), error) {
	r := &fileCert{certFile: certFile, keyFile: keyFile}
	if err := r.load(); err != nil {
		return nil, err
	}
	return r.get, nil
}

type fileCert struct {
	certFile, keyFile string
	mu                sync.Mutex
	cert              *tls.Certificate
	stamp             string // the files' modification times when loaded
}

func (r *fileCert) modStamp() string {
	var b strings.Builder
	for _, f := range []string{r.certFile, r.keyFile} {
		if fi, err := os.Stat(f); err == nil {
			b.WriteString(fi.ModTime().String())
		}
		b.WriteString("|")
	}
	return b.String()
}

func (r *fileCert) load() error {
	stamp := r.modStamp()
	c, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("TLS key pair %s, %s: %w", r.certFile, r.keyFile, err)
	}
	r.cert, r.stamp = &c, stamp
	return nil
}

func (r *fileCert) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.modStamp() != r.stamp {
		// On an error (a renewal half written) the last good pair stays,
		// and the next handshake tries again.
		_ = r.load()
	}
	return r.cert, nil
}
