package image

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"
)

// Digests are the digests and sizes of an image as it would be published.
type Digests struct {
	// Form is how the image reached nixdock (docker-archive, stream,
	// oci-layout, registry).
	Form           string `json:"form"`
	ManifestDigest string `json:"manifestDigest"`
	ManifestSize   int64  `json:"manifestSize"`
	MediaType      string `json:"mediaType"`
	ConfigDigest   string `json:"configDigest"`
	ConfigSize     int64  `json:"configSize"`
	// Compressor names how layers were compressed for the manifest digest.
	Compressor Compressor `json:"compressor"`
	Layers     []Layer    `json:"layers"`
	// Created is the config's created date as written.
	Created string `json:"created,omitempty"`
}

// Layer is one layer of an image.
type Layer struct {
	DiffID           string `json:"diffID"`
	Digest           string `json:"digest"`
	Size             int64  `json:"size"`
	UncompressedSize int64  `json:"uncompressedSize,omitempty"`
	MediaType        string `json:"mediaType"`
}

// MaxDefaultWorkers caps the default number of layers Describe reads at once,
// keeping peak memory bounded on machines with many cores.
const MaxDefaultWorkers = 8

// DescribeOptions tune Describe.
type DescribeOptions struct {
	// Compression of the layers in the manifest to publish, for images
	// that nixdock assembles itself (archives and stream scripts).
	Compression Compression
	// Workers is how many layers are read at once; 0 is GOMAXPROCS, at
	// most MaxDefaultWorkers (each worker holds a compressor's buffers, so
	// memory grows with it).
	Workers int
	// OnLayer, when set, is called as each layer is finished (for progress).
	OnLayer func(done, total int)
	// OnCompressed, when set, receives layer i (of n) of the image to
	// publish as soon as it is read, checked against its diff_id and
	// digested (while other layers are still being read), so that a push
	// can start sending it. Only images nixdock compresses itself
	// (archives, stream outputs, nix2container) call it. It must not block.
	OnCompressed func(i, n int, l v1.Layer)
	// StorePaths, when set, receives the Nix store paths the layers hold
	// (sorted, as StorePaths returns them). Archives and stream outputs
	// gather them in the same single read that digests the layers.
	StorePaths *[]string
	// KeepCompressed keeps each layer's compressed bytes in an unlinked
	// temporary file in TempDir (at most MaxSpool bytes in all; 0 is
	// DefaultMaxSpool), so that pushing or writing the image sends them
	// instead of compressing every layer again. For push, not for inspect.
	KeepCompressed bool
	TempDir        string
	MaxSpool       int64
}

// Describe reads img once and returns the image to publish and its digests.
// Archives and stream outputs have their layers hashed and compressed in
// parallel, and each layer's bytes are checked against its diff_id. OCI
// layouts and registry images are described as they are published.
func Describe(ctx context.Context, img *Image, opts DescribeOptions) (v1.Image, Digests, error) {
	var pub v1.Image
	var comp Compressor
	switch img.Form {
	case FormArchive, FormStream, FormNix2container:
		c := opts.Compression
		if c == "" {
			c = Gzip
		}
		ci, err := compressImage(ctx, img.Image, c, opts)
		if err != nil {
			return nil, Digests{}, err
		}
		pub, comp = ci, c.Compressor()
		if opts.StorePaths != nil {
			*opts.StorePaths = ci.storePaths
		}
	default:
		pub = img.Image
		comp = Compressor{Name: "as-published"}
		if opts.StorePaths != nil {
			// These forms are described without reading their layers.
			paths, err := StorePaths(ctx, img.Image)
			if err != nil {
				return nil, Digests{}, fmt.Errorf("listing the store paths in %s: %w", img.Source, err)
			}
			*opts.StorePaths = paths
		}
	}
	d, err := digestsOf(pub, comp)
	if err != nil {
		return nil, Digests{}, fmt.Errorf("describing %s: %w", img.Source, err)
	}
	d.Form = string(img.Form)
	return pub, d, nil
}

