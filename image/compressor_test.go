package image

import (
	"os"
	"strings"
	"testing"
)

// The library version the record names is the one go.mod builds with: a
// bump of klauspost/compress can change every compressed digest.
func TestCompressLibraryMatchesGoMod(t *testing.T) {
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	name, version, _ := strings.Cut(compressLibrary, "@")
	for _, line := range strings.Split(string(mod), "\n") {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "require "))
		if len(f) >= 2 && f[0] == name {
			if f[1] != version {
				t.Errorf("compressLibrary is %s, go.mod has %s %s", compressLibrary, name, f[1])
			}
			return
		}
	}
	t.Errorf("go.mod does not require %s", name)
}
