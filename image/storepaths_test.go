package image_test

import (
	"bytes"
	"context"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/nixdock/nixdock-action/image"
)

// Describe's StorePaths option lists the store paths in the layers during
// its single read, the same list StorePaths reads for, and without
// changing a digest or losing the bytes after the tar end marker.
func TestDescribeStorePaths(t *testing.T) {
	hashA, hashB := strings.Repeat("a", 32), strings.Repeat("b", 32)
	l1 := layerTar(t, "nix/store/"+hashA+"-one/bin/one", "one\n")
	// Bytes past the end marker (GNU tar pads to a 10 KiB record), more
	// than one read buffer holds.
	l1 = append(l1, make([]byte, 256<<10)...)
	l2 := layerTar(t, "./nix/store/"+hashB+"-two", "two\n")
	l3 := layerTar(t, "etc/passwd", "root:x:0:0::/:\n")
	src := writeTemp(t, "paths.tar", tarOf(t, archiveOf(t, [][]byte{l1, l2, l3}, nil)))
	want := []string{"/nix/store/" + hashA + "-one", "/nix/store/" + hashB + "-two"}
	ctx := context.Background()
	for _, c := range []image.Compression{image.None, image.Gzip, image.Zstd} {
		img, err := image.Open(ctx, src, image.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer img.Close()
		_, plain, err := image.Describe(ctx, img, image.DescribeOptions{Compression: c})
		if err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		var got []string
		_, d, err := image.Describe(ctx, img, image.DescribeOptions{Compression: c, StorePaths: &got})
		if err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: store paths %v, want %v", c, got, want)
		}
		if d.ManifestDigest != plain.ManifestDigest {
			t.Errorf("%s: manifest %s with store paths, %s without", c, d.ManifestDigest, plain.ManifestDigest)
		}
		if d.Layers[0].UncompressedSize != int64(len(l1)) {
			t.Errorf("%s: layer 0 read %d bytes, has %d", c, d.Layers[0].UncompressedSize, len(l1))
		}
		read, err := image.StorePaths(ctx, img)
		if err != nil || !slices.Equal(read, want) {
			t.Errorf("StorePaths = %v, %v; want %v", read, err, want)
		}
	}
}

// The gzip level the record names is the one the layers were compressed
// with: recompressing at that level gives the published digest.
func TestGzipLevelNamed(t *testing.T) {
	ctx := context.Background()
	img, err := image.Open(ctx, writeTemp(t, "good.tar", tarOf(t, goodArchive(t))), image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	pub, d, err := image.Describe(ctx, img, image.DescribeOptions{Compression: image.Gzip})
	if err != nil {
		t.Fatal(err)
	}
	layers, err := pub.Layers()
	if err != nil {
		t.Fatal(err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	w, err := gzip.NewWriterLevel(&buf, d.Compressor.Level)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(w, rc); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if got := "sha256:" + sha(buf.Bytes()); got != d.Layers[0].Digest {
		t.Errorf("gzip level %d gives %s, the layer's digest is %s", d.Compressor.Level, got, d.Layers[0].Digest)
	}
}
