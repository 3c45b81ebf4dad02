package image_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/internal/gen"
)

// BenchmarkOpenDescribe opens and digests a generated 64 MiB archive of 200
// store paths in 20 layers, with each compression. scripts/bench-open does
// the same for 1 GiB as a separate process and measures peak RSS.
func BenchmarkOpenDescribe(b *testing.B) {
	dir := b.TempDir()
	src := filepath.Join(dir, "image.tar")
	o := gen.Defaults()
	o.Size, o.Paths, o.Layers, o.TempDir = 64<<20, 200, 20, dir
	if _, err := gen.WriteFile(src, o); err != nil {
		b.Fatal(err)
	}
	fi, err := os.Stat(src)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []image.Compression{image.None, image.Gzip, image.Zstd} {
		b.Run(string(c), func(b *testing.B) {
			b.SetBytes(fi.Size())
			b.ReportAllocs()
			for b.Loop() {
				img, err := image.Open(context.Background(), src, image.Options{})
				if err != nil {
					b.Fatal(err)
				}
				if _, _, err := image.Describe(context.Background(), img, image.DescribeOptions{Compression: c}); err != nil {
					b.Fatal(err)
				}
				img.Close()
			}
		})
	}
}

// TestGeneratedArchive: the generator's archive opens, its diff_ids and
// config digest are the ones it reports, the same options give the same
// bytes, and -differ-file changes exactly one layer.
func TestGeneratedArchive(t *testing.T) {
	dir := t.TempDir()
	o := gen.Defaults()
	o.Size, o.Paths, o.Layers, o.TempDir = 2<<20, 40, 8, dir
	a1, err := gen.WriteFile(filepath.Join(dir, "a1.tar"), o)
	if err != nil {
		t.Fatal(err)
	}
	a2, err := gen.WriteFile(filepath.Join(dir, "a2.tar"), o)
	if err != nil {
		t.Fatal(err)
	}
	o.DifferFile = 17
	bs, err := gen.WriteFile(filepath.Join(dir, "b.tar"), o)
	if err != nil {
		t.Fatal(err)
	}
	d, err := openAndDescribe(filepath.Join(dir, "a1.tar"))
	if err != nil {
		t.Fatal(err)
	}
	if d.ConfigDigest != a1.ConfigDigest || len(d.Layers) != len(a1.Layers) {
		t.Fatalf("opened config %s with %d layers, generator says %s with %d", d.ConfigDigest, len(d.Layers), a1.ConfigDigest, len(a1.Layers))
	}
	for i, l := range d.Layers {
		if l.DiffID != a1.Layers[i].DiffID {
			t.Errorf("layer %d diff_id %s, generator says %s", i, l.DiffID, a1.Layers[i].DiffID)
		}
	}
	if a2.ConfigDigest != a1.ConfigDigest {
		t.Errorf("same options, different images: %s and %s", a1.ConfigDigest, a2.ConfigDigest)
	}
	if len(a1.Paths) != 40 || len(a1.Paths[0].Path) != len("/nix/store/")+32+len("-pkg-0000-1.0") {
		t.Errorf("store paths %d, first %q: want 40 store-path-shaped names", len(a1.Paths), a1.Paths[0].Path)
	}
	var changed []int
	for i := range a1.Layers {
		if a1.Layers[i].DiffID != bs.Layers[i].DiffID {
			changed = append(changed, i)
		}
	}
	if len(changed) != 1 || bs.Differs == "" {
		t.Fatalf("differ-file changed layers %v (differs %q), want exactly one", changed, bs.Differs)
	}
	for _, p := range bs.Paths {
		if p.Layer == changed[0] && len(bs.Differs) > len(p.Path) && bs.Differs[:len(p.Path)] == p.Path {
			return
		}
	}
	t.Errorf("the differing file %s is not in the changed layer %d", bs.Differs, changed[0])
}
