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
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/nixdock/nixdock-action/image"
)

// storePrefix is /nix/store/ as tar entry names write it.
const storePrefix = "nix/store/"

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

// splitEntry normalizes a tar entry name and splits a /nix/store entry into
// the store path's base name and the path below it. ok is false for
// entries outside the store (and for /nix and /nix/store themselves).
func splitEntry(name string) (base, rel string, ok bool) {
	name = strings.TrimPrefix(name, "./")
	name = strings.TrimLeft(name, "/")
	name = strings.TrimRight(name, "/")
	rest, found := strings.CutPrefix(name, storePrefix)
	if !found || rest == "" {
		return "", "", false
	}
	base, rel, _ = strings.Cut(rest, "/")
	return base, path.Clean("/" + rel)[1:], true
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
	lrc, err := l.Uncompressed()
	if err != nil {
		return nil, err
	}
	defer lrc.Close()
	// An interrupt stops the read within one buffer, even in one file.
	rc := image.ContextReader(ctx, lrc)
	res := &layerResult{paths: map[string]*pathResult{}}
	streams := map[string]*pathStream{}
	var order []string
	links := map[string]bool{} // hard link targets the spooled paths need
	tr := tar.NewReader(rc)
	for n := 0; ; n++ {
		if n%1024 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			// Read to the stream's end, where a layer re-created from the
			// store (nix2container) is checked against its diff_id.
			if _, err := io.Copy(io.Discard, rc); err != nil {
				return nil, err
			}
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading tar: %w", err)
		}
		if image.SparseTooLarge(hdr) {
			// Hashing it would expand every hole.
			return nil, image.SparseError(hdr.Name, hdr)
		}
		if p, ok := rootEntry(hdr.Name); ok {
			if err := res.root.add(p, hdr, tr); err != nil {
				return nil, err
			}
			continue
		}
		base, rel, ok := splitEntry(hdr.Name)
		if !ok {
			continue
		}
		if handleWhiteout(res, streams, base, rel) {
			continue
		}
		if _, _, err := SplitStorePath(base); err != nil {
			continue // such as /nix/store/.links
		}
		st := streams[base]
		if st == nil {
			st = &pathStream{h: sha256.New(), refs: newRefScanner()}
			st.nar = newNARStream(io.MultiWriter(st.h, st.refs))
			streams[base] = st
			order = append(order, base)
		}
		if st.spool {
			if hdr.Typeflag == tar.TypeLink {
				links[linkTarget(hdr.Linkname)] = true
			}
			continue
		}
		if err := st.add(hdr, rel, tr); err != nil {
			if !errors.Is(err, errNotNAROrder) {
				return nil, fmt.Errorf("%s%s: %w", storePrefix, base, err)
			}
			st.spool = true
			if hdr.Typeflag == tar.TypeLink {
				links[linkTarget(hdr.Linkname)] = true
			}
		}
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

// handleWhiteout records OCI whiteouts (.wh.<name>, .wh..wh..opq); true
// when the entry was one.
func handleWhiteout(res *layerResult, streams map[string]*pathStream, base, rel string) bool {
	if rel == "" {
		switch {
		case base == ".wh..wh..opq":
			res.opaque = true
			return true
		case strings.HasPrefix(base, ".wh."):
			res.removed = append(res.removed, strings.TrimPrefix(base, ".wh."))
			return true
		}
		return false
	}
	if !isWhiteout(rel) {
		return false
	}
	if st := streams[base]; st != nil {
		st.broken = true
	}
	return true
}

// isWhiteout says whether an entry below a store path is an OCI whiteout.
func isWhiteout(rel string) bool {
	return strings.HasPrefix(path.Base(rel), ".wh.")
}

// linkTarget normalizes a hard link's target name like an entry name.
func linkTarget(name string) string {
	name = strings.TrimPrefix(name, "./")
	return strings.TrimLeft(name, "/")
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
	lrc, err := l.Uncompressed()
	if err != nil {
		return nil, nil, err
	}
	defer lrc.Close()
	rc := image.ContextReader(ctx, lrc)
	seen := map[string]bool{}
	root := &rootLayer{}
	tr := tar.NewReader(rc)
	for {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			if _, err := io.Copy(io.Discard, rc); err != nil { // checks the diff_id, as in scanLayer
				return nil, nil, err
			}
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("reading tar: %w", err)
		}
		if p, ok := rootEntry(hdr.Name); ok {
			if image.SparseTooLarge(hdr) {
				return nil, nil, image.SparseError(hdr.Name, hdr)
			}
			if err := root.add(p, hdr, tr); err != nil {
				return nil, nil, err
			}
			continue
		}
		if base, _, ok := splitEntry(hdr.Name); ok {
			if _, _, err := SplitStorePath(base); err == nil {
				seen[base] = true
			}
		}
	}
	return sortedKeys(seen), root, nil
}