func digestsOf(img v1.Image, comp Compressor) (Digests, error) {
	var d Digests
	raw, err := img.RawManifest()
	if err != nil {
		return d, fmt.Errorf("reading manifest: %w", err)
	}
	m, err := img.Manifest()
	if err != nil {
		return d, fmt.Errorf("reading manifest: %w", err)
	}
	// Only created and diff_ids matter here; a config whose other values
	// have the wrong types (which lint reports) still has digests.
	rawConfig, err := img.RawConfigFile()
	if err != nil {
		return d, fmt.Errorf("reading config: %w", err)
	}
	var cfg struct {
		Created string `json:"created"`
		RootFS  struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
	}
	if err := json.Unmarshal(rawConfig, &cfg); err != nil {
		return d, fmt.Errorf("reading config: %w", err)
	}
	sum := sha256.Sum256(raw)
	d.ManifestDigest = "sha256:" + hex.EncodeToString(sum[:])
	d.ManifestSize = int64(len(raw))
	d.MediaType = string(m.MediaType)
	d.ConfigDigest = m.Config.Digest.String()
	d.ConfigSize = m.Config.Size
	d.Compressor = comp
	d.Created = cfg.Created
	if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		return d, fmt.Errorf("config lists %d diff_ids for %d manifest layers", len(cfg.RootFS.DiffIDs), len(m.Layers))
	}
	ci, _ := img.(*compressedImage) // only nixdock's own layers know their uncompressed size
	d.Layers = make([]Layer, len(m.Layers))
	for i, l := range m.Layers {
		d.Layers[i] = Layer{
			DiffID: cfg.RootFS.DiffIDs[i], Digest: l.Digest.String(),
			Size: l.Size, MediaType: string(l.MediaType),
		}
		if ci != nil {
			d.Layers[i].UncompressedSize = ci.layers[i].uncompressedSize
		}
	}
	return d, nil
}

// compressImage reads every layer of img once (in parallel), checking its
// diff_id and computing its compressed digest, and returns an image whose
// manifest uses those digests. img must be an archive or stream image from
// Open, whose layers fail at EOF when their bytes do not hash to their
// diff_id: uncompressed (None) digests rely on that check.
func compressImage(ctx context.Context, img v1.Image, c Compression, opts DescribeOptions) (*compressedImage, error) {
	rawConfig, err := img.RawConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	src, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("reading layers: %w", err)
	}
	layers := make([]*compressedLayer, len(src))
	var spool *compressedSpool
	if opts.KeepCompressed && c != None {
		spool = newCompressedSpool(opts.TempDir, opts.MaxSpool)
	}
	var paths []map[string]bool // per layer, when opts.StorePaths asks
	if opts.StorePaths != nil {
		paths = make([]map[string]bool, len(src))
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = min(runtime.GOMAXPROCS(0), MaxDefaultWorkers)
	}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	var mu sync.Mutex
	done := 0
	for i, l := range src {
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			var seen map[string]bool
			if paths != nil {
				seen = map[string]bool{}
				paths[i] = seen
			}
			cl, err := newCompressedLayer(ctx, l, c, seen, spool)
			if err != nil {
				return fmt.Errorf("reading layer %d: %w", i, err)
			}
			layers[i] = cl
			if opts.OnCompressed != nil {
				opts.OnCompressed(i, len(src), cl)
			}
			if opts.OnLayer != nil {
				mu.Lock()
				done++
				opts.OnLayer(done, len(src))
				mu.Unlock()
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	ci, err := newCompressedImage(rawConfig, layers)
	if err != nil {
		return nil, err
	}
	if paths != nil {
		ci.storePaths = sortedPaths(paths...)
	}
	return ci, nil
}

// compressedImage is an image whose layer digests were computed by nixdock.
type compressedImage struct {
	rawConfig   []byte
	configFile  *v1.ConfigFile
	configErr   error
	rawManifest []byte
	manifest    *v1.Manifest
	layers      []*compressedLayer
	// storePaths are the store paths in the layers, when Describe was
	// asked for them.
	storePaths []string
}

var _ v1.Image = (*compressedImage)(nil)

func newCompressedImage(rawConfig []byte, layers []*compressedLayer) (*compressedImage, error) {
	// A config that does not parse as typed (lint's business) is still
	// published as written; ConfigFile reports the error to whoever asks.
	cfg, cfgErr := v1.ParseConfigFile(bytes.NewReader(rawConfig))
	sum := sha256.Sum256(rawConfig)
	m := &v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Config: v1.Descriptor{
			MediaType: types.OCIConfigJSON,
			Size:      int64(len(rawConfig)),
			Digest:    v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])},
		},
	}
	for _, l := range layers {
		m.Layers = append(m.Layers, v1.Descriptor{MediaType: l.mediaType, Size: l.size, Digest: l.digest})
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encoding manifest: %w", err)
	}
	return &compressedImage{rawConfig: rawConfig, configFile: cfg, configErr: cfgErr, rawManifest: raw, manifest: m, layers: layers}, nil
}

