package toolbin

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The copy is a runnable program: install the test binary and run it.
func TestInstallRunsFromTheCopy(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "bin", "pipewright")
	if err := Install(dest); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dest)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o755 {
		t.Errorf("mode %v, want 0755", fi.Mode().Perm())
	}
	out, err := exec.Command(dest, "-test.list", "TestInstallRunsFromTheCopy").CombinedOutput()
	if err != nil || string(out) != "TestInstallRunsFromTheCopy\n" {
		t.Errorf("copy does not run: %v: %s", err, out)
	}
	entries, _ := os.ReadDir(filepath.Dir(dest))
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestCopyMissingSource(t *testing.T) {
	err := Copy(filepath.Join(t.TempDir(), "absent"), filepath.Join(t.TempDir(), "x"))
	if err == nil {
		t.Fatal("want an error")
	}
}
