package catalog_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/pipewright/pipewright/generator/catalog"
)

// The JDK picks the maven image by major: each pinned Temurin release has
// its own image, and a release the lock lacks names the pinned ones.
func TestSelectVersionJDK(t *testing.T) {
	for _, want := range []struct{ version, tag string }{
		{"11", "3.9.16-eclipse-temurin-11"},
		{"17", "3.9.16-eclipse-temurin-17"},
		{"21", "3.9.16-eclipse-temurin-21"},
	} {
		img, err := catalog.SelectVersion("maven", want.version, 1)
		if err != nil {
			t.Fatalf("JDK %s: %v", want.version, err)
		}
		if img.Tag != want.tag || img.Digest == "" {
			t.Errorf("JDK %s: got %s:%s@%s, want tag %s pinned", want.version, img.Repo, img.Tag, img.Digest, want.tag)
		}
	}
	_, err := catalog.SelectVersion("maven", "8", 1)
	var ve *catalog.VersionError
	if !errors.As(err, &ve) {
		t.Fatalf("JDK 8: want a VersionError, got %v", err)
	}
	if !reflect.DeepEqual(ve.Pinned, []string{"11", "17", "21"}) || ve.Nearest != "11" {
		t.Errorf("JDK 8: pinned %v nearest %s, want [11 17 21] and 11", ve.Pinned, ve.Nearest)
	}
}
