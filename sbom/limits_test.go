package sbom

import (
	"archive/tar"
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/internal/hostile"
)

// outOfOrder is a store path whose entries are not in NAR order (z before
// a), so scanLayer spools it to disk, with a file of size bytes.
func outOfOrder(size int) []entry {
	b := "nix/store/" + hashB + "-x"
	return []entry{
		{Name: b + "/", Type: tar.TypeDir, Mode: 0o555},
		{Name: b + "/z", Type: tar.TypeReg, Mode: 0o444, Body: strings.Repeat("z", size)},
		{Name: b + "/a", Type: tar.TypeReg, Mode: 0o444, Body: "a"},
	}
}

// TestSpoolLimit: the store paths sbom spools count against the image's
// spool limit.
func TestSpoolLimit(t *testing.T) {
	l := layerOf(t, tarBytes(t, outOfOrder(64<<10)))
	if _, err := scanLayerTo(context.Background(), l, spoolDir{dir: t.TempDir(), limit: image.NewSpoolLimit(1 << 20)}); err != nil {
		t.Fatalf("under the limit: %v", err)
	}
	_, err := scanLayerTo(context.Background(), l, spoolDir{dir: t.TempDir(), limit: image.NewSpoolLimit(16 << 10)})
	if !errors.Is(err, image.ErrSpoolLimit) {
		t.Fatalf("over the limit: got %v, want ErrSpoolLimit", err)
	}
}

// TestSpoolDiskFull: a spool that fills the disk is reported as a full
// disk naming the temporary directory, and nothing is left there.
func TestSpoolDiskFull(t *testing.T) {
	disk := hostile.TinyDisk(t, "1m")
	l := layerOf(t, tarBytes(t, outOfOrder(4<<20)))
	_, err := scanLayer(context.Background(), l, disk)
	if !errors.Is(err, image.ErrDiskFull) || !strings.Contains(err.Error(), disk) {
		t.Fatalf("got %v, want ErrDiskFull naming %s", err, disk)
	}
	if left, _ := os.ReadDir(disk); len(left) != 0 {
		t.Errorf("left in the temporary directory: %v", left)
	}
}

// TestSparseRefused: a sparse file past image.DefaultMaxSparse (64 GiB in
// a few hundred bytes) is refused at once instead of hashed, in order or
// not, in a store path or outside one.
func TestSparseRefused(t *testing.T) {
	for _, name := range []string{"nix/store/" + hashB + "-x/big", "etc/big"} {
		for _, pax := range []bool{false, true} {
			l := layerOf(t, hostile.SparseLayer(name, 64<<30, pax))
			_, err := scanLayer(context.Background(), l, t.TempDir())
			if !errors.Is(err, image.ErrSparseTooLarge) || !strings.Contains(err.Error(), name) {
				t.Errorf("%s (pax %v): got %v, want ErrSparseTooLarge naming it", name, pax, err)
			}
		}
	}
}
