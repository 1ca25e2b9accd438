package controlplane

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
)

// ServiceCIDR is the API server's --service-cluster-ip-range. Inside the
// sandbox the whole range is a local route on lo, so ClusterIPs are local
// addresses the harness can listen on.
const ServiceCIDR = "10.96.0.0/16"

// isolatedEnv carries the built programs into the re-executed test binary and
// marks that it runs inside the namespaces.
const isolatedEnv = "PIPEWRIGHT_CONTROLPLANE_SANDBOX"

// Sandbox is the isolated environment the control plane runs in.
type Sandbox struct {
	Binaries Binaries
	// hosts is the file bind-mounted over /etc/hosts.
	hosts string
}

// Isolate is called first thing in TestMain. Outside the sandbox it builds the
// programs (that needs the module proxy, so it happens before the network is
// cut off) and then replaces the running test binary with itself run by
// unshare(1) in new network, mount and PID namespaces; it returns only on
// error. Inside, it brings up loopback, routes ServiceCIDR to it, mounts a
// private /etc/hosts and returns the Sandbox.
//
// Because the test binary becomes PID 1 of its PID namespace, every process
// the suite starts dies with it, whatever way it ends; and because the network
// namespace is new, nothing the suite listens on is visible on the machine.
func Isolate() (*Sandbox, error) {
	if v := os.Getenv(isolatedEnv); v != "" {
		return enterSandbox(v)
	}
	if os.Geteuid() != 0 {
		return nil, errors.New("the e2e control plane needs root to create its network, mount and PID namespaces (run as root, as CI does)")
	}
	argv, env, err := sandboxCommand()
	if err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("exec %s: %w", argv[0], syscall.Exec(argv[0], argv, env))
}

// IsolateChild is Isolate for a program that must know, from outside, the
// PID whose namespaces are the sandbox's (make cluster writes it for
// nsenter): instead of replacing itself, it returns the command that runs
// it again inside the sandbox, with extraEnv added, for the caller to start.
// Inside the sandbox it returns the Sandbox and a nil command.
func IsolateChild(extraEnv ...string) (*exec.Cmd, *Sandbox, error) {
	if v := os.Getenv(isolatedEnv); v != "" {
		sb, err := enterSandbox(v)
		return nil, sb, err
	}
	if os.Geteuid() != 0 {
		return nil, nil, errors.New("the cluster needs root to create its network, mount and PID namespaces")
	}
	argv, env, err := sandboxCommand()
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(env, extraEnv...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	return cmd, nil, nil
}

// sandboxCommand builds the programs (that needs the module proxy, so it
// happens before the network is cut off) and returns the unshare(1) command
// line and environment that run this binary again inside new network, mount
// and PID namespaces.
func sandboxCommand() (argv, env []string, err error) {
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		return nil, nil, fmt.Errorf("unshare (util-linux) is needed to isolate the control plane: %w", err)
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return nil, nil, fmt.Errorf("ip (iproute2) is needed to configure the sandbox's loopback: %w", err)
	}
	bins, err := Build()
	if err != nil {
		return nil, nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, nil, fmt.Errorf("finding the running binary: %w", err)
	}
	state, err := json.Marshal(bins)
	if err != nil {
		return nil, nil, err
	}
	// --kill-child: if unshare is killed (go test's timeout, ^C), the binary
	// gets SIGKILL, and with it the whole PID namespace.
	argv = append([]string{unshare, "--net", "--mount", "--pid", "--fork", "--mount-proc", "--kill-child", "--", self}, os.Args[1:]...)
	return argv, append(os.Environ(), isolatedEnv+"="+string(state)), nil
}

func enterSandbox(state string) (*Sandbox, error) {
	var bins Binaries
	if err := json.Unmarshal([]byte(state), &bins); err != nil {
		return nil, fmt.Errorf("%s: %w", isolatedEnv, err)
	}
	for _, args := range [][]string{
		{"link", "set", "lo", "up"},
		{"route", "add", "local", ServiceCIDR, "dev", "lo"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("ip %v: %w: %s", args, err, out)
		}
	}
	dir, err := os.MkdirTemp("", "pipewright-hosts-")
	if err != nil {
		return nil, err
	}
	hosts := filepath.Join(dir, "hosts")
	if err := os.WriteFile(hosts, []byte(hostsHeader), 0o644); err != nil {
		return nil, err
	}
	// The mount namespace is private (unshare's default propagation), so this
	// mount is seen by the suite's processes only.
	if err := syscall.Mount(hosts, "/etc/hosts", "", syscall.MS_BIND, ""); err != nil {
		return nil, fmt.Errorf("bind-mounting %s over /etc/hosts: %w", hosts, err)
	}
	return &Sandbox{Binaries: bins, hosts: hosts}, nil
}

const hostsHeader = "127.0.0.1 localhost\n::1 localhost\n"

// Close removes the sandbox's files. The namespaces go away with the process.
func (s *Sandbox) Close() error {
	if err := syscall.Unmount("/etc/hosts", 0); err != nil {
		return fmt.Errorf("unmounting the private /etc/hosts: %w", err)
	}
	return os.RemoveAll(filepath.Dir(s.hosts))
}

// setHosts rewrites the private /etc/hosts in place (the bind mount holds the
// inode, so it must not be replaced by a rename).
func (s *Sandbox) setHosts(entries map[string]string) error {
	var b []byte
	b = append(b, hostsHeader...)
	for _, name := range slices.Sorted(maps.Keys(entries)) {
		b = append(b, fmt.Sprintf("%s %s\n", entries[name], name)...)
	}
	return os.WriteFile(s.hosts, b, 0o644)
}
