package controlplane

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pipewright/pipewright/pkg/github/githubtest"
	"github.com/pipewright/pipewright/test/gitserver"
	"github.com/pipewright/pipewright/test/refregistry"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// The node's addresses. NodeIP is added to the sandbox's loopback: Pods,
// whose traffic leaves their bridge for the sandbox's network namespace,
// reach it, while 127.0.0.1 would be each Pod's own loopback. The ranges are
// inside the sandbox's private network namespace only.
const (
	NodeIP   = "10.201.0.1"
	NodeName = "pipewright-node"
	PodCIDR  = "10.244.0.0/24"
	// RegistryPort is where the node's OCI registry listens on NodeIP.
	RegistryPort = 5000
	// apiServiceIP is the "kubernetes" Service's ClusterIP (the first of
	// ServiceCIDR), which in-cluster clients in Pods dial.
	apiServiceIP = "10.96.0.1"
	// StorageClass is the default StorageClass; the harness provisions its
	// claims (see provisioner.go).
	StorageClass = "pipewright-local"
)

// node is the one-machine Kubernetes node: containerd (with runc and the CNI
// bridge), kubelet, kube-scheduler and kube-controller-manager, an OCI
// registry, and what they need from the sandbox.
type node struct {
	dir        string // state folder: everything the node writes
	cgroupRoot string // e.g. /pipewright-1a2b3c, in every cgroup v1 controller
	registry   string // host:port as Pods and containerd see it
	images     NodeImages
	client     kubernetes.Interface
	dns        *clusterDNS
	// stopPodServices ends the Service proxy for Pod endpoints.
	stopPodServices func()
}

// sysctls kubelet wants; with protectKernelDefaults off it would write any
// that differ into the machine's /proc/sys. Inside the sandbox a small file
// with the wanted value is bind-mounted over each one that differs, so
// kubelet reads what it wants and the machine keeps its own values.
var kubeletSysctls = map[string]string{
	"vm/overcommit_memory":      "1",
	"vm/panic_on_oom":           "0",
	"kernel/panic":              "10",
	"kernel/panic_on_oops":      "1",
	"kernel/keys/root_maxkeys":  "1000000",
	"kernel/keys/root_maxbytes": "25000000",
}

// prepareNode readies the sandbox for a node: private tmpfs over the
// folders containerd, CNI and kubelet write to at fixed paths, the sysctl
// files, the node address and the cgroup root. It only changes things inside
// the sandbox's mount and network namespaces, but the cgroup root: cgroup v1
// folders are the machine's, so they are named uniquely and removed by
// cleanupNode (and stale ones of killed runs by the next run).
func (cp *ControlPlane) prepareNode() error {
	n := cp.node
	for _, dir := range []string{"/run", "/var/lib", "/var/log"} {
		if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, "mode=0755"); err != nil {
			return fmt.Errorf("mounting a private tmpfs over %s: %w", dir, err)
		}
	}
	sysDir := filepath.Join(n.dir, "sysctl")
	if err := os.MkdirAll(sysDir, 0o755); err != nil {
		return err
	}
	for key, want := range kubeletSysctls {
		path := "/proc/sys/" + key
		have, err := os.ReadFile(path)
		if err != nil || strings.TrimSpace(string(have)) == want {
			continue // absent on this kernel, or already what kubelet wants
		}
		file := filepath.Join(sysDir, strings.ReplaceAll(key, "/", "_"))
		if err := os.WriteFile(file, []byte(want+"\n"), 0o644); err != nil {
			return err
		}
		if err := syscall.Mount(file, path, "", syscall.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind-mounting %s over %s: %w", file, path, err)
		}
	}
	if out, err := exec.Command("ip", "addr", "add", NodeIP+"/32", "dev", "lo").CombinedOutput(); err != nil {
		return fmt.Errorf("ip addr add %s dev lo: %w: %s", NodeIP, err, out)
	}
	removeStaleCgroupRoots()
	n.cgroupRoot = "/pipewright-" + randomHex(4)
	for _, ctrl := range cgroupControllers() {
		dir := filepath.Join("/sys/fs/cgroup", ctrl, n.cgroupRoot)
		if err := os.Mkdir(dir, 0o755); err != nil {
			return fmt.Errorf("creating the node's cgroup %s: %w", dir, err)
		}
		if ctrl == "cpuset" {
			// A new cpuset has no CPUs or memory nodes until given its
			// parent's.
			for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
				v, err := os.ReadFile(filepath.Join("/sys/fs/cgroup/cpuset", f))
				if err != nil {
					return err
				}
				if err := os.WriteFile(filepath.Join(dir, f), v, 0o644); err != nil {
					return fmt.Errorf("%s/%s: %w", dir, f, err)
				}
			}
		}
	}
	return nil
}

