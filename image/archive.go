package image

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// ErrBadArchive marks an archive that is malformed or tampered with.
var ErrBadArchive = errors.New("bad image archive")

// archiveEntry is a regular file inside an uncompressed docker-archive.
type archiveEntry struct {
	offset, size int64
}

// archive is an indexed docker-archive: file name to byte range.
type archive struct {
	name    string // the archive as the user named it, for errors
	f       *os.File
	entries map[string]archiveEntry
	// repoTags are the names manifest.json gives the image.
	repoTags []string
}

// manifestEntry is one image in manifest.json of a docker-archive.
type manifestEntry struct {
	Config   string   `json:"Config"`
	RepoTags []string `json:"RepoTags"`
	Layers   []string `json:"Layers"`
}

// indexArchive reads the tar headers of f once and records where each file's
// bytes are. It rejects names that escape the archive. This is the one tar
// reader outside TarWalker: it reads the archive that holds the layers
// (manifest.json, the config, the layer files), not a layer's entries.
func indexArchive(name string, f *os.File) (*archive, error) {
	a := &archive{name: name, f: f, entries: map[string]archiveEntry{}}
	links := map[string]string{}
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w %s: reading tar: %v", ErrBadArchive, name, err)
		}
		clean, err := cleanName(hdr.Name)
		if err != nil {
			return nil, fmt.Errorf("%w %s: %v", ErrBadArchive, name, err)
		}
		switch hdr.Typeflag {
		case tar.TypeReg:
			// tar.Reader seeks over data, so the file position after Next is
			// the start of this entry's bytes.
			off, err := f.Seek(0, io.SeekCurrent)
			if err != nil {
				return nil, fmt.Errorf("reading %s: %w", name, err)
			}
			a.entries[clean] = archiveEntry{offset: off, size: hdr.Size}
		case tar.TypeSymlink, tar.TypeLink:
			// docker save links duplicate layers; resolve after the walk.
			target := hdr.Linkname
			if hdr.Typeflag == tar.TypeSymlink {
				target = path.Join(path.Dir(clean), target)
			}
			t, err := cleanName(target)
			if err != nil {
				return nil, fmt.Errorf("%w %s: link %s: %v", ErrBadArchive, name, hdr.Name, err)
			}
			links[clean] = t
		}
	}
	for from, to := range links {
		for i := 0; i < 16; i++ {
			if e, ok := a.entries[to]; ok {
				a.entries[from] = e
				break
			}
			next, ok := links[to]
			if !ok {
				break
			}
			to = next
		}
	}
	return a, nil
}

// cleanName normalizes an archive member name and rejects absolute names and
// names that climb out of the archive.
func cleanName(name string) (string, error) {
	if strings.HasPrefix(name, "/") {
		return "", fmt.Errorf("member %q is an absolute path", name)
	}
	clean := path.Clean(name)
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("member %q escapes the archive", name)
	}
	return clean, nil
}

func (a *archive) open(name string) (*io.SectionReader, error) {
	clean, err := cleanName(name)
	if err != nil {
		return nil, fmt.Errorf("%w %s: manifest.json: %v", ErrBadArchive, a.name, err)
	}
	e, ok := a.entries[clean]
	if !ok {
		return nil, fmt.Errorf("%w %s: manifest.json names %s, which is not in the archive", ErrBadArchive, a.name, name)
	}
	return io.NewSectionReader(a.f, e.offset, e.size), nil
}

func (a *archive) readSmall(name string, max int64) ([]byte, error) {
	r, err := a.open(name)
	if err != nil {
		return nil, err
	}
	if r.Size() > max {
		return nil, fmt.Errorf("%w %s: %s is %d bytes, more than the %d a %s may have", ErrBadArchive, a.name, name, r.Size(), max, name)
	}
	return io.ReadAll(r)
}

