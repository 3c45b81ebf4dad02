package nix

import (
	"os"
	"strings"
	"testing"
)

// TestEmbedded: the binary carries the file as it is in the repository.
func TestEmbedded(t *testing.T) {
	data, err := os.ReadFile("sbom-meta.nix")
	if err != nil {
		t.Fatal(err)
	}
	if SBOMMeta != string(data) || !strings.Contains(SBOMMeta, "genericClosure") {
		t.Fatal("embedded sbom-meta.nix differs from the file")
	}
	if a := SBOMMetaApply(); !strings.HasPrefix(a, "d: (") || !strings.HasSuffix(a, ") { drv = d; }") {
		t.Fatalf("apply expression: %.60q", a)
	}
}
