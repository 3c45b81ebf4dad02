package cli

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeArchive writes a one-layer docker-archive whose config claims
// diffID for the layer bytes given, so a test can tamper with the layer
// under an intact config.
func writeArchive(t *testing.T, path string, layer []byte, diffID string) {
	t.Helper()
	cfg, _ := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux", "created": "1970-01-01T00:00:01Z",
		"config": map[string]any{"Cmd": []string{"/bin/true"}},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{diffID}},
	})
	manifest, _ := json.Marshal([]map[string]any{{"Config": "config.json", "RepoTags": []string{"t:1"}, "Layers": []string{"layer.tar"}}})
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range []struct {
		name string
		data []byte
	}{{"config.json", cfg}, {"layer.tar", layer}, {"manifest.json", manifest}} {
		if err := tw.WriteHeader(&tar.Header{Name: m.name, Mode: 0o644, Size: int64(len(m.data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(m.data)
	}
	tw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func layerTar(t *testing.T, body string) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-app/bin/app", Mode: 0o555, Size: int64(len(body)), Typeflag: tar.TypeReg})
	tw.Write([]byte(body))
	tw.Close()
	return buf.Bytes()
}

// TestDiffTamperedLayer: a layer whose bytes changed under an intact config
// (same diff_id claimed) must not pass as "same": diff reads every layer and
// fails with exit 3 naming the layer.
func TestDiffTamperedLayer(t *testing.T) {
	tmp := t.TempDir()
	good := layerTar(t, "hello, world\n")
	sum := sha256.Sum256(good)
	diffID := "sha256:" + hex.EncodeToString(sum[:])
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
