package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// diff --help names every image form the README lists.
func TestDiffHelpListsEveryInputForm(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, out, _ := runCLI(t, "diff", "--help")
	help := strings.Join(strings.Fields(out), " ")
	for _, form := range []string{".tar", ".tar.gz", ".tar.zst", "streamLayeredImage", "nix2container", "buildImage", "OCI layout", "registry reference"} {
		if !strings.Contains(string(readme), form) {
			t.Errorf("README does not list %q any more: update this test", form)
		}
		if !strings.Contains(help, form) {
			t.Errorf("diff --help does not list %q:\n%s", form, out)
		}
	}
}
