package image

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"path/filepath"
	"sync/atomic"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/nixdock/nixdock-action/internal/testimage"
)

// TestArchiveLayersSelfVerify: layers of an archive reach CheckLayers as
// the verifying reader, so CheckLayers hashes each byte once, not twice;
// and a layer changed under its diff_id still fails.
func TestArchiveLayersSelfVerify(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, layer []byte, diffID string) string {
		return writeTestArchive(t, filepath.Join(dir, name), layer, diffID)
	}
	good := testLayer(t, "hello")
	diffID := testimage.DiffID(good)
	for name, layer := range map[string][]byte{"good.tar": good, "bad.tar": testLayer(t, "jello")} {
		img, err := Open(context.Background(), write(name, layer, diffID), Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer img.Close()
		layers, err := img.Layers()
		if err != nil {
			t.Fatal(err)
		}
		rc, err := layers[0].Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := rc.(*verifyingReader); !ok {
			t.Errorf("%s: layer reader is %T, not the verifying reader", name, rc)
		}
		rc.Close()
		err = CheckLayers(context.Background(), img, 0)
		if (err != nil) != (name == "bad.tar") {
			t.Errorf("%s: CheckLayers: %v", name, err)
		}
	}
}

// writeTestArchive writes a one-layer docker-archive whose config claims
// diffID for the layer given.
func writeTestArchive(t *testing.T, p string, layer []byte, diffID string) string {
	return testimage.Archive{Layers: [][]byte{layer}, DiffIDs: []string{diffID}}.Write(t, p)
}

// testLayer is a one-file layer tar.
func testLayer(t *testing.T, body string) []byte {
	return testimage.Layer(t, testimage.Entry{Name: "f", Body: body, Mode: 0o644, Type: tar.TypeReg})
}

// openTestArchive opens a one-layer archive, closed after the test.
func openTestArchive(t *testing.T) *Image {
	t.Helper()
	layer := testLayer(t, "hello, keep me compressed")
	img, err := Open(context.Background(), writeTestArchive(t, filepath.Join(t.TempDir(), "a.tar"), layer, testimage.DiffID(layer)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { img.Close() })
	return img
}

// countingImage counts how often each layer's bytes are read.
type countingImage struct {
	v1.Image
	reads *atomic.Int64
}

func (c countingImage) Layers() ([]v1.Layer, error) {
	ls, err := c.Image.Layers()
	out := make([]v1.Layer, len(ls))
	for i, l := range ls {
		out[i] = countingLayer{Layer: l, reads: c.reads}
	}
	return out, err
}

type countingLayer struct {
	v1.Layer
	reads *atomic.Int64
}

func (c countingLayer) Uncompressed() (io.ReadCloser, error) {
	c.reads.Add(1)
	return c.Layer.Uncompressed()
}

// TestKeepCompressed: with KeepCompressed, the bytes a push sends are the
// ones Describe compressed (each layer read once, not compressed again),
// and they are the bytes compressing again would give.
func TestKeepCompressed(t *testing.T) {
	img := openTestArchive(t)
	for _, keep := range []bool{false, true} {
		var reads atomic.Int64
		wrapped := &Image{Image: countingImage{Image: img.Image, reads: &reads}, Form: FormArchive, Source: img.Source}
		pub, _, err := Describe(context.Background(), wrapped, DescribeOptions{Compression: Gzip, KeepCompressed: keep, TempDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		layers, _ := pub.Layers()
		for _, l := range layers {
			rc, err := l.Compressed()
			if err != nil {
				t.Fatal(err)
			}
			h := sha256.New()
			io.Copy(h, rc)
			rc.Close()
			want, _ := l.Digest()
			if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != want.String() {
				t.Errorf("keep=%v: compressed bytes hash to %s, digest %s", keep, got, want)
			}
		}
		wantReads := int64(2 * len(layers))
		if keep {
			wantReads = int64(len(layers))
		}
		if reads.Load() != wantReads {
			t.Errorf("keep=%v: %d layer reads for %d layers, want %d", keep, reads.Load(), len(layers), wantReads)
		}
	}
}
