package n2ctest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nixdock/nixdock-action/image"
)

// StorePath is the store path the JSON's layer is made of.
const StorePath = "/nix/store/0n2c0n2c0n2c0n2c0n2c0n2c0n2c0n2c-app-1.0"

// jsonPath is where WriteInStore puts the JSON, itself a store path.
const jsonPath = "/nix/store/1j2s1j2s1j2s1j2s1j2s1j2s1j2s1j2s-image.json"

// OpenMismatched writes StorePath under a fresh store root and a JSON
// whose one layer records a diff_id the re-created layer does not have,
// and opens it (closed after the test).
func OpenMismatched(t testing.TB) *image.Image {
	t.Helper()
	root := t.TempDir()
	writeApp(t, root, "changed")
	sum := sha256.Sum256([]byte("the layer nix2container hashed"))
	src := filepath.Join(t.TempDir(), "image.json")
	writeJSON(t, src, "sha256:"+hex.EncodeToString(sum[:]))
	img, err := image.Open(context.Background(), src, image.Options{StoreRoot: root})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { img.Close() })
	return img
}

// WriteInStore writes, under the chroot store root, StorePath with an app
// that prints body, and a nix2container JSON (itself a store path) whose
// one layer is StorePath, recording the diff_id the re-created layer has
// in that store. It returns the JSON's path under root.
func WriteInStore(t testing.TB, root, body string) string {
	t.Helper()
	writeApp(t, root, body)
	src := filepath.Join(root, jsonPath)
	if err := os.MkdirAll(filepath.Dir(src), 0o755); err != nil {
		t.Fatal(err)
	}
	writeJSON(t, src, "sha256:"+strings.Repeat("0", 64))
	// Learn the re-created layer's diff_id: hash what the layer streams
	// (it fails at the end, against the placeholder).
	img, err := image.Open(context.Background(), src, image.Options{StoreRoot: root})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	io.Copy(h, rc)
	rc.Close()
	writeJSON(t, src, "sha256:"+hex.EncodeToString(h.Sum(nil)))
	return src
}

func writeApp(t testing.TB, root, body string) {
	t.Helper()
	dir := filepath.Join(root, StorePath, "bin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "app"), []byte("#!/bin/sh\necho "+body+"\n"), 0o555); err != nil {
		t.Fatal(err)
	}
}

// writeJSON writes nix2container's image JSON with one layer, StorePath,
// recording diffID.
func writeJSON(t testing.TB, src, diffID string) {
	t.Helper()
	data, err := json.Marshal(map[string]any{
		"version": 1, "arch": "amd64", "created": "1970-01-01T00:00:01Z",
		"image-config": map[string]any{"Entrypoint": []string{StorePath + "/bin/app"}},
		"layers": []any{map[string]any{
			"digest": diffID, "size": 10240, "diff_ids": diffID,
			"paths":     []any{map[string]any{"path": StorePath}},
			"mediatype": "application/vnd.oci.image.layer.v1.tar",
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
