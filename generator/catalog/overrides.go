package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/pipewright/pipewright/generator/suggest"
	"github.com/pipewright/pipewright/pkg/images"
)

// ImageSet replaces catalog images for one generation, for teams that pull
// from a mirrored or air-gapped registry: catalog image name (Image.Name,
// the lock's name) -> the reference to write instead, pinned by digest
// (REPO[:TAG]@sha256:<64 hex>). A nil set replaces nothing.
//
// A set is a value handed to GetWith and AllWith: the image table and the
// lock are never changed, so generations with different sets (or none) can
// run one after the other, or at once, in one process.
type ImageSet map[string]string

// Merge returns a new set holding s's overrides and over's, over's winning
// for an image named in both.
func (s ImageSet) Merge(over ImageSet) ImageSet {
	if len(s) == 0 && len(over) == 0 {
		return nil
	}
	out := make(ImageSet, len(s)+len(over))
	maps.Copy(out, s)
	maps.Copy(out, over)
	return out
}

// Ref is the reference generation writes for img: the set's override, else
// the table's pinned reference.
func (s ImageSet) Ref(img images.Image) string {
	if r := s[img.Name]; r != "" {
		return r
	}
	return img.Ref()
}

// ImageRef is a catalog image and the reference generation writes for it.
type ImageRef struct {
	Name       string
	Ref        string
	Overridden bool // the reference comes from the set, not the lock
}

// Refs lists every catalog image, sorted by name, with s applied.
func (s ImageSet) Refs() []ImageRef {
	var out []ImageRef
	for _, img := range images.All() {
		out = append(out, ImageRef{Name: img.Name, Ref: s.Ref(img), Overridden: s[img.Name] != ""})
	}
	return out
}

// Check reports overrides of images the table does not have and
// references not pinned by digest, one line each, in name order. Sets from
// the config and from ParseImageFile have passed it already.
func (s ImageSet) Check() error {
	var errs []error
	for _, n := range sortedKeys(s) {
		if !images.Known(n) {
			errs = append(errs, fmt.Errorf("images: no catalog image %q (hint: %s)", n, KnownImagesHint(n)))
		} else if err := CheckPinned(s[n]); err != nil {
			errs = append(errs, fmt.Errorf("images: %s: %w (hint: %s)", n, err, PinnedHint(n)))
		}
	}
	return errors.Join(errs...)
}

// CheckPinned reports a reference that is not REPO[:TAG]@sha256:<64 hex>.
func CheckPinned(ref string) error {
	if _, err := name.NewDigest(ref); err != nil {
		return fmt.Errorf("%q is not an image pinned by digest (REPO@sha256:<64 hex>): %v", ref, err)
	}
	return nil
}

// KnownImagesHint is the hint for an override of an image the catalog
// does not have: the closest name, if one is close, and every name.
func KnownImagesHint(got string) string {
	names := images.Names()
	known := "catalog images: " + strings.Join(names, ", ")
	if best := suggest.Closest(got, names); best != "" {
		return fmt.Sprintf("did you mean %q? %s", best, known)
	}
	return known
}

// PinnedHint shows the form of an override of the image named name, e.g.
// mirror.example.com/library/golang:1.26.6@sha256:<64 hex>.
func PinnedHint(name string) string {
	ex := "mirror.example.com/" + name
	if img, ok := images.Lookup(name); ok {
		repo, tag := mirrorExample(img)
		ex = repo
		if tag != "" {
			ex += ":" + tag
		}
	}
	return "pin it by digest: REPO[:TAG]@sha256:<64 hex>, e.g. " + ex + "@sha256:<64 hex>"
}

// mirrorExample is the table's repository moved to mirror.example.com (the
// path without its registry) and its tag: how a mirror usually names it.
func mirrorExample(img images.Image) (repo, tag string) {
	path := img.Repo
	if first, rest, ok := strings.Cut(path, "/"); ok && strings.ContainsAny(first, ".:") {
		path = rest
	}
	return "mirror.example.com/" + path, img.Tag
}

// Apply returns e with every catalog image reference in its Task spec
// replaced per s: step, sidecar and step template images, and param
// defaults (such as go-image's base). Entries are built from the table, so
// a catalog image appears in them as exactly its pinned reference, and
// that is what is replaced; e itself is not changed.
func (s ImageSet) Apply(e Entry) Entry {
	repl := map[string]string{}
	for n, ref := range s {
		if img, ok := images.Lookup(n); ok && ref != "" {
			repl[img.Ref()] = ref
		}
	}
	if len(repl) == 0 {
		return e
	}
	swap := func(v *string) {
		if r, ok := repl[*v]; ok {
			*v = r
		}
	}
	spec := e.Spec.DeepCopy()
	for i := range spec.Steps {
		swap(&spec.Steps[i].Image)
	}
	for i := range spec.Sidecars {
		swap(&spec.Sidecars[i].Image)
	}
	if spec.StepTemplate != nil {
		swap(&spec.StepTemplate.Image)
	}
	for i := range spec.Params {
		d := spec.Params[i].Default
		if d == nil {
			continue
		}
		swap(&d.StringVal)
		for j := range d.ArrayVal {
			swap(&d.ArrayVal[j])
		}
		for k, v := range d.ObjectVal {
			if r, ok := repl[v]; ok {
				d.ObjectVal[k] = r
			}
		}
	}
	e.Spec = *spec
	return e
}

// GetWith is Get with the images of s.
func GetWith(name string, s ImageSet) (Entry, error) {
	e, err := Get(name)
	if err != nil {
		return Entry{}, err
	}
	return s.Apply(e), nil
}

