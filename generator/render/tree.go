// Package render writes generated trees atomically and the catalog's
// READMEs; the YAML itself comes from pkg/tekton's Marshal.
package render

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Tree is a set of generated files keyed by slash-separated relative path.
type Tree map[string][]byte

// Add puts a file into the tree; adding a path twice is a generator bug.
func (t Tree) Add(p string, data []byte) error {
	p = path.Clean(p)
	if _, dup := t[p]; dup {
		return fmt.Errorf("render: %s generated twice", p)
	}
	t[p] = data
	return nil
}

// Paths lists the tree's files, sorted.
func (t Tree) Paths() []string {
	out := make([]string, 0, len(t))
	for p := range t {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// tops lists the tree's top-level entries (files or folders), sorted.
func (t Tree) tops() []string {
	seen := map[string]bool{}
	for p := range t {
		seen[strings.SplitN(p, "/", 2)[0]] = true
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// Write writes the tree under dir so that a failure leaves dir as it was.
// Every file is first written to a staging folder beside dir; then each of
// the tree's top-level entries replaces its old copy by rename, and the old
// copies are deleted. Entries of dir that the tree does not contain are left
// alone, so writing into a project's root never touches its other files.
func (t Tree) Write(dir string) (err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("output folder %s: %w", dir, err)
	}
	stage, err := os.MkdirTemp(dir, ".pipewright-stage-")
	if err != nil {
		return fmt.Errorf("output folder %s is not writable: %w", dir, err)
	}
	defer os.RemoveAll(stage)
	for _, p := range t.Paths() {
		f := filepath.Join(stage, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
		if err := os.WriteFile(f, t[p], 0o644); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
	}
	old := filepath.Join(stage, ".old")
	if err := os.Mkdir(old, 0o755); err != nil {
		return fmt.Errorf("write %s: %w", dir, err)
	}
	var moved []string // top-level entries already swapped in
	defer func() {
		if err == nil {
			return
		}
		// Undo in reverse: put back what was there before.
		for i := len(moved) - 1; i >= 0; i-- {
			top := moved[i]
			_ = os.RemoveAll(filepath.Join(dir, top))
			if _, statErr := os.Lstat(filepath.Join(old, top)); statErr == nil {
				_ = os.Rename(filepath.Join(old, top), filepath.Join(dir, top))
			}
		}
	}()
	for _, top := range t.tops() {
		dst := filepath.Join(dir, top)
		if _, statErr := os.Lstat(dst); statErr == nil {
			if err := os.Rename(dst, filepath.Join(old, top)); err != nil {
				return fmt.Errorf("replace %s: %w", dst, err)
			}
		} else if !errors.Is(statErr, os.ErrNotExist) {
			return fmt.Errorf("replace %s: %w", dst, statErr)
		}
		moved = append(moved, top)
		if err := os.Rename(filepath.Join(stage, top), dst); err != nil {
			return fmt.Errorf("replace %s: %w", dst, err)
		}
	}
	return nil
}
