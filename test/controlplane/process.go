package controlplane

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// process is one program of the control plane, logging to its own file.
type process struct {
	name     string
	cmd      *exec.Cmd
	log      string
	done     chan struct{}
	mu       sync.Mutex
	err      error // set when it exited
	stopping bool  // stop was called: exiting is expected
}

// startProcess runs bin with args and env (added to a minimal base
// environment) in its own process group, logging to logDir/name.log.
func startProcess(logDir, name, bin string, args, env []string) (*process, error) {
	logPath := filepath.Join(logDir, strings.ReplaceAll(name, "/", "_")+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(baseEnv(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		f.Close()
		p.mu.Lock()
		if err == nil {
			err = fmt.Errorf("exited")
		}
		p.err = err
		p.mu.Unlock()
		close(p.done)
	}()
	return p, nil
}

// baseEnv is what every program gets: a PATH and HOME, nothing from the test's
// own environment that could change its behaviour, and GOGC=400. The
// control plane's programs are Go programs built with Go 1.26 (its new
// collector): at the default GOGC=100 a quarter to a third of
// kube-apiserver's CPU went to garbage collection (perf, in a suite run),
// on a 2-core machine whose steps need that CPU. Four times the heap
// growth between collections costs a few hundred MB of the 24 GB.
func baseEnv() []string {
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + os.TempDir(), "GOGC=400"}
}

// exited reports why the process ended, or nil while it runs or after stop.
func (p *process) exited() error {
	select {
	case <-p.done:
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.stopping {
			return nil
		}
		return fmt.Errorf("%s %v; last log lines:\n%s", p.name, p.err, p.tail(30))
	default:
		return nil
	}
}

// stop sends SIGTERM to the process group, then SIGKILL after grace.
func (p *process) stop(grace time.Duration) {
	p.mu.Lock()
	p.stopping = true
	p.mu.Unlock()
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.done
	}
	// Children that left the group's leader behind.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

// tail returns the last n lines of the process's log.
func (p *process) tail(n int) string {
	b, err := os.ReadFile(p.log)
	if err != nil {
		return err.Error()
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
