package lint

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/nixdock/nixdock-action/image"
)

// entry is the metadata of one file in one layer. Contents are never kept,
// only their digest, the marker strings found in them and, for scripts, the
// #! line.
type entry struct {
	path string // absolute and clean: "/nix/store/...-x/bin/x"
	// link is a symlink's target or a hard link's (absolute) target; for
	// a regular file it holds the #! line of an executable script (see
	// head): one string for both keeps the struct within 112 bytes.
	link    string
	size    int64
	mtime   int64 // seconds since the epoch
	markers markerSet
	digest  [sha256.Size]byte
	// The narrow fields last: an image of millions of files holds one
	// entry each, so the struct is kept to 112 bytes (a Go size class).
	nsec  int32  // sub-second part of the mtime (PAX headers only)
	mode  uint32 // permission bits, with setuid/setgid/sticky
	uid   int32
	gid   int32
	layer int32
	typ   byte // tar.TypeReg, TypeDir, TypeSymlink, TypeLink, or other
}

func (e *entry) regular() bool { return e.typ == tar.TypeReg }

// head is the #! line of an executable script, "" for anything else.
func (e *entry) head() string {
	if e.regular() {
		return e.link
	}
	return ""
}

// layerInfo summarizes one layer.
type layerInfo struct {
	Index  int    `json:"index"`
	DiffID string `json:"diffID"`
	Bytes  int64  `json:"bytes"` // file contents, uncompressed
	Files  int    `json:"files"`
}

// model is everything the rules look at: the raw config, the files of
// every layer, and the filesystem the layers make together.
type model struct {
	rawConfig []byte
	config    map[string]json.RawMessage
	layers    []layerInfo
	entries   []*entry          // every layer's entries, in order
	final     map[string]*entry // the merged filesystem, after whiteouts
	dirs      map[string]bool   // directories implied by a path's parents
	contents  map[string][]byte // small files the rules read (passwd, group)
}

// maxKept is the size up to which the files the rules parse are kept.
const maxKept = 1 << 20

// keepContent says whether the rules need p's bytes.
func keepContent(p string) bool {
	return strings.HasSuffix(p, "/etc/passwd") || strings.HasSuffix(p, "/etc/group")
}

// scanner streams layers into a model, reusing one buffer.
type scanner struct {
	ctx context.Context
	m   *model
	buf []byte
	win window
}

func newModel(raw []byte) *model {
	return &model{
		rawConfig: raw,
		final:     map[string]*entry{},
		dirs:      map[string]bool{"/": true},
		contents:  map[string][]byte{},
	}
}

// scanLayers reads every layer of img once, in order.
func scanLayers(ctx context.Context, m *model, layers []v1.Layer, progress func(string)) error {
	s := &scanner{ctx: ctx, m: m, buf: make([]byte, 64<<10)}
	for i, l := range layers {
		if err := ctx.Err(); err != nil {
			return err
		}
		if progress != nil {
			progress(fmt.Sprintf("reading layer %d of %d", i+1, len(layers)))
		}
		if err := s.layer(i, l); err != nil {
			return fmt.Errorf("reading layer %d: %w", i, err)
		}
	}
	return nil
}