// image returns the archive's single image as a v1.Image.
func (a *archive) image() (v1.Image, error) {
	if _, ok := a.entries["manifest.json"]; !ok {
		return nil, fmt.Errorf("%w %s: has no manifest.json, so it is not a docker-archive", ErrBadArchive, a.name)
	}
	data, err := a.readSmall("manifest.json", 16<<20)
	if err != nil {
		return nil, err
	}
	var entries []manifestEntry
	if err := json.Unmarshal(data, &entries); err != nil {
		return nil, fmt.Errorf("%w %s: manifest.json: %v", ErrBadArchive, a.name, err)
	}
	if len(entries) != 1 {
		return nil, fmt.Errorf("%w %s: manifest.json lists %d images, want 1", ErrBadArchive, a.name, len(entries))
	}
	m := entries[0]
	a.repoTags = m.RepoTags
	rawConfig, err := a.readSmall(m.Config, 64<<20)
	if err != nil {
		return nil, err
	}
	diffIDs, err := parseDiffIDs(rawConfig)
	if err != nil {
		return nil, fmt.Errorf("%w %s: config %s: %v", ErrBadArchive, a.name, m.Config, err)
	}
	if len(diffIDs) != len(m.Layers) {
		return nil, fmt.Errorf("%w %s: config %s lists %d diff_ids for %d layers in manifest.json",
			ErrBadArchive, a.name, m.Config, len(diffIDs), len(m.Layers))
	}
	core := &archiveCore{rawConfig: rawConfig, layers: map[v1.Hash]*archiveLayer{}}
	for i, name := range m.Layers {
		r, err := a.open(name)
		if err != nil {
			return nil, err
		}
		diffID := diffIDs[i]
		if prev, ok := core.layers[diffID]; ok {
			// Both positions will be served from prev's bytes, which are
			// checked against the diff_id; this file's must be the same.
			if err := a.sameBytes(prev, name, r); err != nil {
				return nil, err
			}
			continue
		}
		core.layers[diffID] = &archiveLayer{archive: a.name, file: name, diffID: diffID, r: r}
	}
	img, err := partial.UncompressedToImage(core)
	if err != nil {
		return nil, err
	}
	return diffIDImage{img}, nil
}

// sameBytes checks that layer file name (read by r), listed with the same
// diff_id as prev, holds the same bytes as prev's file. The same member
// named twice, or a link to it (as docker save writes), is the same.
func (a *archive) sameBytes(prev *archiveLayer, name string, r *io.SectionReader) error {
	differ := fmt.Errorf("%w %s: layers %s and %s have the same diff_id %s but different bytes",
		ErrBadArchive, a.name, prev.file, name, prev.diffID)
	if r.Size() != prev.r.Size() {
		return differ
	}
	// Both readers are sections of the one archive file: the same offset
	// is the same member.
	_, prevOff, _ := prev.r.Outer()
	_, off, _ := r.Outer()
	if prevOff == off {
		return nil
	}
	eq, err := readersEqual(io.NewSectionReader(prev.r, 0, prev.r.Size()), io.NewSectionReader(r, 0, r.Size()))
	if err != nil {
		return fmt.Errorf("reading %s: %w", a.name, err)
	}
	if !eq {
		return differ
	}
	return nil
}

// readersEqual compares two readers of the same length block by block.
func readersEqual(x, y io.Reader) (bool, error) {
	bx, by := make([]byte, 64<<10), make([]byte, 64<<10)
	for {
		nx, errx := io.ReadFull(x, bx)
		ny, erry := io.ReadFull(y, by)
		if !bytes.Equal(bx[:nx], by[:ny]) {
			return false, nil
		}
		xdone := errx == io.EOF || errx == io.ErrUnexpectedEOF
		ydone := erry == io.EOF || erry == io.ErrUnexpectedEOF
		switch {
		case errx != nil && !xdone:
			return false, errx
		case erry != nil && !ydone:
			return false, erry
		case xdone || ydone:
			return xdone && ydone, nil
		}
	}
}

// archiveCore is the partial.UncompressedImageCore of a docker-archive.
type archiveCore struct {
	rawConfig []byte
	layers    map[v1.Hash]*archiveLayer
}

func (c *archiveCore) RawConfigFile() ([]byte, error) { return c.rawConfig, nil }
func (c *archiveCore) MediaType() (types.MediaType, error) {
	return types.OCIManifestSchema1, nil
}
func (c *archiveCore) LayerByDiffID(h v1.Hash) (partial.UncompressedLayer, error) {
	l, ok := c.layers[h]
	if !ok {
		return nil, fmt.Errorf("no layer with diff_id %s", h)
	}
	return l, nil
}

// archiveLayer is a layer file inside a docker-archive. Its bytes may be a
// plain tar or compressed (some writers gzip layers inside the archive).
type archiveLayer struct {
	archive, file string
	diffID        v1.Hash
	r             *io.SectionReader
}

func (l *archiveLayer) DiffID() (v1.Hash, error)            { return l.diffID, nil }
func (l *archiveLayer) MediaType() (types.MediaType, error) { return types.OCILayer, nil }

// Uncompressed streams the layer, failing at the end when its bytes do not
// hash to the diff_id the config promises.
func (l *archiveLayer) Uncompressed() (io.ReadCloser, error) {
	sr := io.NewSectionReader(l.r, 0, l.r.Size())
	rc, err := decompressed(sr)
	if err != nil {
		return nil, fmt.Errorf("layer %s of %s: %w", l.file, l.archive, err)
	}
	return verifying(rc, l.diffID, func(got v1.Hash) error {
		return fmt.Errorf("%w %s: layer %s hashes to %s, but the config's diff_id is %s",
			ErrBadArchive, l.archive, l.file, got, l.diffID)
	}), nil
}
