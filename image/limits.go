package image

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"syscall"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// The limits below are the one place that says how much a (possibly
// hostile) image may make any nixdock command spend; lint, diff, verify,
// sbom and inspect all use them (docs/design.md, "Limits").
const (
	// DefaultMaxSpool is the default bound on the bytes written to the
	// temporary directory for one image: a decompressed archive, a stream
	// script's output, the store paths sbom extracts. 6 GiB: two images at
	// once (diff, verify) fit the 14 GB disk of a GitHub-hosted runner. An
	// uncompressed .tar is read in place and never spooled, so a larger
	// image can be given that way.
	DefaultMaxSpool int64 = 6 << 30
	// DefaultMaxSparse is the largest logical size of a sparse file whose
	// content is read. archive/tar expands holes into zeros, so a 20 KB
	// archive can declare a 64 GiB file; image builders write no sparse
	// files, so bigger ones are skipped (lint, diff) or refused (sbom,
	// which must hash every byte).
	DefaultMaxSparse int64 = 256 << 20
)

// IsSparse reports whether h is a GNU sparse file (old or PAX form). The
// tar walker marks one larger than its MaxSparse (TarEntry.SparseTooLarge)
// and never expands its holes.
func IsSparse(h *tar.Header) bool {
	if h.Typeflag == tar.TypeGNUSparse {
		return true
	}
	for k := range h.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}

// ErrSparseTooLarge marks a sparse file that a command must read whole
// but that is larger than DefaultMaxSparse.
var ErrSparseTooLarge = errors.New("sparse file too large")

// SparseError is the error for such a file, named by name.
func SparseError(name string, h *tar.Header) error {
	return fmt.Errorf("%w: %s is a sparse file of %d bytes, more than nixdock expands (%d; image builders write no sparse files)",
		ErrSparseTooLarge, name, h.Size, DefaultMaxSparse)
}

// ErrDiskFull marks a temporary directory that ran out of space: the
// machine's problem, not the image's.
var ErrDiskFull = errors.New("no space left on the disk")

// diskFull turns ENOSPC (and EDQUOT) from writing in dir into ErrDiskFull
// naming dir; other errors are returned as they are.
func diskFull(dir string, err error) error {
	if err == nil || !(errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)) {
		return err
	}
	if dir == "" {
		dir = os.TempDir()
	}
	return fmt.Errorf("%w of the temporary directory %s (set TMPDIR to a directory with more room)", ErrDiskFull, dir)
}

// DiskFull is diskFull for other packages that spool to dir.
func DiskFull(dir string, err error) error { return diskFull(dir, err) }

// SpoolLimit counts the bytes written to the temporary directory for one
// image, by any number of writers (sbom spools layers in parallel), and
// fails past its maximum.
type SpoolLimit struct {
	max int64
	n   atomic.Int64
}

// NewSpoolLimit allows max bytes; max <= 0 is DefaultMaxSpool.
func NewSpoolLimit(max int64) *SpoolLimit {
	if max <= 0 {
		max = DefaultMaxSpool
	}
	return &SpoolLimit{max: max}
}

// Writer is w, counted against the limit.
func (s *SpoolLimit) Writer(w io.Writer) io.Writer { return &limitWriter{w: w, lim: s} }

// ErrSpoolLimit marks an image that would spool more than its limit.
var ErrSpoolLimit = errors.New("spool limit")

// errSpoolLimit is returned when an image would spool more than MaxSpool.
type errSpoolLimit struct{ max int64 }

func (e errSpoolLimit) Error() string {
	return fmt.Sprintf("more than %d bytes uncompressed, nixdock's limit for one image", e.max)
}

func (e errSpoolLimit) Is(target error) bool { return target == ErrSpoolLimit }

// limitWriter writes to w while its limit allows.
type limitWriter struct {
	w        io.Writer
	lim      *SpoolLimit
	exceeded bool
	err      error // the first error of w (a full disk)
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if l.lim.n.Add(int64(len(p))) > l.lim.max {
		l.exceeded = true
		return 0, errSpoolLimit{l.lim.max}
	}
	n, err := l.w.Write(p)
	if err != nil && l.err == nil {
		l.err = err
	}
	return n, err
}

