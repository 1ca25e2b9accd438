package controlplane

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pipewright/pipewright/pkg/github/githubtest"
	"github.com/pipewright/pipewright/test/gitserver"
)

const (
	etcdURL   = "http://127.0.0.1:2379"
	apiServer = "https://127.0.0.1:6443"
)

// Options says what to install.
type Options struct {
	Pipelines bool // Tekton Pipelines: controller and webhook
	Triggers  bool // Tekton Triggers: controller, webhook, core interceptors (needs Pipelines)
	// Node runs a real node: containerd, kubelet, kube-scheduler,
	// kube-controller-manager, an OCI registry with stand-in step images,
	// Tekton's helper images and the pipewright tool image (see node.go).
	// Without it Pods stay Pending.
	Node bool
	// Progress receives one line per step; nil means os.Stderr.
	Progress io.Writer
	// Dir is the state folder (logs, kubeconfig, node state); empty means a
	// new temporary folder. Stop removes it unless asked to keep logs.
	Dir string
}

// ControlPlane is a running API server with Tekton installed, inside a
// Sandbox.
type ControlPlane struct {
	sandbox *Sandbox
	dir     string
	logDir  string
	pki     *pki
	token   string // the admin's bearer token
	// nodeToken authenticates the kubelet as system:node:<NodeName>.
	nodeToken string
	node      *node // nil without Options.Node
	// stopProvisioner ends the volume provisioner's loop.
	stopProvisioner func()
	// Git serves bare repositories placed under Git.Root at Git.URL, and
	// GitHub is the GitHub API test server, both on the node's address so
	// Pods reach them. Nil without Options.Node.
	Git    *gitserver.Server
	GitHub *githubtest.Server
	// Kubeconfig is an admin (system:masters) kubeconfig for the tests.
	Kubeconfig string
	progress   io.Writer
	started    time.Time

	proxy    serviceProxy
	mu       sync.Mutex
	procs    []*process
	hosts    map[string]string
	nextPort int
	versions map[string]string // release name -> version
	services map[string][]string
	// gatewayAPI installs the Gateway API CRDs once (gateway.go).
	gatewayAPI    sync.Once
	gatewayAPIErr error
}

// Start runs etcd and kube-apiserver and installs what opts asks for. Call
// Stop when done, also on failure; Start cleans up after itself if it fails.
func Start(ctx context.Context, sb *Sandbox, opts Options) (_ *ControlPlane, err error) {
	dir := opts.Dir
	if dir == "" {
		dir, err = os.MkdirTemp("", "pipewright-e2e-")
	} else {
		err = os.MkdirAll(dir, 0o700)
	}
	if err != nil {
		return nil, err
	}
	cp := &ControlPlane{
		sandbox:  sb,
		dir:      dir,
		logDir:   filepath.Join(dir, "logs"),
		progress: opts.Progress,
		started:  time.Now(),
		hosts:    map[string]string{},
		nextPort: 20000,
		versions: map[string]string{},
	}
	if cp.progress == nil {
		cp.progress = os.Stderr
	}
	defer func() {
		if err != nil {
			cp.stop(true)
			err = fmt.Errorf("%w\nlogs: %s", err, cp.logDir)
		}
	}()
	if err := os.MkdirAll(cp.logDir, 0o755); err != nil {
		return nil, err
	}
	if opts.Node {
		cp.node = &node{dir: filepath.Join(dir, "node")}
		if err := os.MkdirAll(cp.node.dir, 0o755); err != nil {
			return nil, err
		}
	}
	if err := cp.startAPIServer(ctx); err != nil {
		return nil, err
	}
	if cp.node != nil {
		// Before Tekton: its controller is started with the helper images
		// the node's registry holds.
		if err := cp.startNode(ctx); err != nil {
			return nil, err
		}
	}
	if opts.Triggers && !opts.Pipelines {
		return nil, errors.New("Tekton Triggers needs Tekton Pipelines installed")
	}
	var releases []*release
	if opts.Pipelines {
		// resolvers/ is the remote-resolution Deployment and its namespace;
		// the catalog is applied as Tasks, so nothing resolves remotely.
		r, err := cp.loadRelease("tekton-pipelines", "resolvers")
		if err != nil {
			return nil, err
		}
		releases = append(releases, r)
	}
	if opts.Triggers {
		r, err := cp.loadRelease("tekton-triggers")
		if err != nil {
			return nil, err
		}
		releases = append(releases, r)
	}
	if len(releases) > 0 {
		if err := cp.install(ctx, releases); err != nil {
			return nil, err
		}
	}
	if cp.node != nil {
		// Last: Services whose backends the harness runs were routed above.
		cp.node.stopPodServices = cp.startPodServices(cp.node.client)
	}
	cp.logf("control plane ready")
	return cp, nil
}

func (cp *ControlPlane) logf(format string, args ...any) {
	fmt.Fprintf(cp.progress, "controlplane: %5.1fs %s\n", time.Since(cp.started).Seconds(), fmt.Sprintf(format, args...))
}

