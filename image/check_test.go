package image

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestArchiveLayersSelfVerify: layers of an archive reach CheckLayers as
// the verifying reader, so CheckLayers hashes each byte once, not twice;
// and a layer changed under its diff_id still fails.
func TestArchiveLayersSelfVerify(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, layer []byte, diffID string) string {
		cfg, _ := json.Marshal(map[string]any{"architecture": "amd64", "os": "linux",
			"rootfs": map[string]any{"type": "layers", "diff_ids": []string{diffID}}})
		manifest, _ := json.Marshal([]map[string]any{{"Config": "config.json", "Layers": []string{"layer.tar"}}})
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for _, m := range []struct {
			n string
			d []byte
		}{{"config.json", cfg}, {"layer.tar", layer}, {"manifest.json", manifest}} {
			tw.WriteHeader(&tar.Header{Name: m.n, Mode: 0o644, Size: int64(len(m.d)), Typeflag: tar.TypeReg})
			tw.Write(m.d)
		}
		tw.Close()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	layerOf := func(body string) []byte {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		tw.WriteHeader(&tar.Header{Name: "f", Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(body))
		tw.Close()
		return buf.Bytes()
	}
	good := layerOf("hello")
	sum := sha256.Sum256(good)
	diffID := "sha256:" + hex.EncodeToString(sum[:])
	for name, layer := range map[string][]byte{"good.tar": good, "bad.tar": layerOf("jello")} {
		img, err := Open(context.Background(), write(name, layer, diffID), Options{})
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
		if _, ok := rc.(*verifyingReader); !ok {
			t.Errorf("%s: layer reader is %T, not the verifying reader", name, rc)
		}
		rc.Close()
		err = CheckLayers(context.Background(), img, 0)
		if (err != nil) != (name == "bad.tar") {
			t.Errorf("%s: CheckLayers: %v", name, err)
		}
	}
}
