package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/pipewright/pipewright/pkg/interceptor"
	"github.com/spf13/cobra"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
)

// interceptorFlags are serve's options.
type interceptorFlags struct {
	addr               string
	github             githubOptions
	certFile, keyFile  string
	selfSignedFor      string // NAMESPACE/SERVICE
	clusterInterceptor string
	caSecret           string
	eventListener      string
	repositories       []string
	namespace          string
	timeout            time.Duration
	keepRuns           int
	drain              time.Duration
}

// check refuses contradictory TLS options: certificate files or a
// self-signed CA published to a ClusterInterceptor, or neither (plain HTTP).
func (f interceptorFlags) check() error {
	switch {
	case (f.certFile == "") != (f.keyFile == ""):
		return errors.New("--tls-cert-file and --tls-key-file go together")
	case f.certFile != "" && f.selfSignedFor != "":
		return errors.New("--self-signed-for makes its own certificate: leave out --tls-cert-file and --tls-key-file")
	case f.selfSignedFor != "" && f.clusterInterceptor == "":
		return errors.New("--self-signed-for needs --cluster-interceptor NAME, the ClusterInterceptor whose caBundle gets the CA")
	case f.clusterInterceptor != "" && f.selfSignedFor == "":
		return errors.New("--cluster-interceptor goes with --self-signed-for NAMESPACE/SERVICE")
	case f.caSecret != "" && f.selfSignedFor == "":
		return errors.New("--ca-secret goes with --self-signed-for NAMESPACE/SERVICE")
	case f.eventListener != "" && f.selfSignedFor == "":
		return errors.New("--event-listener goes with --self-signed-for NAMESPACE/SERVICE")
	}
	if f.selfSignedFor != "" {
		if _, _, err := interceptor.ParseServiceRef(f.selfSignedFor); err != nil {
			return fmt.Errorf("--self-signed-for %w", err)
		}
	}
	if len(f.repositories) == 0 {
		return errors.New("--repository OWNER/NAME is required: the interceptor answers only for the repositories it is given")
	}
	return nil
}