func (cp *ControlPlane) startAPIServer(ctx context.Context) error {
	etcd, err := cp.sandbox.Binaries.Get("etcd/etcd")
	if err != nil {
		return err
	}
	apiserver, err := cp.sandbox.Binaries.Get("kube-apiserver/kube-apiserver")
	if err != nil {
		return err
	}
	cp.pki, err = newPKI(cp.dir,
		[]net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.96.0.1")},
		[]string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"})
	if err != nil {
		return err
	}
	cp.token = randomHex(16)
	cp.nodeToken = randomHex(16)
	tokens := filepath.Join(cp.dir, "tokens.csv")
	// The kubelet is a node to the Node authorizer: user system:node:<name>
	// in group system:nodes.
	lines := cp.token + ",admin,admin,system:masters\n" +
		cp.nodeToken + ",system:node:" + NodeName + ",node," + "system:nodes\n"
	if err := os.WriteFile(tokens, []byte(lines), 0o600); err != nil {
		return err
	}
	cp.Kubeconfig = filepath.Join(cp.dir, "kubeconfig")
	if err := os.WriteFile(cp.Kubeconfig, cp.kubeconfig(cp.token), 0o600); err != nil {
		return err
	}

	cp.logf("starting etcd")
	p, err := startProcess(cp.logDir, "etcd", etcd, []string{
		"--name=e2e",
		"--data-dir=" + filepath.Join(cp.dir, "etcd"),
		"--listen-client-urls=" + etcdURL,
		"--advertise-client-urls=" + etcdURL,
		"--listen-peer-urls=http://127.0.0.1:2380",
		"--initial-advertise-peer-urls=http://127.0.0.1:2380",
		"--initial-cluster=e2e=http://127.0.0.1:2380",
		// A test cluster's data is thrown away; fsync only costs time.
		"--unsafe-no-fsync",
		"--log-level=warn",
	}, nil)
	if err != nil {
		return err
	}
	cp.addProcess(p)
	if err := cp.waitHTTP(ctx, p, etcdURL+"/health", nil, "etcd"); err != nil {
		return err
	}

	cp.logf("starting kube-apiserver")
	p, err = startProcess(cp.logDir, "kube-apiserver", apiserver, []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=6443",
		"--cert-dir=" + filepath.Join(cp.dir, "apiserver-certs"),
		"--tls-cert-file=" + cp.pki.certFile,
		"--tls-private-key-file=" + cp.pki.keyFile,
		"--token-auth-file=" + tokens,
		"--authorization-mode=Node,RBAC",
		// kubectl logs and exec reach the kubelet at the node's address.
		"--kubelet-preferred-address-types=InternalIP",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + cp.pki.saKeyFile,
		"--service-account-signing-key-file=" + cp.pki.saKeyFile,
		"--service-cluster-ip-range=" + ServiceCIDR,
		// Endpoints may not hold loopback addresses; nothing reads the
		// kubernetes Service's endpoints here anyway.
		"--endpoint-reconciler-type=none",
		"--allow-privileged=true",
		"--profiling=false",
		// Every 5 minutes per resource (some 100 here, with the CRDs) the
		// cache's consistency check lists it from etcd and digests it: a
		// few percent of a loaded 2-core machine, for a check of the
		// apiserver's own cache that this suite does not test.
		"--feature-gates=DetectCacheInconsistency=false",
	}, nil)
	if err != nil {
		return err
	}
	cp.addProcess(p)
	return cp.waitHTTP(ctx, p, apiServer+"/readyz", map[string]string{"Authorization": "Bearer " + cp.token}, "kube-apiserver")
}

