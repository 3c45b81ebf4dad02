package hostile

import (
	"archive/tar"
	"bytes"
	"io"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// TestSparseLayer: archive/tar reads the generated header as a sparse file
// of the declared size, all zeros, followed by the next entry.
func TestSparseLayer(t *testing.T) {
	for _, pax := range []bool{false, true} {
		checkSparse(t, pax)
	}
	h, err := tar.NewReader(bytes.NewReader(SparseLayer("huge", 64<<30, false))).Next()
	if err != nil || h.Size != 64<<30 {
		t.Fatalf("64 GiB old-form sparse file: %v, %v", h, err)
	}
}

func checkSparse(t *testing.T, pax bool) {
	tr := tar.NewReader(bytes.NewReader(SparseLayer("big", 1<<20, pax)))
	h, err := tr.Next()
	if err != nil {
		t.Fatal(err)
	}
	want := byte(tar.TypeGNUSparse)
	if pax {
		want = tar.TypeReg
	}
	if h.Name != "big" || h.Size != 1<<20 || h.Typeflag != want {
		t.Fatalf("pax %v: header = %q size %d type %q, want big, 1 MiB, type %q", pax, h.Name, h.Size, h.Typeflag, want)
	}
	data, err := io.ReadAll(tr)
	if err != nil || len(data) != 1<<20 || bytes.Count(data, []byte{0}) != 1<<20 {
		t.Fatalf("content: %d bytes, err %v; want 1 MiB of zeros", len(data), err)
	}
	if h, err = tr.Next(); err != nil || h.Name != "after-sparse" {
		t.Fatalf("next entry = %v, %v", h, err)
	}
}

// TestZstdZeros: the hand-made frame decodes to exactly n zeros.
func TestZstdZeros(t *testing.T) {
	n := int64(300<<10 + 7)
	zr, err := zstd.NewReader(bytes.NewReader(ZstdZeros(n)))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	data, err := io.ReadAll(zr)
	if err != nil || int64(len(data)) != n || bytes.Count(data, []byte{0}) != len(data) {
		t.Fatalf("decoded %d bytes, err %v; want %d zeros", len(data), err, n)
	}
}
