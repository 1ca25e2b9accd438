package images

import (
	"strings"
	"testing"
)

func TestEmbeddedLockCoversTheTable(t *testing.T) {
	l, err := Pinned()
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range All() {
		e, ok := l.Get(img.Name)
		if !ok || img.Digest != e.Digest || img.Ref() != e.Ref() {
			t.Errorf("image %s: ref %s, lock entry %+v", img.Name, img.Ref(), e)
		}
		if !strings.Contains(img.Ref(), "@sha256:") {
			t.Errorf("image %s is not pinned: %s", img.Name, img.Ref())
		}
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
