// Package toolbin copies the running pipewright program into a volume that
// a Task's steps share, so a later step from another image (the Go
// toolchain's, for go-image) can run it. Tekton's own entrypoint reaches its
// steps the same way; the tool image has no shell or cp to do it with.
package toolbin

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Install copies the running executable to dest (mode 0755), atomically: a
// step that starts early never sees half a binary.
func Install(dest string) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("install %s: %w", dest, err)
	}
	return Copy(self, dest)
}

// Copy copies the file src to dest with mode 0755 through a temporary file
// in dest's folder.
func Copy(src, dest string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("install %s: %w", dest, err)
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return fmt.Errorf("install %s: %w", dest, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), ".pipewright-*")
	if err != nil {
		return fmt.Errorf("install %s: %w", dest, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		return fmt.Errorf("install %s: %w", dest, err)
	}
	if err := tmp.Chmod(0o755); err != nil {
		tmp.Close()
		return fmt.Errorf("install %s: %w", dest, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("install %s: %w", dest, err)
	}
	if err := os.Rename(tmp.Name(), dest); err != nil {
		return fmt.Errorf("install %s: %w", dest, err)
	}
	return nil
}
