package image_test

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzOpenArchive writes arbitrary bytes to a file, opens it and describes
// it: whatever the bytes, the result is an image or an error, never a panic
// or a hang.
func FuzzOpenArchive(f *testing.F) {
	good := tarOf(f, goodArchive(f))
	f.Add(good)
	f.Add(gzipOf(good))
	for _, tc := range badArchives(f) {
		f.Add(tc.data)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		src := filepath.Join(dir, "fuzz.tar")
		if err := os.WriteFile(src, data, 0o644); err != nil {
			t.Fatal(err)
		}
		// Errors are expected; panics and hangs are the failures.
		_, _ = openAndDescribe(src)
	})
}
