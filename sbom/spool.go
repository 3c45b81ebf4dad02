package sbom

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/internal/storepath"
)

// spoolPaths reads layer l a second time and extracts the store paths
// whose entries were not in NAR order (and any hard link targets they need)
// to a temporary directory, then hashes and scans each from disk: memory
// stays bounded whatever the layer's order.
// The bytes written count against sp.limit, shared by the image's layers,
// and a full disk is reported as such, naming the directory.
func spoolPaths(ctx context.Context, l v1.Layer, bases []string, links map[string]bool, sp spoolDir, res *layerResult) error {
	dir, err := os.MkdirTemp(sp.dir, "nixdock-sbom-")
	if err != nil {
		return fmt.Errorf("spooling store paths: %w", image.DiskFull(sp.dir, err))
	}
	defer os.RemoveAll(dir)
	want := map[string]bool{}
	for _, b := range bases {
		want[b] = true
	}
	x := &extractor{dir: dir, want: want, links: links, limit: sp.limit}
	if err := x.extract(ctx, l); err != nil {
		return fmt.Errorf("spooling store paths: %w", image.DiskFull(sp.dir, err))
	}
	for _, base := range bases {
		h := sha256.New()
		refs := newRefScanner()
		size, err := dumpDir(io.MultiWriter(h, refs), filepath.Join(dir, base))
		if err != nil {
			return fmt.Errorf("%s%s: %w", storePrefix, base, err)
		}
		res.paths[base] = newPathResult(base, h, size, refs)
	}
	return nil
}

// extractor writes the entries of the wanted store paths below dir, and
// the hard link targets in links below dir/.links.
type extractor struct {
	dir         string
	want, links map[string]bool
	limit       *image.SpoolLimit
}

func (x *extractor) extract(ctx context.Context, l v1.Layer) error {
	return image.EachEntry(ctx, l, image.TarWalkOptions{}, func(e *image.TarEntry, body io.Reader) error {
		hdr := e.Header
		if e.SparseTooLarge {
			return image.SparseError(hdr.Name, hdr)
		}
		dst := ""
		switch {
		case e.StorePath != "" && x.want[e.StorePath] && e.Whiteout == image.NoWhiteout:
			dst = filepath.Join(x.dir, e.StorePath, filepath.FromSlash(e.Rel))
		case x.links[e.Path] && hdr.Typeflag == tar.TypeReg:
			dst = linkPath(x.dir, e.Path)
		default:
			return nil
		}
		if err := x.writeEntry(dst, e, body); err != nil {
			return fmt.Errorf("%s: %w", hdr.Name, err)
		}
		return nil
	})
}

// linkPath is where a hard link target outside the spooled paths is kept.
func linkPath(dir, name string) string {
	sum := sha256.Sum256([]byte(name))
	return filepath.Join(dir, ".links", hex.EncodeToString(sum[:]))
}

// writeEntry creates one file system object; a later entry for the same
// name replaces an earlier one, as when a tar is extracted.
func (x *extractor) writeEntry(dst string, e *image.TarEntry, r io.Reader) error {
	dir, want, hdr := x.dir, x.want, e.Header
	if err := noSymlinkParents(dir, dst); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	if hdr.Typeflag == tar.TypeDir {
		if fi, err := os.Lstat(dst); err == nil && fi.IsDir() {
			return nil
		}
		os.RemoveAll(dst)
		return os.Mkdir(dst, 0o700)
	}
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	switch hdr.Typeflag {
	case tar.TypeSymlink:
		return os.Symlink(hdr.Linkname, dst)
	case tar.TypeLink:
		if base, rel := storepath.Split(e.Link); base != "" && want[base] {
			src := filepath.Join(dir, base, filepath.FromSlash(rel))
			if err := noSymlinkParents(dir, src); err != nil {
				return err
			}
			return os.Link(src, dst)
		}
		return os.Link(linkPath(dir, e.Link), dst)
	case tar.TypeReg:
		mode := os.FileMode(0o600)
		if hdr.Mode&0o100 != 0 {
			mode = 0o700
		}
		f, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
		if err != nil {
			return err
		}
		_, err = io.Copy(x.limit.Writer(f), r)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	default:
		return fmt.Errorf("tar entry type %q cannot be in a Nix store path", hdr.Typeflag)
	}
}

// noSymlinkParents refuses a path below dir whose parent directories
// include a symlink: a tar that puts entries below a symlink would
// otherwise write outside dir (and such a tree is no valid store path).
func noSymlinkParents(dir, p string) error {
	rel, err := filepath.Rel(dir, filepath.Dir(p))
	if err != nil || rel == ".." || len(rel) > 2 && rel[:3] == "../" {
		return fmt.Errorf("%s is outside the spool directory", p)
	}
	cur := dir
	for _, part := range splitPath(rel) {
		cur = filepath.Join(cur, part)
		fi, err := os.Lstat(cur)
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			return fmt.Errorf("an entry lies below the symlink %s", filepath.Base(cur))
		}
	}
	return nil
}

func splitPath(rel string) []string {
	if rel == "." || rel == "" {
		return nil
	}
	return strings.Split(filepath.ToSlash(rel), "/")
}
