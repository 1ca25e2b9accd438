// Package pin resolves the catalog's image table to digests through the
// registry API and keeps them in a lock file, so generation can read
// digests offline and `pin --check` can tell when a tag has moved.
package pin

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/pipewright/pipewright/pkg/images"
)

// DefaultFile is the lock file's conventional name.
const DefaultFile = "images.lock.json"

// Version is the lock file format version.
const Version = images.LockVersion

// Entry and Lock are the catalog's lock types: the catalog reads the lock
// (embedded), this package resolves and checks it against registries.
type (
	Entry = images.LockEntry
	Lock  = images.Lock
)

// Options configures registry access.
type Options struct {
	Keychain authn.Keychain // empty means authn.DefaultKeychain (~/.docker/config.json, credential helpers)
	// Mirrors rewrites a repository prefix to where it is fetched from
	// ("docker.io" -> "mirror.local:5000/dockerhub"); the lock records the
	// original repository.
	Mirrors map[string]string
}

// Resolve asks the registry for the digest of every image: the tag's
// current manifest for tagged images, and a check that the manifest exists
// for digest-only ones.
func Resolve(ctx context.Context, table []images.Image, o Options) (Lock, error) {
	l := Lock{Version: Version}
	// The embedded lock only lends sources here: pin is what rewrites a lock
	// that does not cover the table, so its error is not ours to report.
	pinned, _ := images.Pinned()
	var errs []error
	for _, img := range table {
		d, err := resolve(ctx, img.Repo, img.Tag, img.Digest, o)
		if err != nil {
			errs = append(errs, fmt.Errorf("image %s: %w", img.Name, err))
			continue
		}
		src := "registry " + img.Repo + " (pipewright pin)"
		if prev, ok := pinned.Get(img.Name); ok && prev.Digest == d {
			src = prev.Source // unchanged: keep where it was first read
		}
		l.Images = append(l.Images, Entry{Name: img.Name, Repo: img.Repo, Tag: img.Tag, Digest: d, Source: src})
	}
	sort.Slice(l.Images, func(i, j int) bool { return l.Images[i].Name < l.Images[j].Name })
	return l, errors.Join(errs...)
}

// FromTable writes the digests the catalog was built with (the embedded
// lock, read from public sources, not from a registry) into a lock, for
// bootstrapping where no registry is reachable; `pin --check` verifies it
// where one is.
func FromTable(table []images.Image) Lock {
	l := Lock{Version: Version}
	pinned, _ := images.Pinned() // sources only; see Resolve
	for _, img := range table {
		e := Entry{Name: img.Name, Repo: img.Repo, Tag: img.Tag, Digest: img.Digest}
		if prev, ok := pinned.Get(img.Name); ok && prev.Digest == img.Digest {
			e.Source = prev.Source
		}
		l.Images = append(l.Images, e)
	}
	sort.Slice(l.Images, func(i, j int) bool { return l.Images[i].Name < l.Images[j].Name })
	return l
}

// Check compares the lock with the table and the registry. Every
// difference is reported: an image missing from the lock, a lock entry
// whose repository or tag no longer matches the table, an entry for an
// image the table dropped, and a tag that now points at another digest.
func Check(ctx context.Context, l Lock, table []images.Image, o Options) error {
	var errs []error
	seen := map[string]bool{}
	for _, img := range table {
		seen[img.Name] = true
		e, ok := l.Get(img.Name)
		if !ok {
			errs = append(errs, fmt.Errorf("image %s: not in the lock file; run pipewright pin", img.Name))
			continue
		}
		if e.Repo != img.Repo || e.Tag != img.Tag {
			errs = append(errs, fmt.Errorf("image %s: lock has %s:%s, the table has %s:%s; run pipewright pin", img.Name, e.Repo, e.Tag, img.Repo, img.Tag))
			continue
		}
		d, err := resolve(ctx, e.Repo, e.Tag, e.Digest, o)
		if err != nil {
			errs = append(errs, fmt.Errorf("image %s: %w", img.Name, err))
			continue
		}
		if d != e.Digest {
			errs = append(errs, fmt.Errorf("image %s: %s:%s moved: lock has %s, the registry has %s", img.Name, e.Repo, e.Tag, e.Digest, d))
		}
	}
	for _, e := range l.Images {
		if !seen[e.Name] {
			errs = append(errs, fmt.Errorf("image %s: in the lock file but not in the table; run pipewright pin", e.Name))
		}
	}
	return errors.Join(errs...)
}

func resolve(ctx context.Context, repo, tag, digest string, o Options) (string, error) {
	kc := o.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	from := mirror(repo, o.Mirrors)
	var s string
	if tag != "" {
		s = from + ":" + tag
	} else if digest != "" {
		s = from + "@" + digest
	} else {
		return "", fmt.Errorf("%s has neither tag nor digest", repo)
	}
	ref, err := name.ParseReference(s)
	if err != nil {
		return "", fmt.Errorf("%s: %w", s, err)
	}
	ropts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(kc), remote.WithUserAgent("pipewright")}
	// HEAD costs no body and no pull quota; some registries omit the digest
	// header on HEAD, so GET (which hashes the body) is the fallback.
	if desc, err := remote.Head(ref, ropts...); err == nil {
		return desc.Digest.String(), nil
	}
	desc, err := remote.Get(ref, ropts...)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", ref, err)
	}
	return desc.Digest.String(), nil
}

// mirror applies the longest matching prefix rewrite.
func mirror(repo string, mirrors map[string]string) string {
	best := ""
	for from := range mirrors {
		if (repo == from || strings.HasPrefix(repo, from+"/")) && len(from) > len(best) {
			best = from
		}
	}
	if best == "" {
		return repo
	}
	return mirrors[best] + strings.TrimPrefix(repo, best)
}

// Read loads a lock file.
func Read(path string) (Lock, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Lock{}, fmt.Errorf("lock file: %w (create it with pipewright pin)", err)
	}
	return images.ParseLock(b, path)
}
