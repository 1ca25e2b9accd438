package controlplane

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

// Binaries maps what test/tools/build.sh built ("kube-apiserver/kube-apiserver",
// "tekton-pipelines/controller", "tekton-pipelines-config", ...) to paths.
type Binaries map[string]string

// Get returns the path for name or an error naming the build script.
func (b Binaries) Get(name string) (string, error) {
	p, ok := b[name]
	if !ok {
		return "", fmt.Errorf("%s: not among the programs test/tools/build.sh reported (have %s)", name, strings.Join(b.names(), ", "))
	}
	return p, nil
}

func (b Binaries) names() []string {
	var ns []string
	for n := range b {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}

// BuildScript is test/tools/build.sh in the source tree this package was
// compiled from.
func BuildScript() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "tools", "build.sh")
}

// Build runs test/tools/build.sh, which builds (or finds cached) every program
// the control plane runs. Its progress goes to stderr; cold, it takes minutes.
func Build() (Binaries, error) {
	cmd := exec.Command("bash", BuildScript())
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("test/tools/build.sh: %w", err)
	}
	return parseBuildOutput(out)
}

func parseBuildOutput(out []byte) (Binaries, error) {
	b := Binaries{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		name, path, ok := strings.Cut(line, "=")
		if !ok || name == "" || path == "" {
			return nil, fmt.Errorf("test/tools/build.sh: unexpected output line %q (want name=path)", line)
		}
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("test/tools/build.sh reported %s: %w", name, err)
		}
		b[name] = path
	}
	return b, sc.Err()
}
