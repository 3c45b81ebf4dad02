package image_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// FuzzOpenArchive writes arbitrary bytes to a file, opens it and describes
// it: whatever the bytes, the result is an image or an error, never a panic
// or a hang.
func FuzzOpenArchive(f *testing.F) {
	capMinimize(f, "200x")
	good := tarOf(f, goodArchive(f))
	f.Add(good)
	f.Add(gzipOf(good))
	f.Add(zstdWithWindow(f, good, 17))
	for _, tc := range badArchives(f) {
		f.Add(tc.data)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		src := filepath.Join(dir, "fuzz.tar")
		// A new file each time: truncating and rewriting one makes ext4
		// flush it on close (auto_da_alloc), which cost 80% of each run.
		if err := os.Remove(src); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		if err := os.WriteFile(src, data, 0o644); err != nil {
			t.Fatal(err)
		}
		// Errors are expected; panics and hangs are the failures.
		_, _ = openAndDescribe(src)
	})
}

// capMinimize limits how long the fuzzer minimizes each new input, unless
// -fuzzminimizetime was given. Go minimizes every input that finds new
// coverage, not only failures, for up to a minute by default, and its
// byte-subset pass is quadratic in the input's length: a docker-archive is
// at least a few KiB of tar blocks, so each new input stalled fuzzing for
// the whole minute (about one exec a second overall). The flag is read when
// f.Fuzz starts, so setting it here takes effect.
func capMinimize(f *testing.F, limit string) {
	set := false
	flag.Visit(func(fl *flag.Flag) { set = set || fl.Name == "test.fuzzminimizetime" })
	if !set {
		if err := flag.Set("test.fuzzminimizetime", limit); err != nil {
			f.Fatal(err)
		}
	}
}