// cgroupControllers lists the mounted cgroup v1 hierarchies by folder name
// (cpu, memory, systemd, ...). kubelet's cgroupfs driver wants its root in
// each.
func cgroupControllers() []string {
	entries, err := os.ReadDir("/sys/fs/cgroup")
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		// "unified" is the hybrid layout's cgroup2 tree, where kubelet
		// makes its root too; it is listed so that it is cleaned up.
		if !e.IsDir() {
			continue
		}
		// Symlinks such as cpu,cpuacct are aliases of a mounted folder.
		if _, err := os.Stat(filepath.Join("/sys/fs/cgroup", e.Name(), "cgroup.procs")); err == nil {
			out = append(out, e.Name())
		}
	}
	return out
}

// removeCgroupTree removes root and the cgroups below it, deepest first. A
// cgroup with processes cannot be removed; the error names it.
func removeCgroupTree(root string) error {
	var dirs []string
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	var errs []error
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := syscall.Rmdir(dirs[i]); err != nil && !errors.Is(err, syscall.ENOENT) {
			errs = append(errs, fmt.Errorf("removing cgroup %s: %w", dirs[i], err))
		}
	}
	return errors.Join(errs...)
}

// removeStaleCgroupRoots removes the cgroup roots of earlier runs that were
// killed before cleaning up, when no process is left in them. A root made in
// the last half hour may be a suite starting beside this one (it is empty
// until its kubelet runs), so it is left alone.
func removeStaleCgroupRoots() {
	for _, ctrl := range cgroupControllers() {
		stale, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", ctrl, "pipewright-*"))
		for _, dir := range stale {
			if fi, err := os.Stat(dir); err != nil || time.Since(fi.ModTime()) < 30*time.Minute {
				continue
			}
			_ = removeCgroupTree(dir)
		}
	}
}

