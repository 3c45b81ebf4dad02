package gen

import (
	"bytes"
	"strings"
	"testing"
)

// TestDeterministic: the same options give the same bytes; another seed
// gives other bytes; sizes land near Options.Size.
func TestDeterministic(t *testing.T) {
	o := Defaults()
	o.Size, o.Paths, o.Layers, o.TempDir = 1<<20, 30, 5, t.TempDir()
	var a, b, c bytes.Buffer
	sa, err := Write(&a, o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Write(&b, o); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two runs with the same options differ")
	}
	o.Seed = "other"
	if _, err := Write(&c, o); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.Bytes(), c.Bytes()) {
		t.Fatal("another seed gives the same archive")
	}
	var total int64
	for _, p := range sa.Paths {
		total += p.Bytes
		if !strings.HasPrefix(p.Path, "/nix/store/") {
			t.Errorf("path %s is not a store path", p.Path)
		}
	}
	if total < o.Size*9/10 || total > o.Size*11/10 {
		t.Errorf("files total %d bytes, want about %d", total, o.Size)
	}
	if sa.ArchiveSize != int64(a.Len()) || len(sa.Layers) != 5 || len(sa.Paths) != 30 {
		t.Errorf("summary %d bytes %d layers %d paths; wrote %d bytes", sa.ArchiveSize, len(sa.Layers), len(sa.Paths), a.Len())
	}
}

func TestOptionsChecked(t *testing.T) {
	for _, o := range []Options{
		{Size: 1, Paths: 0, Layers: 1},
		{Size: 1, Paths: 2, Layers: 3},
		{Size: 1, Paths: 2, Layers: 1, Compressible: 2},
		{Size: 1, Paths: 2, Layers: 1, DifferFile: 2},
	} {
		if _, err := Write(&bytes.Buffer{}, o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}
