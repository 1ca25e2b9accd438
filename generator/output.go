package generator

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pipewright/pipewright/generator/render"
)

// ManifestFile lists, in the output folder, the files pipewright wrote there
// and their sha256 (sha256sum's format, so `sha256sum -c` checks it). It is
// how generate knows which files are its own: it replaces or removes only
// those, and only while they still hold what it wrote.
const ManifestFile = ".pipewright-files"

// WriteOptions tune WriteOwned.
type WriteOptions struct {
	// Force overwrites (and removes stale) files pipewright does not own or
	// that were changed since it wrote them.
	Force bool
}

// WriteReport says what WriteOwned did, by slash path relative to the folder.
type WriteReport struct {
	Written, Unchanged, Removed []string
	// Adopted are files that existed, unowned, with exactly the content
	// generated: now owned.
	Adopted []string
}

// ConflictError lists the files generation would have overwritten or removed
// without owning them; nothing was written.
type ConflictError struct {
	Dir       string
	Conflicts []string // "path: why", sorted
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s: refusing to overwrite files pipewright does not own (nothing was written):\n  %s\n(hint: generate into a folder of its own, e.g. -o tekton, move these files away, or pass --force to overwrite them)",
		e.Dir, strings.Join(e.Conflicts, "\n  "))
}

// readManifest returns the owned files of dir (path → sha256 hex); a missing
// manifest owns nothing.
func readManifest(dir string) (map[string]string, error) {
	owned := map[string]string{}
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if errors.Is(err, fs.ErrNotExist) {
		return owned, nil
	}
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		sum, p, ok := strings.Cut(line, "  ")
		if !ok || len(sum) != 64 || !safeRel(p) {
			return nil, fmt.Errorf("%s:%d: not a `<sha256>  <path>` line inside the folder (hint: remove the line, or the file to start over; pipewright then owns nothing there)", filepath.Join(dir, ManifestFile), n)
		}
		owned[p] = sum
	}
	return owned, sc.Err()
}

