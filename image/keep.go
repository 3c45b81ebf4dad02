package image

import (
	"fmt"
	"io"
	"os"
	"sync/atomic"
)

// compressedSpool keeps the compressed bytes of an image's layers on disk,
// each layer in an unlinked temporary file (nothing is left behind; the
// file is closed when the layer is no longer reachable), so that a push
// sends the bytes Describe compressed instead of compressing every layer a
// second time. It never holds more than max bytes in all: a layer that
// would pass the bound is compressed again when read, as without a spool.
type compressedSpool struct {
	dir  string
	max  int64
	used atomic.Int64
}

func newCompressedSpool(dir string, max int64) *compressedSpool {
	if max <= 0 {
		max = DefaultMaxSpool
	}
	return &compressedSpool{dir: dir, max: max}
}

// file returns an unlinked temporary file for one layer's compressed bytes.
func (s *compressedSpool) file() (*os.File, error) {
	f, err := os.CreateTemp(s.dir, "nixdock-layer-*.compressed")
	if err != nil {
		return nil, fmt.Errorf("spooling a compressed layer: %w", err)
	}
	os.Remove(f.Name())
	return f, nil
}

// reserve accounts n more bytes; false when the bound would be passed.
func (s *compressedSpool) reserve(n int64) bool {
	if s.used.Add(n) > s.max {
		s.used.Add(-n)
		return false
	}
	return true
}

// spoolWriter writes a layer's compressed bytes to its file while the
// spool has room; past the bound it stops keeping them (keep is nil).
type spoolWriter struct {
	spool *compressedSpool
	keep  *os.File
	n     int64
}

func (w *spoolWriter) Write(p []byte) (int, error) {
	if w.keep == nil {
		return len(p), nil
	}
	if !w.spool.reserve(int64(len(p))) {
		w.drop()
		return len(p), nil
	}
	if _, err := w.keep.Write(p); err != nil {
		// A full disk only costs the second compression, never the push.
		w.drop()
		return len(p), nil
	}
	w.n += int64(len(p))
	return len(p), nil
}

// drop gives the layer's room back and forgets its bytes.
func (w *spoolWriter) drop() {
	if w.keep != nil {
		w.keep.Close()
		w.keep = nil
		w.spool.used.Add(-w.n)
		w.n = 0
	}
}

// kept is the file holding exactly size compressed bytes, or nil.
func (w *spoolWriter) kept(size int64) *os.File {
	if w.keep == nil || w.n != size {
		w.drop()
		return nil
	}
	return w.keep
}

// keptReader reads a kept layer from its start; closing it leaves the file
// open for the next read.
func keptReader(f *os.File, size int64) io.ReadCloser {
	return io.NopCloser(io.NewSectionReader(f, 0, size))
}
