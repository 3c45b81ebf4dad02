package image

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// Kind of compression found at the start of a stream.
func sniff(br *bufio.Reader) string {
	head, _ := br.Peek(4)
	switch {
	case bytes.HasPrefix(head, gzipMagic):
		return "gzip"
	case bytes.HasPrefix(head, zstdMagic):
		return "zstd"
	}
	return "none"
}

// decompressed returns r's bytes, decompressed when they start with a gzip or
// zstd header.
func decompressed(r io.Reader) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	switch sniff(br) {
	case "gzip":
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("reading gzip: %w", err)
		}
		return zr, nil
	case "zstd":
		zr, err := newZstdReader(br)
		if err != nil {
			return nil, fmt.Errorf("reading zstd: %w", err)
		}
		return zr, nil
	}
	return io.NopCloser(br), nil
}

// MaxZstdWindow is the largest zstd window nixdock decodes: the zstd CLI's
// default limit, so whatever `zstd -d` accepts opens. A frame that asks for
// a larger window is refused rather than allocated.
const MaxZstdWindow = 128 << 20

// zstdDecoders are reused across layers and archives. A decoder allocates
// the window its frame header declares (up to MaxZstdWindow) before
// decoding a byte, so a small stream whose header claims 128 MiB cost a
// fresh 128 MiB per call; reused, the buffer is allocated once.
var zstdDecoders sync.Pool

type zstdReader struct {
	*zstd.Decoder
	closed bool
}

func newZstdReader(r io.Reader) (io.ReadCloser, error) {
	if d, ok := zstdDecoders.Get().(*zstd.Decoder); ok {
		if err := d.Reset(r); err != nil {
			return nil, err
		}
		return &zstdReader{Decoder: d}, nil
	}
	d, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxWindow(MaxZstdWindow))
	if err != nil {
		return nil, err
	}
	return &zstdReader{Decoder: d}, nil
}

// Close releases the reader and returns the decoder to the pool once (a
// closed decoder cannot be reset, so it is never closed).
func (z *zstdReader) Close() error {
	if z.closed {
		return nil
	}
	z.closed = true
	z.Decoder.Reset(nil)
	zstdDecoders.Put(z.Decoder)
	return nil
}

// verifyingReader hashes what passes through it and fails at EOF when the
// hash is not the one expected.
type verifyingReader struct {
	rc       io.ReadCloser
	h        hash.Hash
	want     v1.Hash
	mismatch func(got v1.Hash) error
}

func verifying(rc io.ReadCloser, want v1.Hash, mismatch func(got v1.Hash) error) io.ReadCloser {
	return &verifyingReader{rc: rc, h: sha256.New(), want: want, mismatch: mismatch}
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	n, err := v.rc.Read(p)
	v.h.Write(p[:n])
	if err == io.EOF {
		got := v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(v.h.Sum(nil))}
		if got != v.want {
			return n, v.mismatch(got)
		}
	}
	return n, err
}

func (v *verifyingReader) Close() error { return v.rc.Close() }
