package image

import (
	"archive/tar"
	"bytes"
	"debug/buildinfo"
	"fmt"
	"io"
	"path"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// File is one tar entry of a layer built by TarLayer; a Name ending in
// "/" is a folder.
type File struct {
	Name string
	Mode int64
	Data []byte
}

// TarLayer is a gzipped tar of files, root-owned, stamped t and in name
// order: its digest depends only on the names, modes, contents and t.
func TarLayer(files []File, t time.Time, mt types.MediaType) (v1.Layer, error) {
	files = append([]File(nil), files...)
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{
			Typeflag: tar.TypeReg, Name: f.Name, Mode: f.Mode, Size: int64(len(f.Data)), ModTime: t,
			Uname: "root", Gname: "root", Format: tar.FormatPAX,
		}
		if strings.HasSuffix(f.Name, "/") {
			h.Typeflag, h.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.Data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}, tarball.WithMediaType(mt), tarball.WithCompressedCaching)
}

// binaryLayer holds the binary at target and target's parent folders.
func binaryLayer(data []byte, target string, t time.Time, mt types.MediaType) (v1.Layer, error) {
	target = strings.TrimPrefix(path.Clean(target), "/")
	files := []File{{Name: target, Mode: 0o755, Data: data}}
	for d := path.Dir(target); d != "."; d = path.Dir(d) {
		files = append(files, File{Name: d + "/", Mode: 0o755})
	}
	return TarLayer(files, t, mt)
}

// readBuildInfo reads the module list Go embedded in the binary.
func readBuildInfo(bin []byte) (*debug.BuildInfo, error) {
	bi, err := buildinfo.Read(bytes.NewReader(bin))
	if err != nil {
		return nil, fmt.Errorf("not a Go main package binary (%w); pass the path of a package with func main", err)
	}
	return bi, nil
}
