package lint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLintSARIFArtifact: with a real Nix file as the artifact, results
// point at it relative to the repository, on the line naming the key.
func TestArtifact(t *testing.T) {
	repo := t.TempDir()
	os.Mkdir(filepath.Join(repo, ".git"), 0o755)
	os.MkdirAll(filepath.Join(repo, "nix"), 0o755)
	nixFile := filepath.Join(repo, "nix", "image.nix")
	os.WriteFile(nixFile, []byte("{\n  name = \"x\";\n  config.Environment = [ ];\n}\n"), 0o644)
	uri, text := Artifact(nixFile)
	if uri != "nix/image.nix" || !strings.Contains(text, "Environment") {
		t.Errorf("artifact %q, %d bytes of text", uri, len(text))
	}
	if uri, text := Artifact("flake.nix-missing"); uri != "flake.nix-missing" || text != "" {
		t.Errorf("a missing file: %q %q", uri, text)
	}
}
