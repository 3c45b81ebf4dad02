package n2ctest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/nixdock/nixdock-action/image"
)

// StorePath is the store path the JSON's layer is made of.
const StorePath = "/nix/store/0n2c0n2c0n2c0n2c0n2c0n2c0n2c0n2c-app-1.0"

// OpenMismatched writes StorePath under a fresh store root and a JSON
// whose one layer records a diff_id the re-created layer does not have,
// and opens it (closed after the test).
func OpenMismatched(t testing.TB) *image.Image {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, StorePath, "bin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "app"), []byte("#!/bin/sh\necho changed\n"), 0o555); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("the layer nix2container hashed"))
	recorded := "sha256:" + hex.EncodeToString(sum[:])
	data, err := json.Marshal(map[string]any{
		"version": 1, "arch": "amd64", "created": "1970-01-01T00:00:01Z",
		"image-config": map[string]any{"Entrypoint": []string{StorePath + "/bin/app"}},
		"layers": []any{map[string]any{
			"digest": recorded, "size": 10240, "diff_ids": recorded,
			"paths":     []any{map[string]any{"path": StorePath}},
			"mediatype": "application/vnd.oci.image.layer.v1.tar",
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "image.json")
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	img, err := image.Open(context.Background(), src, image.Options{StoreRoot: root})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { img.Close() })
	return img
}
