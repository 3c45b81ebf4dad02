package sbom

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"path"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/internal/storepath"
)

// storePrefix begins the store paths errors name.
const storePrefix = storepath.Dir + "/"

// pathResult is one store path as one layer holds it.
type pathResult struct {
	base    string // <hash>-<name>
	narHash [sha256.Size]byte
	narSize int64
	refs    *refScanner
}

// layerResult is what one layer holds.
type layerResult struct {
	paths map[string]*pathResult
	// removed are store paths a whiteout deletes; opaque is true when the
	// layer replaces /nix/store as a whole.
	removed  []string
	opaque   bool
	warnings []string
	// root is what the layer holds outside the store.
	root rootLayer
}

// pathStream is a store path being turned into a NAR as its entries come.
type pathStream struct {
	h      hash.Hash
	refs   *refScanner
	nar    *narStream
	spool  bool // not in NAR order: spooled to disk in a second pass
	broken bool // a whiteout inside it: warned about
}

// scanLayer reads one layer: every store path in it is hashed as a NAR and
// scanned for references, streaming when its entries are in NAR order and
// spooling it to disk in a second read of the layer otherwise.
func scanLayer(ctx context.Context, l v1.Layer, tempDir string) (*layerResult, error) {
	return scanLayerTo(ctx, l, spoolDir{dir: tempDir, limit: image.NewSpoolLimit(0)})
}

// spoolDir is where store paths are spooled, and the limit on their bytes.
type spoolDir struct {
	dir   string
	limit *image.SpoolLimit
}

func scanLayerTo(ctx context.Context, l v1.Layer, sp spoolDir) (*layerResult, error) {
	res := &layerResult{paths: map[string]*pathResult{}}
	streams := map[string]*pathStream{}
	var order []string
	links := map[string]bool{} // hard link targets the spooled paths need
	// An interrupt stops the read within one buffer, even in one file. At
	// the end the walker reads the stream to its end, where a layer
	// re-created from the store (nix2container) is checked against its
	// diff_id.
	err := image.EachEntry(ctx, l, image.TarWalkOptions{}, func(e *image.TarEntry, body io.Reader) error {
		hdr := e.Header
		switch {
		case e.SparseTooLarge:
			// Hashing it would expand every hole.
			return image.SparseError(hdr.Name, hdr)
		case isRoot(e.Path):
			return res.root.add(e, body)
		case e.Whiteout != image.NoWhiteout:
			handleWhiteout(res, streams, e)
			return nil
		case e.StorePath == "":
			return nil // /nix/store itself, or such as /nix/store/.links
		}
		base := e.StorePath
		st := streams[base]
		if st == nil {
			st = &pathStream{h: sha256.New(), refs: newRefScanner()}
			st.nar = newNARStream(io.MultiWriter(st.h, st.refs))
			streams[base] = st
			order = append(order, base)
		}
		if !st.spool {
			err := st.add(hdr, e.Rel, body)
			if err == nil {
				return nil
			}
			if !errors.Is(err, errNotNAROrder) {
				return fmt.Errorf("%s%s: %w", storePrefix, base, err)
			}
			st.spool = true
		}
		if hdr.Typeflag == tar.TypeLink {
			links[e.Link] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var spooled []string
	for _, base := range order {
		st := streams[base]
		if st.broken {
			res.warnings = append(res.warnings, fmt.Sprintf("a layer deletes files inside /nix/store/%s: its hash is of the files that layer holds", base))
		}
		if st.spool {
			spooled = append(spooled, base)
			continue
		}
		size, err := st.nar.finish()
		if err != nil {
			return nil, fmt.Errorf("%s%s: %w", storePrefix, base, err)
		}
		res.paths[base] = newPathResult(base, st.h, size, st.refs)
	}
	if len(spooled) > 0 {
		if err := spoolPaths(ctx, l, spooled, links, sp, res); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// newPathResult is a store path's NAR hash (h, which was fed its NAR),
// size and references.
func newPathResult(base string, h hash.Hash, size int64, refs *refScanner) *pathResult {
	r := &pathResult{base: base, narSize: size, refs: refs}
	h.Sum(r.narHash[:0])
	return r
}

// add streams one tar entry into the path's NAR.
func (st *pathStream) add(hdr *tar.Header, rel string, body io.Reader) error {
	e := narEntry{rel: rel}
	switch hdr.Typeflag {
	case tar.TypeDir:
		e.kind = kindDirectory
	case tar.TypeSymlink:
		e.kind, e.target = kindSymlink, hdr.Linkname
	case tar.TypeReg: // archive/tar reports old-style TypeRegA entries as TypeReg
		e.kind, e.size, e.body = kindRegular, hdr.Size, body
		e.executable = hdr.Mode&0o100 != 0
	case tar.TypeLink:
		return errNotNAROrder // the content is elsewhere in the layer
	default:
		return fmt.Errorf("%s: tar entry type %q cannot be in a Nix store path", rel, hdr.Typeflag)
	}
	return st.nar.add(e)
}

// handleWhiteout records an OCI whiteout: one directly in /nix/store
// removes a store path of the layers below, or all of them (opaque); one
// inside a store path breaks that path's hash.
func handleWhiteout(res *layerResult, streams map[string]*pathStream, e *image.TarEntry) {
	switch {
	case e.StorePath != "":
		if st := streams[e.StorePath]; st != nil {
			st.broken = true
		}
	case path.Dir(e.Path) != storepath.Dir:
		// Below a name that is no store path: nothing to hide.
	case e.Whiteout == image.WhiteoutOpaque:
		res.opaque = true
	default:
		res.removed = append(res.removed, path.Base(e.Hidden))
	}
}

// pathLayers reads the tar headers of img's layers (and the contents of
// the files outside the store) and returns, for every store path (by base
// name), the indexes of the layers holding it, and each layer's files
// outside the store.
func pathLayers(ctx context.Context, img v1.Image) (map[string][]int, []*rootLayer, error) {
	layers, err := img.Layers()
	if err != nil {
		return nil, nil, fmt.Errorf("reading layers: %w", err)
	}
	out := map[string][]int{}
	var roots []*rootLayer
	for i, l := range layers {
		names, root, err := layerPaths(ctx, l)
		if err != nil {
			return nil, nil, fmt.Errorf("reading layer %d: %w", i, err)
		}
		for _, base := range names {
			out[base] = append(out[base], i)
		}
		roots = append(roots, root)
	}
	return out, roots, nil
}

func layerPaths(ctx context.Context, l v1.Layer) ([]string, *rootLayer, error) {
	seen := map[string]bool{}
	root := &rootLayer{}
	// The walk reads to the stream's end, as in scanLayer.
	err := image.EachEntry(ctx, l, image.TarWalkOptions{}, func(e *image.TarEntry, body io.Reader) error {
		if !isRoot(e.Path) {
			if e.StorePath != "" {
				seen[e.StorePath] = true
			}
			return nil
		}
		if e.SparseTooLarge {
			return image.SparseError(e.Header.Name, e.Header)
		}
		return root.add(e, body)
	})
	if err != nil {
		return nil, nil, err
	}
	return sortedKeys(seen), root, nil
}
