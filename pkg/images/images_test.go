package images

import (
	"strings"
	"testing"
)

// The lock pins the table and its toolchain versions, each digest with the
// public source it was read from.
func TestEmbeddedLockCoversTheTable(t *testing.T) {
	l, err := Pinned()
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range append(All(), Toolchains()...) {
		e, ok := l.Get(img.Name)
		if !ok || img.Digest != e.Digest || img.Ref() != e.Ref() {
			t.Errorf("image %s: ref %s, lock entry %+v", img.Name, img.Ref(), e)
		}
		if !strings.Contains(img.Ref(), "@sha256:") {
			t.Errorf("image %s is not pinned: %s", img.Name, img.Ref())
		}
		if e.Source == "" {
			t.Errorf("image %s: the lock names no source for its digest", img.Name)
		}
		if !Known(img.Name) {
			t.Errorf("Known(%q) = false", img.Name)
		}
	}
	if Known("golang:0.1") {
		t.Error(`Known("golang:0.1") = true for a version the lock does not pin`)
	}
}

// An image the lock does not know (or knows under another tag) stays
// unpinned, which validation and lint reject, rather than borrowing a digest.
func TestRefWithoutLockEntryIsUnpinned(t *testing.T) {
	for _, img := range []Image{
		{Name: "not-in-the-lock", Repo: "example.com/x", Tag: "1"},
		{Name: Golang.Name, Repo: Golang.Repo, Tag: "another-tag"},
	} {
		if got, want := img.Ref(), img.Repo+":"+img.Tag; got != want {
			t.Errorf("%+v: Ref() = %s, want %s", img, got, want)
		}
	}
}
