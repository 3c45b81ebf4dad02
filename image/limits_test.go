package image_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/klauspost/compress/zstd"
	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/internal/hostile"
)

// TestSpoolLimit: a small compressed archive that expands past MaxSpool is
// refused while decompressing, not written to disk in full.
func TestSpoolLimit(t *testing.T) {
	ms := append(goodArchive(t), member{name: "padding", data: make([]byte, 4<<20)})
	src := writeTemp(t, "bomb.tar.gz", gzipOf(tarOf(t, ms)))
	img, err := image.Open(context.Background(), src, image.Options{})
	if err != nil {
		t.Fatalf("under the default limit: %v", err)
	}
	img.Close()
	_, err = image.Open(context.Background(), src, image.Options{MaxSpool: 1 << 20})
	if !errors.Is(err, image.ErrBadArchive) || !strings.Contains(err.Error(), "limit") || !strings.Contains(err.Error(), src) {
		t.Fatalf("over the limit: got %v, want ErrBadArchive naming %s and the limit", err, src)
	}
}

// TestStreamSpoolLimit: a stream script that writes more than MaxSpool is
// stopped.
func TestStreamSpoolLimit(t *testing.T) {
	script := filepath.Join(t.TempDir(), "stream")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nexec head -c 4194304 /dev/zero\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := image.Open(context.Background(), script, image.Options{MaxSpool: 1 << 20})
	if !errors.Is(err, image.ErrBadArchive) || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("got %v, want ErrBadArchive naming the limit", err)
	}
}

// zstdWithWindow compresses b as one zstd frame whose header declares a
// window of 2^(10+exp) bytes, however small b is.
func zstdWithWindow(t testing.TB, b []byte, exp byte) []byte {
	var buf bytes.Buffer
	zw, err := zstd.NewWriter(&buf, zstd.WithWindowSize(1<<20), zstd.WithSingleSegment(false))
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(b)
	zw.Close()
	out := buf.Bytes()
	if out[4]&0x20 != 0 {
		t.Fatalf("frame is single-segment; no window descriptor to patch")
	}
	out[5] = exp << 3 // Window_Descriptor: exponent in the high 5 bits
	return out
}

// TestZstdWindowReused: a tiny .tar.zst whose header claims a 128 MiB window
// does not cost a fresh 128 MiB on every open (the fuzzer opens thousands).
func TestZstdWindowReused(t *testing.T) {
	src := writeTemp(t, "big-window.tar.zst", zstdWithWindow(t, tarOf(t, goodArchive(t)), 17))
	if _, err := openAndDescribe(src); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const runs = 20
	for range runs {
		if _, err := openAndDescribe(src); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / runs; per > 32<<20 {
		t.Fatalf("each open allocated %d MiB, want the zstd window reused", per>>20)
	}
}

// TestHugeTarSize: a tar header that claims more bytes than the file has
// fails when the archive is indexed, without allocating the claimed size.
func TestHugeTarSize(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "manifest.json", Mode: 0o644, Size: 1 << 40, Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	tw.Write([]byte("[]"))
	tw.Flush() // the short write is the point; Close would refuse it
	src := writeTemp(t, "huge.tar", buf.Bytes())
	_, err := openAndDescribe(src)
	if !errors.Is(err, image.ErrBadArchive) || !strings.Contains(err.Error(), src) {
		t.Fatalf("got %v, want ErrBadArchive naming %s", err, src)
	}
}

// TestSpoolDiskFull: a compressed archive that fills the temporary
// directory's disk is reported as a full disk naming the directory, not as
// a bad archive.
func TestSpoolDiskFull(t *testing.T) {
	disk := hostile.TinyDisk(t, "1m")
	src := writeTemp(t, "big.tar.zst", hostile.ZstdZeros(8<<20))
	_, err := image.Open(context.Background(), src, image.Options{TempDir: disk})
	if !errors.Is(err, image.ErrDiskFull) || errors.Is(err, image.ErrBadArchive) || !strings.Contains(err.Error(), disk) {
		t.Fatalf("got %v, want ErrDiskFull naming %s and not ErrBadArchive", err, disk)
	}
	if left, _ := os.ReadDir(disk); len(left) != 0 {
		t.Errorf("left in the temporary directory: %v", left)
	}
}

// TestSpoolCancelled: an interrupt stops the decompression of a bomb
// within a moment, not after the gigabytes it expands to.
func TestSpoolCancelled(t *testing.T) {
	src := writeTemp(t, "bomb.tar.zst", hostile.ZstdZeros(6<<30))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	_, err := image.Open(ctx, src, image.Options{TempDir: t.TempDir()})
	if !errors.Is(err, context.Canceled) || errors.Is(err, image.ErrBadArchive) {
		t.Fatalf("got %v, want context.Canceled (and not a bad archive)", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v to stop", d)
	}
}

// TestDefaultLimitsFitCI: the defaults stay below a CI runner's disk (14 GB
// free on GitHub's hosted runners) for two images at once.
func TestDefaultLimitsFitCI(t *testing.T) {
	if 2*image.DefaultMaxSpool > 14e9 {
		t.Errorf("two images may spool %d bytes, more than a hosted runner's 14 GB", 2*image.DefaultMaxSpool)
	}
	if image.DefaultMaxSparse > image.DefaultMaxSpool {
		t.Errorf("sparse limit %d above the spool limit %d", image.DefaultMaxSparse, image.DefaultMaxSpool)
	}
}

// TestLayersOfManifestAndConfigDisagree: a manifest that lists more layers
// than the config has diff_ids is an error, not layers paired with
// diff_ids that are not theirs (CheckLayers indexes one by the other).
func TestLayersOfManifestAndConfigDisagree(t *testing.T) {
	img, err := random.Image(64, 2)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg = cfg.DeepCopy()
	cfg.RootFS.DiffIDs = cfg.RootFS.DiffIDs[:1]
	lying, err := mutate.ConfigFile(img, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := image.LayersOf(lying); err == nil || !strings.Contains(err.Error(), "the manifest lists 2 layers, the config 1 diff_ids") {
		t.Fatalf("LayersOf: %v", err)
	}
	if ls, err := image.LayersOf(img); err != nil || len(ls) != 2 {
		t.Fatalf("LayersOf of the honest image: %d layers, %v", len(ls), err)
	}
}
