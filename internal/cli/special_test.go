package cli

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nixdock/nixdock-action/internal/hostile"
)

// TestFIFORefused: a named pipe given as an image or a record, with no
// writer, is refused at once (exit 3, naming it) instead of blocking.
func TestFIFORefused(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "image.tar")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"inspect", fifo},
		{"lint", fifo},
		{"sbom", fifo},
		{"diff", fifo, fifo},
		{"verify", fifo, fifo},
		{"inspect", "/dev/zero"},
	} {
		done := make(chan struct{})
		var code int
		var stderr string
		go func() {
			code, _, stderr = runCLI(t, args...)
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("nixdock %s blocked", strings.Join(args, " "))
		}
		if code != ExitFailure || !strings.Contains(stderr, args[1]) ||
			!strings.Contains(stderr, "not a regular file") {
			t.Errorf("nixdock %s: exit %d, stderr %q; want exit 3 naming the file as not a regular file", strings.Join(args, " "), code, stderr)
		}
	}
}

// sparseArchive writes a docker-archive whose one layer holds a store path
// with a sparse file of 64 GiB (in the old GNU or the PAX form) and
// returns its path.
func sparseArchive(t *testing.T, pax bool, outOfOrder bool) string {
	t.Helper()
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	dir := "nix/store/0c9nfsyz0dsnbl3hpj1fmm6bb3cyl1hm-sparse-1.0/"
	hdr := func(name string, typ byte, size int64) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o555, Typeflag: typ, Size: size, ModTime: time.Unix(1, 0), Format: tar.FormatGNU}); err != nil {
			t.Fatal(err)
		}
	}
	hdr(dir, tar.TypeDir, 0)
	if outOfOrder {
		// z before a: not NAR order, so sbom spools the path to disk.
		hdr(dir+"z", tar.TypeReg, 1)
		tw.Write([]byte("z"))
	}
	tw.Flush()
	if pax {
		layer.Write(hostile.SparsePAX(dir+"big", 64<<30))
	} else {
		layer.Write(hostile.SparseFile(dir+"big", 64<<30))
	}
	tw = tar.NewWriter(&layer)
	tw.WriteHeader(&tar.Header{Name: dir + "c", Mode: 0o444, Typeflag: tar.TypeReg, Size: 1, ModTime: time.Unix(1, 0), Format: tar.FormatGNU})
	tw.Write([]byte("c"))
	tw.Close()
	var out bytes.Buffer
	if err := hostile.Archive(&out, nil, hostile.Bytes(layer.Bytes())); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "sparse.tar")
	if err := os.WriteFile(p, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSparseLimitEveryCommand: a 20 KB archive with a 64 GiB sparse file
// costs every command a moment, not minutes: lint and diff skip its holes,
// sbom (which must hash every byte) refuses it naming the file, and
// nothing is spooled to TMPDIR.
func TestSparseLimitEveryCommand(t *testing.T) {
	for _, tc := range []struct {
		name            string
		pax, outOfOrder bool
	}{{"gnu", false, false}, {"pax", true, false}, {"pax-out-of-order", true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			src := sparseArchive(t, tc.pax, tc.outOfOrder)
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp)
			other := sparseArchive(t, tc.pax, !tc.outOfOrder)
			for _, args := range [][]string{
				{"inspect", src},
				{"lint", src},
				{"diff", src, other},
				{"sbom", src},
			} {
				start := time.Now()
				code, _, stderr := runCLI(t, args...)
				if d := time.Since(start); d > 20*time.Second {
					t.Errorf("nixdock %s took %v", args[0], d)
				}
				switch {
				case args[0] == "sbom":
					if code != ExitFailure || !strings.Contains(stderr, "sparse file of 68719476736 bytes") || !strings.Contains(stderr, "big") {
						t.Errorf("sbom: exit %d, stderr %q; want exit 3 naming the sparse file and its size", code, stderr)
					}
				case code == ExitFailure || code == ExitUsage:
					t.Errorf("nixdock %s: exit %d: %s", args[0], code, stderr)
				}
				if left, _ := os.ReadDir(tmp); len(left) != 0 {
					t.Errorf("nixdock %s left %d files in TMPDIR", args[0], len(left))
				}
			}
		})
	}
}