func interceptorCmd() *cobra.Command {
	var f interceptorFlags
	serve := &cobra.Command{
		Use:   "serve",
		Short: "Serve the pipewright ClusterInterceptor (ChatOps /retest and sha-bound /ok-to-test) over HTTPS or HTTP",
		Long: `Serve the pipewright ClusterInterceptor.

Triggers calls a ClusterInterceptor over HTTPS, trusting the CA in its spec.clientConfig.caBundle.
In a cluster, --self-signed-for NAMESPACE/SERVICE --cluster-interceptor NAME makes a CA and a
serving certificate for SERVICE.NAMESPACE.svc at startup, serves with it, and writes the CA into
that ClusterInterceptor's caBundle with the Pod's service account (get and patch on it), retrying
until it succeeds; ` + interceptor.ReadyPath + ` answers 200 from then on. With --ca-secret NAME the CA and
the serving pair are kept in that Secret of the namespace (created on first start, read after a
restart, so EventListeners keep trusting a restarted Pod), and the serving certificate is issued
again from the kept CA before it expires. --tls-cert-file and --tls-key-file
serve a certificate managed elsewhere (e.g. cert-manager, with its CA injected into the caBundle).
With neither it serves plain HTTP, for local tests.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.check(); err != nil {
				return err
			}
			gh, err := f.github.client(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context() // ends on SIGTERM or SIGINT (main)
			logf := func(format string, args ...any) {
				fmt.Fprintf(cmd.ErrOrStderr(), "pipewright interceptor: "+format+"\n", args...)
			}

			// Replay checks read the namespace's PipelineRuns with the
			// Pod's service account.
			var incluster *rest.Config
			if f.namespace != "" || f.selfSignedFor != "" {
				if incluster, err = rest.InClusterConfig(); err != nil {
					return fmt.Errorf("--namespace and --cluster-interceptor use the Pod's service account: %w", err)
				}
			}
			ic := &interceptor.Interceptor{GitHub: gh, Repositories: f.repositories, Namespace: f.namespace, Timeout: f.timeout, KeepRuns: f.keepRuns,
				Log: slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), nil))}
			if f.namespace != "" {
				dc, err := dynamic.NewForConfig(incluster)
				if err != nil {
					return err
				}
				ic.Runs = interceptor.ClusterRuns{Client: dc}
			}

			var tlsConfig *tls.Config
			ready := func() bool { return true }
			switch {
			case f.certFile != "":
				get, err := interceptor.FileCertificate(f.certFile, f.keyFile)
				if err != nil {
					return err
				}
				tlsConfig = interceptor.TLSConfig(get)
			case f.selfSignedFor != "":
				ns, svc, _ := interceptor.ParseServiceRef(f.selfSignedFor) // checked above
				dc, err := dynamic.NewForConfig(incluster)
				if err != nil {
					return err
				}
				var ca []byte
				var getCert func(*tls.ClientHelloInfo) (*tls.Certificate, error)
				if f.caSecret != "" {
					kept := &interceptor.KeptCerts{Client: dc, Namespace: ns, Service: svc, Secret: f.caSecret, Logf: logf}
					if err := kept.Load(ctx); err != nil {
						return err // the kubelet restarts the Pod
					}
					go kept.Run(ctx, time.Hour)
					ca, getCert = kept.Current().CAPEM, kept.GetCertificate
				} else {
					certs, err := interceptor.NewSelfSigned(ns, svc, time.Now())
					if err != nil {
						return err
					}
					ca = certs.CAPEM
					getCert = func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return &certs.Cert, nil }
				}
				var published atomic.Bool
				ready = published.Load
				p := &interceptor.Publisher{Client: dc, Name: f.clusterInterceptor, CA: ca, Listener: f.eventListener, Namespace: ns, Logf: logf}
				go p.Run(ctx, func() { published.Store(true) })
				tlsConfig = interceptor.TLSConfig(getCert)
			}

			srv := interceptor.NewServer(f.addr, ic, ready, tlsConfig)
			go interceptor.ShutdownAfterDrain(ctx, srv, f.drain)
			scheme := "HTTP"
			if tlsConfig != nil {
				scheme = "HTTPS"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "pipewright interceptor listening on %s (%s)\n", f.addr, scheme)
			if tlsConfig != nil {
				err = srv.ListenAndServeTLS("", "")
			} else {
				err = srv.ListenAndServe()
			}
			if err != nil && !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("interceptor: %w", err)
			}
			return nil
		},
	}
	fl := serve.Flags()
	fl.StringVar(&f.addr, "listen", ":8080", "address to listen on")
	f.github.addFlags(serve)
	fl.StringVar(&f.certFile, "tls-cert-file", "", "serve HTTPS with this certificate (PEM; read again when it changes)")
	fl.StringVar(&f.keyFile, "tls-key-file", "", "the key of --tls-cert-file (PEM)")
	fl.StringVar(&f.selfSignedFor, "self-signed-for", "", "NAMESPACE/SERVICE: serve HTTPS with a certificate for SERVICE.NAMESPACE.svc from a CA made at startup")
	fl.StringVar(&f.clusterInterceptor, "cluster-interceptor", "", "with --self-signed-for: the ClusterInterceptor whose spec.clientConfig.caBundle gets the CA")
	fl.StringVar(&f.caSecret, "ca-secret", "", "with --self-signed-for: keep the CA and serving pair in this Secret of NAMESPACE (made on first start), so a restart keeps the CA")
	fl.StringVar(&f.eventListener, "event-listener", "", "with --self-signed-for: the EventListener (in NAMESPACE) that calls this interceptor; once the CA is published its Pods start again, trusting it at once")
	fl.StringSliceVar(&f.repositories, "repository", nil, "OWNER/NAME the interceptor answers for (repeat for more); requests naming others are refused")
	fl.StringVar(&f.namespace, "namespace", "", "the namespace whose triggers it serves; replay checks list PipelineRuns there (in cluster)")
	fl.IntVar(&f.keepRuns, "keep-runs", 0, "with --namespace: finished runs kept per kind (pull-request, release); older ones are deleted (0 keeps all)")
	fl.DurationVar(&f.drain, "drain", interceptor.DefaultDrain, "on SIGTERM, keep serving this long (keep-alives off) before shutting down, while the Service stops routing here")
	fl.DurationVar(&f.timeout, "decision-timeout", interceptor.DefaultTimeout, "answer within this time, GitHub calls included (below the EventListener's timeout)")
	c := &cobra.Command{Use: "interceptor", Short: "The pipewright Triggers ClusterInterceptor"}
	c.AddCommand(serve)
	return c
}
