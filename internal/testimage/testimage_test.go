package testimage

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestArchive: layers are deterministic, and an archive holds its layers
// under the names its manifest lists, with the diff_ids its config claims.
func TestArchive(t *testing.T) {
	l1 := Layer(t, Dir("/nix/store/x"), File("/nix/store/x/a", "a\n"))
	if !bytes.Equal(l1, Layer(t, Dir("/nix/store/x"), File("/nix/store/x/a", "a\n"))) {
		t.Fatal("Layer is not deterministic")
	}
	l2 := Layer(t, File("b", "b\n"))
	p := Archive{Layers: [][]byte{l1, l2}, DiffIDs: []string{DiffID(l1), "sha256:claimed"}}.Write(t, filepath.Join(t.TempDir(), "a.tar"))
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	members := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		members[h.Name], _ = io.ReadAll(tr)
	}
	var manifest []struct {
		Config string
		Layers []string
	}
	if err := json.Unmarshal(members["manifest.json"], &manifest); err != nil || len(manifest) != 1 || len(manifest[0].Layers) != 2 {
		t.Fatalf("manifest %s: %v", members["manifest.json"], err)
	}
	if !bytes.Equal(members[manifest[0].Layers[0]], l1) || !bytes.Equal(members[manifest[0].Layers[1]], l2) {
		t.Errorf("layers not stored under the manifest's names: %v", manifest[0].Layers)
	}
	var cfg struct {
		RootFS struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
	}
	if err := json.Unmarshal(members[manifest[0].Config], &cfg); err != nil || len(cfg.RootFS.DiffIDs) != 2 ||
		cfg.RootFS.DiffIDs[0] != DiffID(l1) || cfg.RootFS.DiffIDs[1] != "sha256:claimed" {
		t.Errorf("config diff_ids %v (%v)", cfg.RootFS.DiffIDs, err)
	}
}
