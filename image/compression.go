package image

import (
	"fmt"
	"hash"
	"io"
	"sync"

	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Compression is the layer compression of a published image.
type Compression string

// The compressions nixdock publishes with.
const (
	Gzip Compression = "gzip"
	Zstd Compression = "zstd"
	None Compression = "none"
)

// compressLibrary names the code that compresses, with its version: the
// bytes (and so the digests) depend on it. Keep in step with go.mod.
const compressLibrary = "github.com/klauspost/compress@v1.20.4"

const (
	// gzipLevel is spelled out, not gzip.DefaultCompression: the record
	// names the level, and the library's default is 5 (not zlib's 6). The
	// bytes are the same as the default's.
	gzipLevel = 5
	zstdLevel = zstd.SpeedDefault
)

// ParseCompression checks a --compression value.
func ParseCompression(s string) (Compression, error) {
	switch c := Compression(s); c {
	case Gzip, Zstd, None:
		return c, nil
	}
	return "", fmt.Errorf("%q: want gzip, zstd or none", s)
}

// Compressor names c and the library that implements it.
func (c Compression) Compressor() Compressor {
	switch c {
	case Gzip:
		return Compressor{Name: "gzip", Library: compressLibrary, Level: gzipLevel}
	case Zstd:
		return Compressor{Name: "zstd", Library: compressLibrary, Level: int(zstdLevel)}
	}
	return Compressor{Name: "none"}
}

// CompressorNames are the values Compressor.Name takes: a compression
// nixdock applied, or "as-published" for an image described as it came
// (an OCI layout, a registry image).
var CompressorNames = []string{"gzip", "zstd", "none", "as-published"}

// Compressor names the layer compression and the code that did it.
type Compressor struct {
	Name    string `json:"name"`
	Library string `json:"library,omitempty"`
	Level   int    `json:"level,omitempty"`
}

func (c Compression) mediaType() types.MediaType {
	switch c {
	case Gzip:
		return types.OCILayer
	case Zstd:
		return types.OCILayerZStd
	}
	return types.OCIUncompressedLayer
}

// writer compresses into w. Every writer is single-threaded so that its
// output depends only on its input.
func (c Compression) writer(w io.Writer) (io.WriteCloser, error) {
	switch c {
	case Gzip:
		return gzip.NewWriterLevel(w, gzipLevel)
	case Zstd:
		return newZstdWriter(w)
	case None:
		return nopWriteCloser{w}, nil
	}
	return nil, fmt.Errorf("unknown compression %q", c)
}

// zstdEncoders are reused across layers: a new encoder allocates its tables
// again, and with a hundred layers that garbage dominates peak memory. Reset
// makes a reused encoder's output the same as a new one's.
var zstdEncoders sync.Pool

type zstdWriter struct{ *zstd.Encoder }

func newZstdWriter(w io.Writer) (io.WriteCloser, error) {
	if e, ok := zstdEncoders.Get().(*zstd.Encoder); ok {
		e.Reset(w)
		return zstdWriter{e}, nil
	}
	// Lower encoder memory changes allocation, not output.
	e, err := zstd.NewWriter(w, zstd.WithEncoderLevel(zstdLevel), zstd.WithEncoderConcurrency(1), zstd.WithLowerEncoderMem(true))
	if err != nil {
		return nil, err
	}
	return zstdWriter{e}, nil
}

// Close ends the frame and returns the encoder to the pool.
func (z zstdWriter) Close() error {
	err := z.Encoder.Close()
	z.Encoder.Reset(nil)
	zstdEncoders.Put(z.Encoder)
	return err
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

// countingWriter counts bytes and, with h set, hashes them.
type countingWriter struct {
	n int64
	h hash.Hash
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	if c.h != nil {
		c.h.Write(p)
	}
	return len(p), nil
}
