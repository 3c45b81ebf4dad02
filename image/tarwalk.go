package image

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/nixdock/nixdock-action/internal/storepath"
)

// The tar walker is the one reader of a layer's tar stream: lint, sbom,
// verify and StorePaths all read layers through it, so an entry's name,
// the store path it lies in, a whiteout and a huge sparse file mean the
// same to every command. (The docker-archive index in archive.go reads the
// outer archive, which holds layers; it is not a layer.)

// Whiteout is what an OCI whiteout entry hides in the layers below it.
type Whiteout uint8

const (
	// NoWhiteout is an ordinary entry.
	NoWhiteout Whiteout = iota
	// WhiteoutPath is ".wh.<name>": it hides TarEntry.Hidden, and what is
	// below it, in the layers below.
	WhiteoutPath
	// WhiteoutOpaque is ".wh..wh..opq": it hides everything below the
	// directory TarEntry.Hidden in the layers below; the directory stays.
	WhiteoutOpaque
)

// whiteoutPrefix and opaqueName are the OCI whiteout file names.
const (
	whiteoutPrefix = ".wh."
	opaqueName     = ".wh..wh..opq"
)

// TarEntry is one entry of a layer, its names normalised.
type TarEntry struct {
	// Header is the entry's header as archive/tar read it (old-style
	// TypeRegA entries already read as TypeReg).
	Header *tar.Header
	// Path is the absolute, clean path the entry unpacks to:
	// "/nix/store/<hash>-x/bin/x", "/etc/passwd", "/" for "./".
	Path string
	// StorePath is the base name of the store path Path lies in or is
	// ("<hash>-x", by storepath.IsBase), "" when it is in none; Rel is the
	// path below it ("bin/x"), "" for the store path itself.
	StorePath, Rel string
	// Link is a hard link's target normalised like Path; "" for any other
	// type (a symlink's target is Header.Linkname, as written).
	Link string
	// Whiteout says whether the entry is an OCI whiteout; Hidden is then
	// the path it hides (WhiteoutPath, joined as a runtime joins it, so
	// ".wh.." hides the directory itself) or the directory whose contents
	// it hides (WhiteoutOpaque).
	Whiteout Whiteout
	Hidden   string
	// SparseTooLarge marks a sparse file larger than the walker's
	// MaxSparse: archive/tar would expand its holes into zeros, so its
	// body reads as empty (lint and diff skip it, sbom refuses it).
	SparseTooLarge bool
}

// TarWalkOptions tune a TarWalker.
type TarWalkOptions struct {
	// MaxSparse is the largest logical size of a sparse file whose body is
	// read; 0 means DefaultMaxSparse.
	MaxSparse int64
}

// TarWalker reads a layer's tar stream entry by entry; it is the reader of
// the current entry's body.
type TarWalker struct {
	tr     *tar.Reader
	raw    io.Reader
	closer io.Closer
	opts   TarWalkOptions
	n      int // entries read
	e      TarEntry
	done   bool
}

// NewTarWalker walks the tar stream r (a layer's uncompressed bytes).
func NewTarWalker(r io.Reader, opts TarWalkOptions) *TarWalker {
	if opts.MaxSparse <= 0 {
		opts.MaxSparse = DefaultMaxSparse
	}
	return &TarWalker{tr: tar.NewReader(r), raw: r, opts: opts}
}

// WalkLayer walks l's uncompressed bytes, read through ContextReader so
// that an interrupt stops it within one buffer, even inside one file.
// Close the walker when done.
func WalkLayer(ctx context.Context, l v1.Layer, opts TarWalkOptions) (*TarWalker, error) {
	rc, err := l.Uncompressed()
	if err != nil {
		return nil, err
	}
	w := NewTarWalker(ContextReader(ctx, rc), opts)
	w.closer = rc
	return w, nil
}

// Close closes the layer a WalkLayer walker reads; for NewTarWalker it
// does nothing.
func (w *TarWalker) Close() error {
	if w.closer == nil {
		return nil
	}
	return w.closer.Close()
}

// Next advances to the next entry and returns it; the entry is the
// walker's and valid until the next call. At the end of the archive it
// reads the stream to its end (the padding after the end-of-archive
// blocks is part of the layer, and a verifying reader, such as a layer
// re-created by nix2container, checks its digest there) and returns
// io.EOF, or the error of that read.
func (w *TarWalker) Next() (*TarEntry, error) {
	if w.done {
		return nil, io.EOF
	}
	hdr, err := w.tr.Next()
	if err == io.EOF {
		w.done = true
		if _, err := io.Copy(io.Discard, w.raw); err != nil {
			return nil, err
		}
		return nil, io.EOF
	}
	if err != nil {
		return nil, fmt.Errorf("reading tar entry %d: %w", w.n+1, err)
	}
	w.n++
	w.e = TarEntry{Header: hdr, Path: EntryPath(hdr.Name)}
	e := &w.e
	e.StorePath, e.Rel = storepath.Split(e.Path)
	if hdr.Typeflag == tar.TypeLink {
		e.Link = EntryPath(hdr.Linkname)
	}
	e.Whiteout, e.Hidden = whiteoutOf(e.Path)
	e.SparseTooLarge = hdr.Size > w.opts.MaxSparse && IsSparse(hdr)
	return e, nil
}

// Walk calls fn with each entry in turn and the reader of its body (w)
// until the archive ends, read to its end as Next reads it (nil), or Next
// or fn fails (that error).
func (w *TarWalker) Walk(fn func(e *TarEntry, body io.Reader) error) error {
	for {
		e, err := w.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(e, w); err != nil {
			return err
		}
	}
}

// EachEntry walks layer l (WalkLayer) with fn (Walk) and closes it.
func EachEntry(ctx context.Context, l v1.Layer, opts TarWalkOptions, fn func(e *TarEntry, body io.Reader) error) error {
	w, err := WalkLayer(ctx, l, opts)
	if err != nil {
		return err
	}
	defer w.Close()
	return w.Walk(fn)
}

// Index is the current entry's position in the archive, from 0.
func (w *TarWalker) Index() int { return w.n - 1 }

// Read reads the current entry's body; a sparse file too large to expand
// reads as empty.
func (w *TarWalker) Read(p []byte) (int, error) {
	if w.e.SparseTooLarge {
		return 0, io.EOF
	}
	return w.tr.Read(p)
}

// EntryPath is the absolute, clean path a tar entry name unpacks to
// ("./nix/store/x/" and "nix/store/x" are "/nix/store/x"), the one
// normalisation of entry and hard link names.
func EntryPath(name string) string {
	return path.Clean("/" + name)
}

// whiteoutOf classifies the entry at the clean path p.
func whiteoutOf(p string) (Whiteout, string) {
	i := strings.LastIndexByte(p, '/')
	base := p[i+1:]
	if !strings.HasPrefix(base, whiteoutPrefix) {
		return NoWhiteout, ""
	}
	dir := p[:i]
	if dir == "" {
		dir = "/"
	}
	if base == opaqueName {
		return WhiteoutOpaque, dir
	}
	return WhiteoutPath, path.Join(dir, base[len(whiteoutPrefix):])
}
