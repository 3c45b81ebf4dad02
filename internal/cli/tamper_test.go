package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nixdock/nixdock-action/internal/testimage"
)

// layerTar is a one-file layer.
func layerTar(t *testing.T, body string) []byte {
	return testimage.Layer(t, testimage.File("nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-app/bin/app", body))
}

// writeArchive writes a one-layer docker-archive whose config claims
// diffID for the layer bytes given, so a test can tamper with the layer
// under an intact config.
func writeArchive(t *testing.T, path string, layer []byte, diffID string) {
	testimage.Archive{Layers: [][]byte{layer}, DiffIDs: []string{diffID}, RepoTags: []string{"t:1"}}.Write(t, path)
}

// TestDiffTamperedLayer: a layer whose bytes changed under an intact config
// (same diff_id claimed) must not pass as "same": diff reads every layer and
// fails with exit 3 naming the layer.
func TestDiffTamperedLayer(t *testing.T) {
	tmp := t.TempDir()
	good := layerTar(t, "hello, world\n")
	diffID := testimage.DiffID(good)
	a, b, c := filepath.Join(tmp, "a.tar"), filepath.Join(tmp, "b.tar"), filepath.Join(tmp, "tampered.tar")
	writeArchive(t, a, good, diffID)
	writeArchive(t, b, good, diffID)
	writeArchive(t, c, layerTar(t, "hello, w0rld\n"), diffID)
	if code, out, errs := runCLI(t, "diff", "--no-nix", a, b); code != 0 || !strings.HasPrefix(out, "✓ reproducible") {
		t.Fatalf("two good archives: exit %d, %q %q", code, out, errs)
	}
	for _, args := range [][]string{{a, c}, {c, a}} {
		code, out, errs := runCLI(t, "diff", "--no-nix", args[0], args[1])
		if code != 3 || !strings.Contains(errs, "tampered or corrupt") || !strings.Contains(errs, "layer.tar") || strings.Contains(out, "reproducible") {
			t.Errorf("diff %s %s: exit %d, stdout %q, stderr %q; want exit 3 naming the tampered layer", filepath.Base(args[0]), filepath.Base(args[1]), code, out, errs)
		}
	}
}

// TestDiffTamperedLayoutBlob: a blob of an OCI layout changed in place (its
// file name, the manifest's digest, unchanged) is found too.
func TestDiffTamperedLayoutBlob(t *testing.T) {
	tmp := t.TempDir()
	a := randomLayout(t, filepath.Join(tmp, "a"))
	c := filepath.Join(tmp, "c")
	if err := os.CopyFS(c, os.DirFS(a)); err != nil {
		t.Fatal(err)
	}
	blobs, _ := filepath.Glob(filepath.Join(c, "blobs", "sha256", "*"))
	var biggest string
	var size int64
	for _, p := range blobs {
		if fi, err := os.Stat(p); err == nil && fi.Size() > size {
			biggest, size = p, fi.Size()
		}
	}
	data, err := os.ReadFile(biggest)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0xff
	os.Chmod(biggest, 0o644)
	if err := os.WriteFile(biggest, data, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "diff", "--no-nix", a, c)
	if code != 3 || !strings.Contains(errs, "tampered or corrupt") {
		t.Errorf("tampered layout blob: exit %d, stdout %q, stderr %q", code, out, errs)
	}
}
