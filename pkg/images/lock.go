package images

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
)

// LockFile is where the catalog's lock lives in this repository; `pipewright
// pin` rewrites it and the catalog reads it (embedded) at build time.
const LockFile = "pkg/images/images.lock.json"

// LockVersion is the lock file format version.
const LockVersion = 1

// LockEntry pins one image of the table to a digest.
type LockEntry struct {
	Name   string `json:"name"`
	Repo   string `json:"repo"`
	Tag    string `json:"tag,omitempty"`
	Digest string `json:"digest"`
	// Source says where the digest came from: the public file it was read
	// from, or the registry that answered `pipewright pin`.
	Source string `json:"source,omitempty"`
}

// Ref is repo:tag@digest, or repo@digest for an untagged entry: the form
// steps use, where the digest decides and the tag documents.
func (e LockEntry) Ref() string {
	if e.Tag == "" {
		return e.Repo + "@" + e.Digest
	}
	return e.Repo + ":" + e.Tag + "@" + e.Digest
}

// Lock is the lock file: entries sorted by name.
type Lock struct {
	Version int         `json:"version"`
	Images  []LockEntry `json:"images"`
}

// Get returns the entry named name.
func (l Lock) Get(name string) (LockEntry, bool) {
	for _, e := range l.Images {
		if e.Name == name {
			return e, true
		}
	}
	return LockEntry{}, false
}

// ParseLock decodes and checks a lock file's bytes; file names it in errors.
func ParseLock(b []byte, file string) (Lock, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var l Lock
	if err := dec.Decode(&l); err != nil {
		return Lock{}, fmt.Errorf("lock file %s: %w", file, err)
	}
	if l.Version != LockVersion {
		return Lock{}, fmt.Errorf("lock file %s: version %d, this pipewright reads version %d; run pipewright pin", file, l.Version, LockVersion)
	}
	seen := map[string]bool{}
	for i, e := range l.Images {
		if e.Name == "" || e.Repo == "" || !ValidDigest(e.Digest) {
			return Lock{}, fmt.Errorf("lock file %s: images[%d] (%q): name, repo and a sha256:<64 hex> digest are required", file, i, e.Name)
		}
		if seen[e.Name] {
			return Lock{}, fmt.Errorf("lock file %s: images[%d]: %q appears twice", file, i, e.Name)
		}
		seen[e.Name] = true
	}
	return l, nil
}

// ValidDigest reports whether d is sha256:<64 lowercase hex>.
func ValidDigest(d string) bool {
	hex, ok := strings.CutPrefix(d, "sha256:")
	return ok && len(hex) == 64 && strings.Trim(hex, "0123456789abcdef") == ""
}

// Marshal is the lock file's bytes: indented JSON, entries sorted by name,
// so rewriting an unchanged lock changes nothing.
func (l Lock) Marshal() ([]byte, error) {
	l.Images = append([]LockEntry(nil), l.Images...)
	sort.Slice(l.Images, func(i, j int) bool { return l.Images[i].Name < l.Images[j].Name })
	b, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Write writes the lock file.
func (l Lock) Write(path string) error {
	b, err := l.Marshal()
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("lock file: %w", err)
	}
	return nil
}

//go:embed images.lock.json
var embeddedLock []byte

// pinned reads the embedded lock once, on first use, and checks that it
// covers the table and its toolchain versions; the lock it returns holds
// every entry that parsed, so a table entry the lock does cover keeps its
// digest beside one it does not.
var pinned = sync.OnceValues(func() (Lock, error) {
	l, err := ParseLock(embeddedLock, LockFile)
	if err != nil {
		return Lock{}, err
	}
	var errs []error
	for _, img := range append(table(), toolchains...) {
		e, ok := l.Get(img.Name)
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("lock file %s: no entry for image %s; run pipewright pin", LockFile, img.Name))
		case e.Repo != img.Repo || e.Tag != img.Tag:
			errs = append(errs, fmt.Errorf("lock file %s: %s is %s:%s, the table says %s:%s; run pipewright pin", LockFile, img.Name, e.Repo, e.Tag, img.Repo, img.Tag))
		}
	}
	return l, errors.Join(errs...)
})

// Pinned is the catalog's embedded lock, the only source of the digests
// generation emits, and why it does not cover the table (nil when it does).
// Generation refuses to run on that error; `pipewright pin`, which rewrites
// the lock, reads what there is.
func Pinned() (Lock, error) { return pinned() }

// pinnedDigest is the lock's digest for a table image, "" when the lock has
// no matching entry.
func pinnedDigest(img Image) string {
	l, _ := pinned() // the error is Pinned's to report
	if e, ok := l.Get(img.Name); ok && e.Repo == img.Repo && e.Tag == img.Tag {
		return e.Digest
	}
	return ""
}