// ContextReader returns r, failing with ctx's error once ctx is done: long
// copies (a decompression, a large file) then stop within one buffer of an
// interrupt.
func ContextReader(ctx context.Context, r io.Reader) io.Reader {
	if ctx == nil || ctx.Done() == nil {
		return r
	}
	return &ctxReader{ctx: ctx, r: r}
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// DiffIDs reads only rootfs.diff_ids from img's raw config. Parsing the
// whole config (v1.ConfigFile) costs memory in proportion to its labels and
// env, which a hostile config makes millions of; callers that need only
// the layers use this and LayersOf.
func DiffIDs(img v1.Image) ([]v1.Hash, error) {
	raw, err := img.RawConfigFile()
	if err != nil {
		return nil, err
	}
	ids, err := parseDiffIDs(raw)
	if err != nil {
		return nil, fmt.Errorf("reading the config: %w", err)
	}
	return ids, nil
}

// parseDiffIDs reads only rootfs.diff_ids of a raw config: a config whose
// other fields have the wrong types (Env as a string, ExposedPorts as a
// list) still has its layers, so that nixdock lint can report the rest.
func parseDiffIDs(raw []byte) ([]v1.Hash, error) {
	var cfg struct {
		RootFS struct {
			DiffIDs []v1.Hash `json:"diff_ids"`
		} `json:"rootfs"`
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, err
	}
	return cfg.RootFS.DiffIDs, nil
}

// LayersOf is img.Layers(), one layer per diff_id of the raw config,
// without parsing the whole config (see DiffIDs). Each kind of image lists
// its layers the cheap way it has: images read from a manifest (registry,
// OCI layout) by the manifest, where looking a layer up by diff_id would
// parse the typed config on every call; images assembled from diff_ids
// (archives, stream outputs, nix2container: diffIDImage) by the raw
// diff_ids. An image whose Layers fails (a foreign image whose typed
// config does not parse) is looked up by diff_id.
func LayersOf(img v1.Image) ([]v1.Layer, error) {
	ls, _, err := layersAndDiffIDs(img)
	return ls, err
}

// layersAndDiffIDs is LayersOf with the diff_ids it read, one per layer.
func layersAndDiffIDs(img v1.Image) ([]v1.Layer, []v1.Hash, error) {
	ids, err := DiffIDs(img)
	if err != nil {
		return nil, nil, err
	}
	var ls []v1.Layer
	if d, ok := img.(diffIDImage); ok {
		// Its Layers would read the config again.
		ls, err = layersByDiffID(d.Image, ids)
		return ls, ids, err
	}
	if ls, err = img.Layers(); err != nil {
		ls, err = layersByDiffID(img, ids)
		return ls, ids, err
	}
	if len(ls) != len(ids) {
		return nil, nil, fmt.Errorf("the manifest lists %d layers, the config %d diff_ids", len(ls), len(ids))
	}
	return ls, ids, nil
}

// layersByDiffID looks up each of ids.
func layersByDiffID(img v1.Image, ids []v1.Hash) ([]v1.Layer, error) {
	ls := make([]v1.Layer, len(ids))
	for i, h := range ids {
		var err error
		if ls[i], err = img.LayerByDiffID(h); err != nil {
			return nil, err
		}
	}
	return ls, nil
}

// diffIDImage is an image assembled from its config's diff_ids (partial's
// UncompressedToImage), whose Layers would parse the whole typed config: it
// lists them by the raw diff_ids instead, so that a config of millions of
// labels, or with fields of the wrong type, costs nothing to list.
type diffIDImage struct{ v1.Image }

func (i diffIDImage) Layers() ([]v1.Layer, error) {
	ids, err := DiffIDs(i.Image)
	if err != nil {
		return nil, err
	}
	return layersByDiffID(i.Image, ids)
}