// cleanupNode ends whatever the node left running (container processes and
// shims are not children of any process the harness started), unmounts what
// containerd and kubelet mounted under the state folder and removes the
// cgroup root. The sandbox's namespaces would end processes and mounts
// anyway; doing it here keeps Stop honest and frees the machine's cgroups.
func (cp *ControlPlane) cleanupNode() error {
	n := cp.node
	if n == nil {
		return nil
	}
	if n.stopPodServices != nil {
		n.stopPodServices()
	}
	if n.dns != nil {
		n.dns.close()
	}
	killAllButSelf()
	var errs []error
	if err := unmountUnder(n.dir); err != nil {
		errs = append(errs, err)
	}
	if n.cgroupRoot != "" {
		for _, ctrl := range cgroupControllers() {
			dir := filepath.Join("/sys/fs/cgroup", ctrl, n.cgroupRoot)
			// A killed process leaves its cgroup a moment later.
			var err error
			for range 50 {
				if err = removeCgroupTree(dir); err == nil {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// killAllButSelf sends SIGKILL to every process of the sandbox's PID
// namespace but the harness, and waits until none is left but zombies.
func killAllButSelf() {
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := otherProcesses()
		if len(left) == 0 || time.Now().After(deadline) {
			return
		}
		for _, pid := range left {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// unmountUnder detaches every mount at or below dir, deepest first.
func unmountUnder(dir string) error {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	var points []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		mp := unescapeMount(f[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			points = append(points, mp)
		}
	}
	var errs []error
	for i := len(points) - 1; i >= 0; i-- {
		if err := syscall.Unmount(points[i], syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOENT) {
			errs = append(errs, fmt.Errorf("unmounting %s: %w", points[i], err))
		}
	}
	return errors.Join(errs...)
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// startNode runs the node: registry and images, containerd, the kubelet and
// the two controllers, then the default StorageClass and its provisioner. The
// API server must be running.
func (cp *ControlPlane) startNode(ctx context.Context) error {
	n := cp.node
	if err := cp.prepareNode(); err != nil {
		return err
	}
	// Pods reach the API server through the kubernetes Service.
	if err := cp.proxy.forward(hostPort(apiServiceIP, 443), "127.0.0.1:6443"); err != nil {
		return err
	}
	if err := cp.startRegistry(ctx); err != nil {
		return err
	}
	if err := cp.pushImages(ctx); err != nil {
		return err
	}
	if err := cp.startContainerd(ctx); err != nil {
		return err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", cp.Kubeconfig)
	if err != nil {
		return err
	}
	// The DNS server, the Service proxy and the provisioner poll often;
	// client-go's default 5 requests a second would make every lookup wait.
	cfg.QPS, cfg.Burst = 200, 400
	if n.client, err = kubernetes.NewForConfig(cfg); err != nil {
		return err
	}
	if n.dns, err = startClusterDNS(n.client); err != nil {
		return fmt.Errorf("cluster DNS: %w", err)
	}
	if err := cp.startControllers(ctx); err != nil {
		return err
	}
	if err := cp.startKubelet(ctx); err != nil {
		return err
	}
	if err := cp.startProvisioner(ctx); err != nil {
		return err
	}
	if err := cp.startServers(); err != nil {
		return err
	}
	cp.logf("node %s ready (registry %s)", NodeName, n.registry)
	return nil
}

// startServers runs the git server and the GitHub API test server on the
// node's address, where Pods reach them.
func (cp *ControlPlane) startServers() error {
	l, err := net.Listen("tcp", hostPort(NodeIP, 0))
	if err != nil {
		return err
	}
	root := filepath.Join(cp.dir, "git")
	if err := os.MkdirAll(root, 0o755); err != nil {
		l.Close()
		return err
	}
	if cp.Git, err = gitserver.Serve(l, root); err != nil {
		l.Close()
		return err
	}
	l, err = net.Listen("tcp", hostPort(NodeIP, 0))
	if err != nil {
		return err
	}
	cp.GitHub = githubtest.Serve(l)
	// Pods post statuses for whatever repository and commit a test made.
	cp.GitHub.AnyRepo = true
	cp.GitHub.CloneURLBase = cp.Git.URL + "/"
	cp.logf("git server %s (repositories under %s), GitHub API test server %s", cp.Git.URL, root, cp.GitHub.URL)
	return nil
}

func (cp *ControlPlane) startRegistry(ctx context.Context) error {
	n := cp.node
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		return fmt.Errorf("the node's registry: %w (test/registry.sh installs Debian's docker-registry)", err)
	}
	n.registry = hostPort(NodeIP, RegistryPort)
	path := filepath.Join(n.dir, "registry.yml")
	if err := refregistry.WriteConfig(path, filepath.Join(n.dir, "registry"), n.registry); err != nil {
		return err
	}
	p, err := startProcess(cp.logDir, "registry", bin, []string{"serve", path}, nil)
	if err != nil {
		return err
	}
	cp.addProcess(p)
	return cp.waitHTTP(ctx, p, "http://"+n.registry+"/v2/", nil, "registry")
}

func (cp *ControlPlane) startContainerd(ctx context.Context) error {
	n := cp.node
	bin, err := exec.LookPath("containerd")
	if err != nil {
		return fmt.Errorf("containerd: %w (test/node-packages.sh installs Debian's containerd)", err)
	}
	cni := filepath.Join(n.dir, "cni")
	for _, d := range []string{filepath.Join(cni, "net.d"), filepath.Join(cni, "ipam"), filepath.Join(n.dir, "certs.d", n.registry)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	conflist := fmt.Sprintf(`{
  "cniVersion": "1.0.0",
  "name": "pipewright",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": %q}]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": %q
      }
    },
    {"type": "loopback"}
  ]
}
`, PodCIDR, filepath.Join(cni, "ipam"))
	if err := os.WriteFile(filepath.Join(cni, "net.d", "10-pipewright.conflist"), []byte(conflist), 0o644); err != nil {
		return err
	}
	hosts := fmt.Sprintf("server = %q\n\n[host.%q]\n  capabilities = [\"pull\", \"resolve\", \"push\"]\n", "http://"+n.registry, "http://"+n.registry)
	if err := os.WriteFile(filepath.Join(n.dir, "certs.d", n.registry, "hosts.toml"), []byte(hosts), 0o644); err != nil {
		return err
	}
	sock := filepath.Join(n.dir, "containerd.sock")
	// restrict_oom_score_adj: the VM withholds CAP_SYS_RESOURCE, so runc
	// cannot lower a score; the opt plugin would write /opt/containerd.
	cfg := fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = %q

[ttrpc]
  address = %q

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %q
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = %q
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = %q
`, filepath.Join(n.dir, "containerd", "root"), filepath.Join(n.dir, "containerd", "state"), sock, sock+".ttrpc",
		n.images.Pause, filepath.Join(cni, "net.d"), filepath.Join(n.dir, "certs.d"))
	path := filepath.Join(n.dir, "containerd.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		return err
	}
	cp.logf("starting containerd")
	p, err := startProcess(cp.logDir, "containerd", bin, []string{"--config", path, "--log-level", "warn"}, nil)
	if err != nil {
		return err
	}
	cp.addProcess(p)
	return poll(ctx, time.Minute, 50*time.Millisecond, func() (bool, error) {
		if err := p.exited(); err != nil {
			return false, err
		}
		_, err := os.Stat(sock)
		return err == nil, nil
	})
}

// startControllers runs kube-controller-manager (Deployments, ReplicaSets,
// StatefulSets for Tekton's affinity assistant, the PV binder, the default
// ServiceAccount and root CA ConfigMap of each namespace, garbage
// collection, node lifecycle) and kube-scheduler, as the admin.
func (cp *ControlPlane) startControllers(ctx context.Context) error {
	cp.logf("starting kube-controller-manager and kube-scheduler")
	for _, c := range []struct {
		name  string
		extra []string
	}{
		{"kube-controller-manager", []string{
			"--root-ca-file=" + cp.pki.caFile,
			"--service-account-private-key-file=" + cp.pki.saKeyFile,
			"--use-service-account-credentials=false",
			"--controllers=*,-bootstrapsigner,-tokencleaner,-nodeipam,-cloud-node-lifecycle,-service-lb-controller,-node-route-controller,-persistentvolume-expander",
			// Pods on a not-ready node are evicted after this; a test node
			// should not evict for a slow moment.
			"--node-monitor-grace-period=60s",
		}},
		{"kube-scheduler", nil},
	} {
		bin, err := cp.sandbox.Binaries.Get("kube-node/" + c.name)
		if err != nil {
			return err
		}
		// Both serve their secure port on loopback and authenticate and
		// authorize through the API server as the admin.
		args := append([]string{
			"--kubeconfig=" + cp.Kubeconfig,
			"--authentication-kubeconfig=" + cp.Kubeconfig,
			"--authorization-kubeconfig=" + cp.Kubeconfig,
			"--bind-address=127.0.0.1",
			"--secure-port=" + strconv.Itoa(cp.allocPort()),
			"--cert-dir=" + filepath.Join(cp.node.dir, c.name+"-certs"),
			"--leader-elect=false",
			"--profiling=false",
		}, c.extra...)
		p, err := startProcess(cp.logDir, c.name, bin, args, nil)
		if err != nil {
			return err
		}
		cp.addProcess(p)
	}
	return nil
}

func (cp *ControlPlane) startKubelet(ctx context.Context) error {
	n := cp.node
	bin, err := cp.sandbox.Binaries.Get("kube-node/kubelet")
	if err != nil {
		return err
	}
	kubeconfig := filepath.Join(n.dir, "kubelet.kubeconfig")
	if err := os.WriteFile(kubeconfig, cp.kubeconfig(cp.nodeToken), 0o600); err != nil {
		return err
	}
	root := filepath.Join(n.dir, "kubelet")
	for _, d := range []string{root, filepath.Join(n.dir, "pod-logs"), filepath.Join(n.dir, "volume-plugins")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	// Why the settings: kubelet 1.35 refuses cgroup v1 unless failCgroupV1 is
	// false; containerd 1.6 has no RuntimeConfig call, so the driver is stated;
	// evictions and image GC are kept from acting on a busy shared disk; Pods
	// resolve Service names through the harness's DNS on the node address.
	cfg := fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: %s
cgroupsPerQOS: true
containerRuntimeEndpoint: unix://%s
imageServiceEndpoint: unix://%s
address: %s
port: 10250
readOnlyPort: 0
healthzPort: 0
authentication:
  anonymous:
    enabled: true
  webhook:
    enabled: false
authorization:
  mode: AlwaysAllow
failSwapOn: false
protectKernelDefaults: false
podLogsDir: %s
volumePluginDir: %s
serializeImagePulls: false
resolvConf: /etc/resolv.conf
clusterDNS: [%s]
clusterDomain: %s
evictionHard:
  memory.available: 100Mi
  nodefs.available: "1%%"
  nodefs.inodesFree: "1%%"
  imagefs.available: "1%%"
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
maxPods: 60
podPidsLimit: -1
fileCheckFrequency: 20s
syncFrequency: 10s
nodeStatusUpdateFrequency: 2s
`, n.cgroupRoot, filepath.Join(n.dir, "containerd.sock"), filepath.Join(n.dir, "containerd.sock"), NodeIP,
		filepath.Join(n.dir, "pod-logs"), filepath.Join(n.dir, "volume-plugins"), NodeIP, clusterDomain)
	path := filepath.Join(n.dir, "kubelet.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		return err
	}
	cp.logf("starting kubelet")
	p, err := startProcess(cp.logDir, "kubelet", bin, []string{
		"--config=" + path,
		"--kubeconfig=" + kubeconfig,
		"--root-dir=" + root,
		"--cert-dir=" + filepath.Join(n.dir, "kubelet-certs"),
		"--hostname-override=" + NodeName,
		"--node-ip=" + NodeIP,
		"--v=1",
	}, nil)
	if err != nil {
		return err
	}
	cp.addProcess(p)
	err = cp.WaitFor(ctx, 2*time.Minute, func() (bool, error) {
		if err := p.exited(); err != nil {
			return false, err
		}
		out, err := cp.Kubectl(ctx, nil, "get", "node", NodeName, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status} {.spec.taints[*].key}`)
		if err != nil {
			return false, nil
		}
		ready, taints, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
		return ready == "True" && !strings.Contains(taints, "not-ready"), nil
	})
	if err != nil {
		return fmt.Errorf("node %s not Ready: %w", NodeName, err)
	}
	cp.logf("kubelet: node %s Ready", NodeName)
	return nil
}

// imageArg gives, for args[i] of a Tekton Deployment, the node's image
// replacing a ko:// helper image or the busybox shell image (which cannot be
// pulled here; the Debian stand-in has a shell and runs as root, which the
// controller's comment asks of it).
func (n *node) imageArg(args []string, i int) (string, bool) {
	a := args[i]
	if rest, ok := strings.CutPrefix(a, koPrefix+"pipeline/cmd/"); ok {
		ref, ok := n.images.Tekton[rest]
		return ref, ok
	}
	if rest, ok := strings.CutPrefix(a, koPrefix+"triggers/cmd/"); ok {
		ref, ok := n.images.Triggers[rest]
		return ref, ok
	}
	if i > 0 && args[i-1] == "-shell-image" {
		return n.images.Base, true
	}
	return "", false
}

// Registry is the node's registry as Pods and containerd see it (host:port);
// empty without a node.
func (cp *ControlPlane) Registry() string {
	if cp.node == nil {
		return ""
	}
	return cp.node.registry
}

// Images are the node's images; zero without a node.
func (cp *ControlPlane) Images() NodeImages {
	if cp.node == nil {
		return NodeImages{}
	}
	return cp.node.images
}

// ImagesFile writes the override file for `pipewright generate --images`
// naming the node's stand-ins, and returns its path.
func (cp *ControlPlane) ImagesFile() (string, error) {
	if cp.node == nil {
		return "", errors.New("no node: Options.Node is off")
	}
	return cp.imagesFile()
}