func manifest(tree render.Tree) []byte {
	var b bytes.Buffer
	b.WriteString("# Files pipewright generate wrote here, with their sha256: it replaces or removes only these,\n# and only while unchanged. Check them with: sha256sum -c " + ManifestFile + "\n")
	for _, p := range tree.Paths() {
		fmt.Fprintf(&b, "%s  %s\n", sum(tree[p]), p)
	}
	return b.Bytes()
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func safeRel(p string) bool {
	return p != "" && !path.IsAbs(p) && path.Clean(p) == p && p != ".." && !strings.HasPrefix(p, "../") && p != ManifestFile
}

// WriteOwned writes tree into dir without destroying anything pipewright
// does not own. It owns what its manifest lists, while those files still
// hold what it wrote: they are replaced, and those the tree no longer has
// are removed. Any other file in the way (an unowned file, an owned one
// edited since, a folder where a file goes) is a conflict: nothing is
// written, unless opts.Force. A file that already holds exactly the
// generated content is taken over. Files are staged beside their targets
// and renamed in; a failure midway puts the old ones back.
func WriteOwned(tree render.Tree, dir string, opts WriteOptions) (WriteReport, error) {
	var rep WriteReport
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return rep, fmt.Errorf("output folder %s: %w", dir, err)
	}
	owned, err := readManifest(dir)
	if err != nil {
		return rep, err
	}
	var conflicts []string
	write := map[string]bool{}
	for _, p := range tree.Paths() {
		if p == ManifestFile {
			return rep, fmt.Errorf("%s: the generator made a file named like its manifest (a pipewright bug)", p)
		}
		cur, err := readIfFile(dir, p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			write[p] = true
		case err != nil:
			conflicts = append(conflicts, fmt.Sprintf("%s: %v", p, err))
		case bytes.Equal(cur, tree[p]):
			if _, ok := owned[p]; ok {
				rep.Unchanged = append(rep.Unchanged, p)
			} else {
				rep.Adopted = append(rep.Adopted, p)
			}
		default:
			write[p] = true
			if s, ok := owned[p]; !ok {
				if !opts.Force {
					conflicts = append(conflicts, p+": exists and pipewright did not write it")
				}
			} else if s != sum(cur) && !opts.Force {
				conflicts = append(conflicts, p+": changed since pipewright wrote it")
			}
		}
	}
	var stale []string
	for p, s := range owned {
		if _, ok := tree[p]; ok {
			continue
		}
		cur, err := readIfFile(dir, p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err == nil && (s == sum(cur) || opts.Force) {
			stale = append(stale, p)
		} else if err == nil {
			conflicts = append(conflicts, p+": no longer generated, but changed since pipewright wrote it (remove it yourself, or --force)")
		} else {
			conflicts = append(conflicts, fmt.Sprintf("%s: %v", p, err))
		}
	}
	sort.Strings(stale)
	if len(conflicts) > 0 {
		sort.Strings(conflicts)
		return rep, &ConflictError{Dir: dir, Conflicts: conflicts}
	}

	stage, err := os.MkdirTemp(dir, ".pipewright-stage-")
	if err != nil {
		return rep, fmt.Errorf("output folder %s is not writable: %w", dir, err)
	}
	defer os.RemoveAll(stage)
	var paths []string
	for _, p := range tree.Paths() {
		if write[p] {
			paths = append(paths, p)
		}
	}
	staged := func(p string) string { return filepath.Join(stage, "new", filepath.FromSlash(p)) }
	backup := func(p string) string { return filepath.Join(stage, "old", filepath.FromSlash(p)) }
	for _, p := range paths {
		if err := writeFile(staged(p), tree[p]); err != nil {
			return rep, fmt.Errorf("write %s: %w", p, err)
		}
	}
	if err := writeFile(staged(ManifestFile), manifest(tree)); err != nil {
		return rep, fmt.Errorf("write %s: %w", ManifestFile, err)
	}

	// Swap in: each replaced or removed file first moves to the backup.
	type move struct {
		p              string
		hadOld, hasNew bool
	}
	var done []move
	rollback := func() {
		for i := len(done) - 1; i >= 0; i-- {
			m := done[i]
			dst := filepath.Join(dir, filepath.FromSlash(m.p))
			if m.hasNew {
				_ = os.Remove(dst)
			}
			if m.hadOld {
				_ = os.Rename(backup(m.p), dst)
			}
		}
	}
	swap := func(p string, hasNew bool) error {
		dst := filepath.Join(dir, filepath.FromSlash(p))
		m := move{p: p, hasNew: hasNew}
		if _, err := os.Lstat(dst); err == nil {
			if err := os.MkdirAll(filepath.Dir(backup(p)), 0o755); err != nil {
				return err
			}
			if err := os.Rename(dst, backup(p)); err != nil {
				return err
			}
			m.hadOld = true
		}
		done = append(done, m) // before the rename in: rollback tolerates a missing file
		if !hasNew {
			return nil
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return rename(staged(p), dst)
	}
	for _, p := range paths {
		if err := swap(p, true); err != nil {
			rollback()
			return WriteReport{}, fmt.Errorf("replace %s: %w", p, err)
		}
	}
	for _, p := range stale {
		if err := swap(p, false); err != nil {
			rollback()
			return WriteReport{}, fmt.Errorf("remove %s: %w", p, err)
		}
	}
	if err := swap(ManifestFile, true); err != nil {
		rollback()
		return WriteReport{}, fmt.Errorf("write %s: %w", ManifestFile, err)
	}
	// Folders the removed files leave empty go too (os.Remove keeps any
	// folder that still holds something).
	for _, p := range stale {
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			if os.Remove(filepath.Join(dir, filepath.FromSlash(d))) != nil {
				break
			}
		}
	}
	rep.Written, rep.Removed = paths, stale
	return rep, nil
}

// readIfFile reads dir/p; a folder (or a file where a parent folder must go)
// in the way is an error, a missing file fs.ErrNotExist.
func readIfFile(dir, p string) ([]byte, error) {
	full := filepath.Join(dir, filepath.FromSlash(p))
	for d := path.Dir(p); d != "."; d = path.Dir(d) {
		if fi, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(d))); err == nil && !fi.IsDir() {
			return nil, fmt.Errorf("%s is a file where pipewright needs a folder", d)
		}
	}
	fi, err := os.Lstat(full)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fs.ErrNotExist
		}
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("is not a regular file (a folder or a link) where pipewright writes one")
	}
	return os.ReadFile(full)
}

// rename is os.Rename; tests make it fail midway.
var rename = os.Rename

func writeFile(f string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
		return err
	}
	return os.WriteFile(f, b, 0o644)
}

// Describe is the line generate prints about what WriteOwned did.
func (r WriteReport) Describe() string {
	s := fmt.Sprintf("%d files written, %d unchanged", len(r.Written), len(r.Unchanged))
	if len(r.Adopted) > 0 {
		s += fmt.Sprintf(", %d taken over (already identical)", len(r.Adopted))
	}
	if len(r.Removed) > 0 {
		s += fmt.Sprintf(", %d no longer generated removed (%s)", len(r.Removed), strings.Join(r.Removed, ", "))
	}
	return s + "; pipewright owns the files listed in " + ManifestFile
}