func (i *compressedImage) Layers() ([]v1.Layer, error) {
	out := make([]v1.Layer, len(i.layers))
	for k, l := range i.layers {
		out[k] = l
	}
	return out, nil
}
func (i *compressedImage) MediaType() (types.MediaType, error) { return i.manifest.MediaType, nil }
func (i *compressedImage) Size() (int64, error)                { return int64(len(i.rawManifest)), nil }
func (i *compressedImage) ConfigName() (v1.Hash, error)        { return i.manifest.Config.Digest, nil }
func (i *compressedImage) ConfigFile() (*v1.ConfigFile, error) {
	if i.configErr != nil {
		return nil, fmt.Errorf("parsing config: %w", i.configErr)
	}
	return i.configFile.DeepCopy(), nil
}
func (i *compressedImage) RawConfigFile() ([]byte, error)  { return i.rawConfig, nil }
func (i *compressedImage) Manifest() (*v1.Manifest, error) { return i.manifest.DeepCopy(), nil }
func (i *compressedImage) RawManifest() ([]byte, error)    { return i.rawManifest, nil }
func (i *compressedImage) Digest() (v1.Hash, error) {
	sum := sha256.Sum256(i.rawManifest)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}, nil
}
func (i *compressedImage) LayerByDigest(h v1.Hash) (v1.Layer, error) {
	for _, l := range i.layers {
		if l.digest == h {
			return l, nil
		}
	}
	return nil, fmt.Errorf("no layer with digest %s", h)
}
func (i *compressedImage) LayerByDiffID(h v1.Hash) (v1.Layer, error) {
	for _, l := range i.layers {
		if l.diffID == h {
			return l, nil
		}
	}
	return nil, fmt.Errorf("no layer with diff_id %s", h)
}

// compressedLayer serves a layer compressed on the fly; compression is
// deterministic for a given compressor, so the bytes match the digest
// computed when the layer was first read.
type compressedLayer struct {
	src              v1.Layer
	compression      Compression
	diffID, digest   v1.Hash
	size             int64
	uncompressedSize int64
	mediaType        types.MediaType
	// kept holds the compressed bytes when Describe kept them.
	kept *os.File
}

// newCompressedLayer reads src once, digesting it compressed with c; with
// storePaths non-nil it also adds the store paths the layer holds.
func newCompressedLayer(ctx context.Context, src v1.Layer, c Compression, storePaths map[string]bool, spool *compressedSpool) (*compressedLayer, error) {
	diffID, err := src.DiffID()
	if err != nil {
		return nil, err
	}
	rc, err := src.Uncompressed()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	// A cancelled describe (an interrupt, a failed upload) stops mid-layer.
	in := ContextReader(ctx, rc)
	raw := &countingWriter{}
	if c == None {
		// Uncompressed, the digest is the diff_id: the source's reader has
		// already checked the bytes against it (archive layers fail at EOF
		// otherwise), so a second SHA-256 pass would only cost time.
		if err := copyLayer(raw, in, storePaths); err != nil {
			return nil, err
		}
		return &compressedLayer{
			src: src, compression: c, diffID: diffID, digest: diffID,
			size: raw.n, uncompressedSize: raw.n, mediaType: c.mediaType(),
		}, nil
	}
	comp := &countingWriter{h: sha256.New()}
	var out io.Writer = comp
	var keep *spoolWriter
	if spool != nil {
		f, err := spool.file()
		if err != nil {
			return nil, err
		}
		keep = &spoolWriter{spool: spool, keep: f}
		out = io.MultiWriter(comp, keep)
	}
	w, err := c.writer(out)
	if err != nil {
		return nil, err
	}
	if err := copyLayer(io.MultiWriter(raw, w), in, storePaths); err != nil {
		if keep != nil {
			keep.drop()
		}
		return nil, err
	}
	if err := w.Close(); err != nil {
		if keep != nil {
			keep.drop()
		}
		return nil, err
	}
	var kept *os.File
	if keep != nil {
		kept = keep.kept(comp.n)
	}
	return &compressedLayer{
		kept: kept,
		src:  src, compression: c, diffID: diffID,
		digest:           v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(comp.h.Sum(nil))},
		size:             comp.n,
		uncompressedSize: raw.n,
		mediaType:        c.mediaType(),
	}, nil
}

func (l *compressedLayer) Digest() (v1.Hash, error)            { return l.digest, nil }
func (l *compressedLayer) DiffID() (v1.Hash, error)            { return l.diffID, nil }
func (l *compressedLayer) Size() (int64, error)                { return l.size, nil }
func (l *compressedLayer) MediaType() (types.MediaType, error) { return l.mediaType, nil }
func (l *compressedLayer) Uncompressed() (io.ReadCloser, error) {
	return l.src.Uncompressed()
}

// Compressed serves the bytes Describe kept, or else streams the layer
// through the compressor in a goroutine (compression is deterministic, so
// the bytes are the same).
func (l *compressedLayer) Compressed() (io.ReadCloser, error) {
	if l.kept != nil {
		return keptReader(l.kept, l.size), nil
	}
	rc, err := l.src.Uncompressed()
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	go func() {
		defer rc.Close()
		w, err := l.compression.writer(pw)
		if err != nil {
			pw.CloseWithError(err)
			return
		}
		if _, err := io.Copy(w, rc); err != nil {
			pw.CloseWithError(err)
			return
		}
		pw.CloseWithError(w.Close())
	}()
	return pr, nil
}
