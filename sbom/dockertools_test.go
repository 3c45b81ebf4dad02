package sbom

import (
	"context"
	"encoding/hex"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/internal/dockertools"
	"github.com/nixdock/nixdock-action/internal/nixtest"
)

// The README's row for odd-A/odd-B (hard links, unicode, space and quote
// names, a path over 100 characters, an empty directory, an absolute
// symlink into the store, a 10,000-file package, setuid, setgid and sticky
// bits): the SBOM's NAR hash of every store path is the one Nix computes
// (nix-hash, on the layers unpacked by GNU tar).
func TestDockerToolsOddNARHashes(t *testing.T) {
	nixtest.Require(t)
	img, err := image.Open(context.Background(), dockertools.Path(t, "odd-A"), image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	doc, err := FromImage(context.Background(), img, Options{})
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("tar", "-x", "-C", root)
		cmd.Stdin = rc
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("unpacking layer %d: %v\n%s", i, err, out)
		}
		rc.Close()
	}
	if len(doc.Components) < 3 {
		t.Fatalf("%d components, want the odd packages", len(doc.Components))
	}
	for _, c := range doc.Components {
		out, err := exec.Command("nix-hash", "--type", "sha256", filepath.Join(root, c.Path)).Output()
		if err != nil {
			t.Fatalf("nix-hash %s: %v", c.Path, err)
		}
		want := "sha256:" + strings.TrimSpace(string(out))
		if _, err := hex.DecodeString(strings.TrimPrefix(want, "sha256:")); err != nil || c.NarHash != want {
			t.Errorf("%s: SBOM NAR hash %s, Nix says %s", c.Path, c.NarHash, want)
		}
	}
}