// waitHTTP polls url until it answers 200, failing early if p exits.
func (cp *ControlPlane) waitHTTP(ctx context.Context, p *process, url string, header map[string]string, what string) error {
	pool := x509.NewCertPool()
	if cp.pki != nil {
		pool.AppendCertsFromPEM(cp.pki.caCert)
	}
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer client.CloseIdleConnections()
	var last string
	err := poll(ctx, 2*time.Minute, 200*time.Millisecond, func() (bool, error) {
		if err := p.exited(); err != nil {
			return false, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return false, err
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			last = err.Error()
			return false, nil
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		last = fmt.Sprintf("%s: %s", resp.Status, body)
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for %s at %s (last answer: %s): %w", what, url, last, err)
	}
	cp.logf("%s ready", what)
	return nil
}

// poll calls f every interval until it returns true or an error, or timeout.
func poll(ctx context.Context, timeout, interval time.Duration, f func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		ok, err := f()
		if err != nil || ok {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("gave up after %s: %w", timeout, ctx.Err())
		case <-time.After(interval):
		}
	}
}

func (cp *ControlPlane) kubeconfig(token string) []byte {
	cfg := map[string]any{
		"apiVersion":      "v1",
		"kind":            "Config",
		"current-context": "e2e",
		"clusters": []any{map[string]any{"name": "e2e", "cluster": map[string]any{
			"server":                     apiServer,
			"certificate-authority-data": base64.StdEncoding.EncodeToString(cp.pki.caCert),
		}}},
		"users":    []any{map[string]any{"name": "e2e", "user": map[string]any{"token": token}}},
		"contexts": []any{map[string]any{"name": "e2e", "context": map[string]any{"cluster": "e2e", "user": "e2e"}}},
	}
	b, _ := json.MarshalIndent(cfg, "", "  ")
	return b
}

// Kubectl runs the real kubectl as the admin, with stdin if not nil, and
// returns its stdout. The error carries stderr.
func (cp *ControlPlane) Kubectl(ctx context.Context, stdin []byte, args ...string) ([]byte, error) {
	bin, err := cp.sandbox.Binaries.Get("kubectl/kubectl")
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, append([]string{"--kubeconfig=" + cp.Kubeconfig}, args...)...)
	cmd.Env = baseEnv()
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// KubectlPath is the kubectl binary, for tests that run it themselves.
func (cp *ControlPlane) KubectlPath() string { return cp.sandbox.Binaries["kubectl/kubectl"] }

func (cp *ControlPlane) clusterIP(ctx context.Context, namespace, name string) (string, error) {
	out, err := cp.Kubectl(ctx, nil, "get", "service", name, "-n", namespace, "-o", "jsonpath={.spec.clusterIP}")
	if err != nil {
		return "", err
	}
	ip := strings.TrimSpace(string(out))
	if net.ParseIP(ip) == nil {
		return "", fmt.Errorf("service %s/%s has no ClusterIP (%q)", namespace, name, ip)
	}
	return ip, nil
}

func (cp *ControlPlane) addProcess(p *process) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.procs = append(cp.procs, p)
}

func (cp *ControlPlane) allocPort() int {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.nextPort++
	return cp.nextPort
}

func (cp *ControlPlane) addHost(ip string, names ...string) error {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	for _, n := range names {
		cp.hosts[n] = ip
	}
	return cp.sandbox.setHosts(cp.hosts)
}

// Healthy reports the first process that has exited, with its last log lines.
func (cp *ControlPlane) Healthy() error {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	for _, p := range cp.procs {
		if err := p.exited(); err != nil {
			return err
		}
	}
	return nil
}

// Log returns the whole log of the process named like the Deployment it
// runs ("<namespace>_<name>", or "kube-apiserver", "etcd"), for tests that
// assert on what a component did.
func (cp *ControlPlane) Log(name string) (string, error) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	for _, p := range cp.procs {
		if p.name == name {
			b, err := os.ReadFile(p.log)
			return string(b), err
		}
	}
	return "", fmt.Errorf("no process %q in the control plane", name)
}

// Logs returns the last lines of every process's log, for failing tests.
func (cp *ControlPlane) Logs(lines int) string {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	var b strings.Builder
	for _, p := range cp.procs {
		fmt.Fprintf(&b, "==> %s (%s)\n%s\n", p.name, p.log, p.tail(lines))
	}
	return b.String()
}

// Stop ends every process (newest first) and the service proxy, and removes
// the working directory unless keepLogs.
func (cp *ControlPlane) Stop(keepLogs bool) error {
	return cp.stop(keepLogs)
}

func (cp *ControlPlane) stop(keepLogs bool) error {
	cp.mu.Lock()
	procs := cp.procs
	cp.procs = nil
	cp.mu.Unlock()
	if cp.stopProvisioner != nil {
		cp.stopProvisioner()
		cp.stopProvisioner = nil
	}
	var wg sync.WaitGroup
	// Controllers and webhooks first, together; then the API server; etcd last.
	for i := len(procs) - 1; i >= 0; i-- {
		p := procs[i]
		if p.name == "kube-apiserver" || p.name == "etcd" {
			continue
		}
		wg.Add(1)
		go func() { defer wg.Done(); p.stop(5 * time.Second) }()
	}
	wg.Wait()
	for i := len(procs) - 1; i >= 0; i-- {
		if procs[i].name == "kube-apiserver" || procs[i].name == "etcd" {
			procs[i].stop(10 * time.Second)
		}
	}
	err := errors.Join(cp.cleanupNode(), cp.proxy.close())
	if cp.Git != nil {
		err = errors.Join(err, cp.Git.Close())
	}
	if cp.GitHub != nil {
		cp.GitHub.Close()
	}
	if keepLogs {
		// The node's state (images, containers, volumes) is large and says
		// nothing the logs do not.
		if cp.node != nil {
			err = errors.Join(err, os.RemoveAll(cp.node.dir))
		}
		fmt.Fprintf(cp.progress, "controlplane: logs kept in %s\n", cp.logDir)
		return err
	}
	return errors.Join(err, os.RemoveAll(cp.dir))
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