func (s *scanner) layer(i int, l v1.Layer) error {
	info := layerInfo{Index: i}
	if h, err := l.DiffID(); err == nil {
		info.DiffID = h.String()
	}
	// The layer's entries go to m.entries as read, and into the merged
	// filesystem once its whiteouts (which hide only the layers below)
	// are applied.
	start := len(s.m.entries)
	var whiteouts []string
	err := image.EachEntry(s.ctx, l, image.TarWalkOptions{}, func(te *image.TarEntry, body io.Reader) error {
		hdr, p := te.Header, te.Path
		switch te.Whiteout {
		case image.WhiteoutOpaque:
			// Hides everything in its directory (kept as "dir/").
			whiteouts = append(whiteouts, strings.TrimSuffix(te.Hidden, "/")+"/")
			return nil
		case image.WhiteoutPath:
			if te.Hidden != "/" {
				whiteouts = append(whiteouts, te.Hidden)
			}
			return nil
		}
		e := &entry{
			path: p, size: hdr.Size, mtime: hdr.ModTime.Unix(), nsec: int32(hdr.ModTime.Nanosecond()),
			mode: uint32(hdr.Mode & 0o7777), uid: int32(hdr.Uid), gid: int32(hdr.Gid), layer: int32(i), typ: hdr.Typeflag,
		}
		switch hdr.Typeflag {
		case tar.TypeReg: // archive/tar reports old-style TypeRegA entries as TypeReg
			e.typ = tar.TypeReg
			if te.SparseTooLarge {
				// A sparse file's holes read as zeros up to a size the
				// header may make enormous; image layers have none, so
				// the contents of a large one are not read.
				e.typ = 0
				break
			}
			if err := s.file(body, e); err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			info.Bytes += e.size
		case tar.TypeSymlink:
			e.link = hdr.Linkname
		case tar.TypeLink:
			e.link = te.Link
			e.size = 0
		case tar.TypeDir:
		default:
			e.typ = 0
		}
		info.Files++
		s.m.entries = append(s.m.entries, e)
		return nil
	})
	if err != nil {
		return err
	}
	s.m.applyWhiteouts(whiteouts)
	s.m.merge(s.m.entries[start:])
	s.m.layers = append(s.m.layers, info)
	return nil
}

// file hashes a regular file's contents and scans programs for markers.
func (s *scanner) file(r io.Reader, e *entry) error {
	h := sha256.New()
	s.win.reset()
	first := true
	scan := false
	keep := keepContent(e.path) && e.size <= maxKept
	var kept []byte
	for {
		n, err := io.ReadFull(r, s.buf)
		chunk := s.buf[:n]
		if first && n > 0 {
			first = false
			scan = isProgram(chunk, e)
			if e.mode&0o111 != 0 && bytes.HasPrefix(chunk, []byte("#!")) {
				e.link = shebang(chunk)
			}
		}
		h.Write(chunk)
		if scan {
			e.markers |= s.win.scan(chunk)
		}
		if keep {
			kept = append(kept, chunk...)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return err
		}
	}
	copy(e.digest[:], h.Sum(nil))
	if keep {
		s.m.contents[e.path] = kept
	}
	return nil
}

// isProgram says whether a file's markers matter: ELF files (programs and
// libraries) and executable scripts.
func isProgram(head []byte, e *entry) bool {
	return bytes.HasPrefix(head, []byte("\x7fELF")) || e.mode&0o111 != 0
}

func shebang(b []byte) string {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	if len(b) > 256 {
		b = b[:256]
	}
	return strings.TrimSpace(string(b[2:]))
}

// add adds one entry as the last of the image.
func (m *model) add(e *entry) {
	m.entries = append(m.entries, e)
	m.merge(m.entries[len(m.entries)-1:])
}

// merge adds a layer's entries to the merged filesystem. The map is made
// with room for them first: growing it entry by entry would allocate it
// about twice over, and lint holds one slot per file of the image.
func (m *model) merge(es []*entry) {
	if need := len(m.final) + len(es); need > 2*len(m.final) {
		final := make(map[string]*entry, need)
		for p, e := range m.final {
			final[p] = e
		}
		m.final = final
	}
	for _, e := range es {
		m.final[e.path] = e
		for d := path.Dir(e.path); d != "/" && !m.dirs[d]; d = path.Dir(d) {
			m.dirs[d] = true
		}
	}
}

// applyWhiteouts removes what a layer's whiteouts hide. Paths ending in "/"
// are opaque directories: their contents go, the directory stays.
func (m *model) applyWhiteouts(ws []string) {
	if len(ws) == 0 {
		return
	}
	for p := range m.final {
		for _, w := range ws {
			if strings.HasSuffix(w, "/") && strings.HasPrefix(p, w) ||
				!strings.HasSuffix(w, "/") && (p == w || strings.HasPrefix(p, w+"/")) {
				delete(m.final, p)
				break
			}
		}
	}
	for d := range m.dirs {
		for _, w := range ws {
			if !strings.HasSuffix(w, "/") && (d == w || strings.HasPrefix(d, w+"/")) {
				delete(m.dirs, d)
				break
			}
		}
	}
}
