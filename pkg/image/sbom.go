package image

import (
	"encoding/json"
	"fmt"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// SPDXMediaType is the layer media type of an attached SPDX JSON SBOM, as
// ko and cosign write it.
const SPDXMediaType types.MediaType = "text/spdx+json"

// The subset of SPDX 2.3 JSON this package writes.
type spdxDoc struct {
	SPDXVersion       string             `json:"spdxVersion"`
	DataLicense       string             `json:"dataLicense"`
	SPDXID            string             `json:"SPDXID"`
	Name              string             `json:"name"`
	DocumentNamespace string             `json:"documentNamespace"`
	CreationInfo      spdxCreation       `json:"creationInfo"`
	Packages          []spdxPackage      `json:"packages"`
	Relationships     []spdxRelationship `json:"relationships"`
}

type spdxCreation struct {
	Created  string   `json:"created"`
	Creators []string `json:"creators"`
	Comment  string   `json:"comment,omitempty"`
}

type spdxPackage struct {
	SPDXID           string       `json:"SPDXID"`
	Name             string       `json:"name"`
	VersionInfo      string       `json:"versionInfo,omitempty"`
	DownloadLocation string       `json:"downloadLocation"`
	FilesAnalyzed    bool         `json:"filesAnalyzed"`
	PrimaryPurpose   string       `json:"primaryPackagePurpose,omitempty"`
	ExternalRefs     []spdxExtRef `json:"externalRefs,omitempty"`
	Checksums        []spdxSum    `json:"checksums,omitempty"`
	Comment          string       `json:"comment,omitempty"`
}

type spdxExtRef struct {
	Category string `json:"referenceCategory"`
	Type     string `json:"referenceType"`
	Locator  string `json:"referenceLocator"`
}

type spdxSum struct {
	Algorithm string `json:"algorithm"`
	Value     string `json:"checksumValue"`
}

type spdxRelationship struct {
	Element string `json:"spdxElementId"`
	Type    string `json:"relationshipType"`
	Related string `json:"relatedSpdxElement"`
}

var notIDChar = regexp.MustCompile(`[^A-Za-z0-9.-]+`)

// SPDX describes a Go binary's modules, read from its embedded build info,
// as an SPDX 2.3 JSON document. The image digest names the document, and
// created is the build's timestamp, so the SBOM is as reproducible as the
// image it describes.
func SPDX(bi *debug.BuildInfo, app string, image v1.Hash, created time.Time) ([]byte, error) {
	if bi == nil || bi.Main.Path == "" {
		return nil, fmt.Errorf("%s: binary has no module build info", app)
	}
	used := map[string]int{}
	id := func(path string) string {
		s := "SPDXRef-Package-" + strings.Trim(notIDChar.ReplaceAllString(path, "-"), "-")
		used[s]++
		if n := used[s]; n > 1 {
			s = fmt.Sprintf("%s-%d", s, n)
		}
		return s
	}
	pkg := func(m *debug.Module) spdxPackage {
		path, version, sum := m.Path, m.Version, m.Sum
		if m.Replace != nil {
			path, version, sum = m.Replace.Path, m.Replace.Version, m.Replace.Sum
		}
		p := spdxPackage{SPDXID: id(path), Name: path, DownloadLocation: "NOASSERTION"}
		purl := "pkg:golang/" + path
		if version != "" && version != "(devel)" {
			p.VersionInfo = version
			purl += "@" + version
			p.DownloadLocation = "https://proxy.golang.org/" + strings.ToLower(path) + "/@v/" + version + ".zip"
		}
		p.ExternalRefs = []spdxExtRef{{Category: "PACKAGE-MANAGER", Type: "purl", Locator: purl}}
		if sum != "" {
			// go.sum's h1: is a SHA-256 over the module's file hashes; SPDX
			// has no algorithm for it, so it is kept as a comment.
			p.Comment = "go.sum " + sum
		}
		return p
	}

	root := spdxPackage{
		SPDXID:           "SPDXRef-Package-image",
		Name:             app,
		VersionInfo:      image.String(),
		DownloadLocation: "NOASSERTION",
		PrimaryPurpose:   "CONTAINER",
		Checksums:        []spdxSum{{Algorithm: strings.ToUpper(image.Algorithm), Value: image.Hex}},
	}
	main := pkg(&bi.Main)
	main.PrimaryPurpose = "APPLICATION"
	doc := spdxDoc{
		SPDXVersion:       "SPDX-2.3",
		DataLicense:       "CC0-1.0",
		SPDXID:            "SPDXRef-DOCUMENT",
		Name:              app + "@" + image.String(),
		DocumentNamespace: "https://pipewright.dev/spdx/" + app + "/" + image.Hex,
		CreationInfo: spdxCreation{
			Created:  created.UTC().Format(time.RFC3339),
			Creators: []string{"Tool: pipewright"},
			Comment:  "Go modules from the binary's build info, built with " + bi.GoVersion,
		},
		Packages: []spdxPackage{root, main},
		Relationships: []spdxRelationship{
			{Element: "SPDXRef-DOCUMENT", Type: "DESCRIBES", Related: root.SPDXID},
			{Element: root.SPDXID, Type: "CONTAINS", Related: main.SPDXID},
		},
	}
	for _, m := range bi.Deps {
		p := pkg(m)
		doc.Packages = append(doc.Packages, p)
		doc.Relationships = append(doc.Relationships, spdxRelationship{Element: main.SPDXID, Type: "DEPENDS_ON", Related: p.SPDXID})
	}
	return json.MarshalIndent(doc, "", "  ")
}

type sbomFor struct {
	digest v1.Hash
	doc    []byte
}

// SBOMTag is where ko and cosign attach an SBOM for the image with digest d.
func SBOMTag(repo name.Repository, d v1.Hash) name.Tag {
	return repo.Tag(fmt.Sprintf("%s-%s.sbom", d.Algorithm, d.Hex))
}

// attachSBOM pushes the document as a one-layer OCI artifact under the
// image's sbom tag, which registries without the referrers API also serve.
func attachSBOM(repo name.Repository, s sbomFor, t time.Time, ropts []remote.Option) (name.Tag, error) {
	img, err := SBOMImage(s.doc, t)
	if err != nil {
		return name.Tag{}, err
	}
	tag := SBOMTag(repo, s.digest)
	if err := remote.Write(tag, img, ropts...); err != nil {
		return name.Tag{}, fmt.Errorf("image build: attach sbom %s: %w", tag, err)
	}
	return tag, nil
}

// SBOMImage wraps an SPDX document as an OCI image with one layer.
func SBOMImage(doc []byte, t time.Time) (v1.Image, error) {
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.Append(img, mutate.Addendum{Layer: static.NewLayer(doc, SPDXMediaType)})
	if err != nil {
		return nil, err
	}
	return mutate.CreatedAt(img, v1.Time{Time: t})
}
