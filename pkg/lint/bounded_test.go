package lint

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pipewright/pipewright/pkg/boundedio"
)

// A FIFO or a symlink to /dev/zero named *.yaml, found by the folder walk
// or named on the command line, is refused at once: reading it would block
// forever or fill memory. So is stdin beyond the size limit.
func TestCollectRefusesWhatIsNotAFile(t *testing.T) {
	fifoDir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(fifoDir, "task.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	zeroDir := t.TempDir()
	if err := os.Symlink("/dev/zero", filepath.Join(zeroDir, "task.yaml")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		path string
		want string
	}{
		{"fifo in a folder", fifoDir, filepath.Join(fifoDir, "task.yaml") + ": not a regular file (a named pipe)"},
		{"fifo named", filepath.Join(fifoDir, "task.yaml"), filepath.Join(fifoDir, "task.yaml") + ": not a regular file (a named pipe)"},
		{"/dev/zero in a folder", zeroDir, filepath.Join(zeroDir, "task.yaml") + ": not a regular file (a device)"},
	} {
		done := make(chan error, 1)
		go func() { _, err := Collect([]string{tc.path}, nil); done <- err }()
		select {
		case err := <-done:
			if !errors.Is(err, boundedio.ErrNotRegular) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: Collect blocks", tc.name)
		}
	}
	_, err := Collect([]string{"-"}, strings.NewReader(strings.Repeat("#", MaxFileBytes+1)))
	if !errors.Is(err, boundedio.ErrTooLarge) || !strings.Contains(err.Error(), "reading stdin: input too large: more than 32 MiB") {
		t.Errorf("stdin over the limit: %v", err)
	}
}
