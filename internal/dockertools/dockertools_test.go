package dockertools

import (
	"os"
	"testing"
)

// Every fixture of the README's table is present and its bytes are the
// originals' (Path checks SHA256SUMS).
func TestEveryFixtureIsTheOriginal(t *testing.T) {
	for _, name := range Names {
		t.Run(name, func(t *testing.T) {
			fi, err := os.Stat(Path(t, name))
			if err != nil || fi.Size() == 0 {
				t.Fatalf("fixture %s: %v", name, err)
			}
		})
	}
}
