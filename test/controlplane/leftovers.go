package controlplane

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// CheckNothingLeft verifies, inside the sandbox after Stop, that no process
// but the test binary is alive and that no TCP socket is listening. (When the
// test binary exits the kernel would end both anyway; this checks that Stop
// itself does, so a harness bug shows up as a failure rather than being
// hidden by the namespaces.)
func CheckNothingLeft() error {
	var problems []string
	for _, pid := range otherProcesses() {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		problems = append(problems, fmt.Sprintf("process %d still running: %s", pid, strings.ReplaceAll(string(cmdline), "\x00", " ")))
	}
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(file)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) > 3 && fields[3] == "0A" { // TCP_LISTEN
				problems = append(problems, fmt.Sprintf("%s: still listening on %s", file, fields[1]))
			}
		}
		f.Close()
	}
	if len(problems) > 0 {
		return fmt.Errorf("left behind after stopping the control plane:\n  %s", strings.Join(problems, "\n  "))
	}
	return nil
}

// otherProcesses lists the live processes of the sandbox's PID namespace but
// this one; zombies (dead, just not reaped) are left out.
func otherProcesses() []int {
	var out []int
	self := os.Getpid()
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		pid, err := strconv.Atoi(filepath.Base(p))
		if err != nil || pid == self {
			continue
		}
		stat, err := os.ReadFile(filepath.Join(p, "stat"))
		if err != nil {
			continue // already gone
		}
		// pid (comm) state ...
		if i := strings.LastIndexByte(string(stat), ')'); i > 0 && strings.HasPrefix(string(stat[i+1:]), " Z") {
			continue
		}
		out = append(out, pid)
	}
	return out
}
