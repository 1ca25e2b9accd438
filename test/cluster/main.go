// Command cluster is `make cluster`: the suite's one-machine cluster (etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler, kubelet with
// containerd, Tekton Pipelines and Triggers, an OCI registry with stand-in
// step images, a git server and the GitHub API test server) for a person to
// try generated pipelines, like kind without Docker. It stays up until
// Ctrl-C or SIGTERM, then tears everything down.
//
// When ready it writes cluster.env in its state folder and prints its path;
// see the README for the lines it holds. Everything runs inside private
// network, mount and PID namespaces: enter them with
//
//	nsenter -t $CLUSTER_PID -n -m -p
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pipewright/pipewright/test/controlplane"
)

// stateEnv carries the state folder into the sandboxed process.
const stateEnv = "PIPEWRIGHT_CLUSTER_STATE"

// innerEnv is what the sandboxed process writes; the outer process adds
// CLUSTER_PID, which only it can see, and publishes cluster.env.
const innerEnv = "cluster.env.inner"

func main() {
	if state := os.Getenv(stateEnv); state != "" {
		os.Exit(inside(state))
	}
	state := flag.String("state", filepath.Join(os.TempDir(), "pipewright-cluster"), "state folder; cluster.env is written here")
	flag.Parse()
	if err := outside(*state); err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(1)
	}
}

func outside(state string) error {
	env := filepath.Join(state, "cluster.env")
	if pid := runningPID(env); pid != 0 {
		return fmt.Errorf("a cluster is already running from %s (CLUSTER_PID=%d); stop it first", state, pid)
	}
	if err := os.RemoveAll(state); err != nil {
		return err
	}
	if err := os.MkdirAll(state, 0o700); err != nil {
		return err
	}
	// Signals first: Ctrl-C during the build must not leave a half cluster.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	cmd, _, err := controlplane.IsolateChild(stateEnv + "=" + state)
	if err != nil {
		return err
	}
	// Its own process group: the terminal's Ctrl-C reaches only us, and we
	// ask the cluster to stop cleanly rather than have unshare kill it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	inner := 0
	stop := func() {
		if inner == 0 {
			inner = childPID(cmd.Process.Pid)
		}
		if inner != 0 {
			_ = syscall.Kill(inner, syscall.SIGTERM)
		} else {
			_ = cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	published := false
	for {
		select {
		case s := <-sig:
			fmt.Fprintf(os.Stderr, "cluster: %v: stopping\n", s)
			stop()
		case err := <-exited:
			os.Remove(env)
			os.Remove(filepath.Join(state, innerEnv))
			if err != nil {
				return fmt.Errorf("cluster ended: %w (state and logs in %s)", err, state)
			}
			fmt.Fprintln(os.Stderr, "cluster: stopped")
			return nil
		case <-tick.C:
			if published {
				continue
			}
			b, err := os.ReadFile(filepath.Join(state, innerEnv))
			if err != nil {
				continue
			}
			if inner = childPID(cmd.Process.Pid); inner == 0 {
				continue
			}
			body := fmt.Sprintf("CLUSTER_PID=%d\n%s", inner, b)
			if err := os.WriteFile(env+".tmp", []byte(body), 0o600); err != nil {
				stop()
				return err
			}
			if err := os.Rename(env+".tmp", env); err != nil {
				stop()
				return err
			}
			published = true
			fmt.Fprintf(os.Stderr, "cluster: ready in %.1fs; Ctrl-C stops it\n", time.Since(start).Seconds())
			fmt.Println(env)
		}
	}
}

// childPID is the first child of pid: unshare --fork's child, PID 1 of the
// sandbox's PID namespace.
func childPID(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	n, _ := strconv.Atoi(f[0])
	return n
}

// runningPID reads CLUSTER_PID from an existing cluster.env and returns it
// when that process is alive.
func runningPID(env string) int {
	b, err := os.ReadFile(env)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "CLUSTER_PID="); ok {
			pid, err := strconv.Atoi(v)
			if err == nil && syscall.Kill(pid, 0) == nil {
				return pid
			}
		}
	}
	return 0
}

func inside(state string) int {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	sb, err := controlplane.Isolate()
	if err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		return 1
	}
	defer sb.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-sig
		cancel()
	}()
	cp, err := controlplane.Start(ctx, sb, controlplane.Options{
		Pipelines: true, Triggers: true, Node: true,
		Dir: filepath.Join(state, "cluster"),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "cluster: starting:", err)
		return 1
	}
	code := 0
	if err := publish(cp, state); err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		code = 1
		cancel()
	}
	<-ctx.Done()
	if err := cp.Stop(false); err != nil {
		fmt.Fprintln(os.Stderr, "cluster: stopping:", err)
		code = 1
	}
	return code
}

func publish(cp *controlplane.ControlPlane, state string) error {
	images, err := cp.ImagesFile()
	if err != nil {
		return err
	}
	if cp.Git == nil || cp.GitHub == nil {
		return errors.New("the node's git and GitHub servers are not running")
	}
	lines := []string{
		"KUBECONFIG=" + cp.Kubeconfig,
		"KUBECTL=" + cp.KubectlPath(),
		"REGISTRY=" + cp.Registry(),
		"GIT_ROOT=" + cp.Git.Root,
		"GIT_URL=" + cp.Git.URL,
		"GITHUB_API=" + cp.GitHub.URL,
		"IMAGES=" + images,
		"TOOLS_IMAGE=" + cp.Images().Tool,
	}
	return os.WriteFile(filepath.Join(state, innerEnv), []byte(strings.Join(lines, "\n")+"\n"), 0o600)
}