// AllWith is All with the images of s.
func AllWith(s ImageSet) []Entry {
	all := All()
	for i, e := range all {
		all[i] = s.Apply(e)
	}
	return all
}

// imageFileHint shows an image file's form.
const imageFileHint = `an image file has the lock's format: {"version": 1, "images": [{"name": "golang", "repo": "mirror.example.com/library/golang", "tag": "1.26.6", "digest": "sha256:<64 hex>"}]}; tag and source are optional`

// entryHint shows an image file's entry for the image named name.
func entryHint(name string) string {
	img, ok := images.Lookup(name)
	if !ok {
		return imageFileHint
	}
	repo, tag := mirrorExample(img)
	e := fmt.Sprintf(`{"name": %q, "repo": %q`, name, repo)
	if tag != "" {
		e += fmt.Sprintf(`, "tag": %q`, tag)
	}
	return "write the entry as " + e + `, "digest": "sha256:<64 hex>"}, tag optional`
}

// ReadImageFile reads an override set from a file in the lock's format;
// see ParseImageFile.
func ReadImageFile(path string) (ImageSet, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseImageFile(b, path)
}

// ParseImageFile reads an override set from b, a file in the lock's format
// (images.lock.json): {"version": 1, "images": [{"name", "repo", "tag",
// "digest", "source"}]}, where name (a catalog image), repo and digest are
// required and tag and source optional. Each entry overrides its image
// with repo[:tag]@digest. Problems are reported one per line as
// FILE:LINE:COL: images[I] ("NAME"): message (hint: ...), where file names
// the file.
func ParseImageFile(b []byte, file string) (ImageSet, error) {
	var top struct {
		Version int               `json:"version"`
		Images  []json.RawMessage `json:"images"`
	}
	if err := strictDecode(b, &top); err != nil {
		line, col := lineCol(b, jsonErrorOffset(err, b))
		return nil, fmt.Errorf("%s:%d:%d: not an image file: %v (hint: %s)", file, line, col, err, imageFileHint)
	}
	switch top.Version {
	case images.LockVersion:
	case 0:
		return nil, fmt.Errorf("%s:1:1: version is required (hint: %s)", file, imageFileHint)
	default:
		return nil, fmt.Errorf("%s:1:1: version %d, this pipewright reads version %d (hint: %s)", file, top.Version, images.LockVersion, imageFileHint)
	}
	offsets := entryOffsets(b)
	set := ImageSet{}
	first := map[string]int{}
	var problems []string
	for i, raw := range top.Images {
		var start int64
		if i < len(offsets) {
			start = offsets[i]
		}
		var e images.LockEntry
		err := strictDecode(raw, &e)
		at := start
		if err != nil {
			at += jsonErrorOffset(err, raw)
		}
		line, col := lineCol(b, at)
		where := fmt.Sprintf("%s:%d:%d: images[%d]", file, line, col, i)
		if e.Name != "" {
			where += fmt.Sprintf(" (%q)", e.Name)
		}
		fail := func(hint, format string, args ...any) {
			problems = append(problems, fmt.Sprintf("%s: %s (hint: %s)", where, fmt.Sprintf(format, args...), hint))
		}
		known := images.Known(e.Name)
		j, dup := first[e.Name]
		switch {
		case err != nil:
			fail(entryHint(e.Name), "%v", err)
		case e.Name == "":
			fail("name the catalog image to replace: "+strings.Join(images.Names(), ", "), "name is required")
		case !known:
			fail(KnownImagesHint(e.Name), "no catalog image %q", e.Name)
		case dup:
			fail("keep one entry per image", "%q appears twice (first at images[%d])", e.Name, j)
		case e.Repo == "":
			fail(entryHint(e.Name), "repo is required")
		case !images.ValidDigest(e.Digest):
			fail(fmt.Sprintf(`"digest": "sha256:<64 hex>", the digest your registry serves for %s`, strings.TrimSuffix(e.Repo+":"+e.Tag, ":")),
				"digest %q is not sha256:<64 hex>: an override must be pinned by digest", e.Digest)
		default:
			if err := CheckPinned(e.Ref()); err != nil {
				fail(entryHint(e.Name), "%v", err)
			}
		}
		if e.Name != "" && !dup {
			first[e.Name] = i
		}
		set[e.Name] = e.Ref()
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "\n"))
	}
	return set, nil
}

// strictDecode decodes one JSON value, refusing unknown fields.
func strictDecode(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// jsonErrorOffset is where in b a decoding error points, or 0: the last
// byte the decoder read (of the offending character or value), or the end.
func jsonErrorOffset(err error, b []byte) int64 {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return max(se.Offset-1, 0)
	case errors.As(err, &te):
		return max(te.Offset-1, 0)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return int64(len(b))
	}
	return 0
}

// entryOffsets returns where each element of the top-level "images" array
// of b starts, for error positions; nil when b is not shaped for it.
func entryOffsets(b []byte) []int64 {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	var offs []int64
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return offs
		}
		if k != "images" {
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return offs
			}
			continue
		}
		if t, err := dec.Token(); err != nil || t != json.Delim('[') {
			return offs
		}
		offs = nil // a repeated key: the decoder keeps the last one
		for dec.More() {
			off := dec.InputOffset()
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return offs
			}
			for off < int64(len(b)) && strings.IndexByte(" \t\r\n,", b[off]) >= 0 {
				off++
			}
			offs = append(offs, off)
		}
		if _, err := dec.Token(); err != nil { // ]
			return offs
		}
	}
	return offs
}

// lineCol turns a byte offset into a 1-based line and column.
func lineCol(b []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(b)))
	before := b[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}
