package nix_test

import (
	"testing"

	"github.com/nixdock/nixdock-action/nix"
)

// The parsers read what Nix printed: any bytes
// must give a value or an error, never a panic.

func FuzzParsePathInfo(f *testing.F) {
	for _, name := range []string{"path-info-2.8.json", "path-info-2.19.json", "path-info-2.33-v2.json", "path-info-invalid.json"} {
		f.Add(fixture(f, name))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		infos, err := nix.ParsePathInfo(data)
		if err != nil {
			return
		}
		for i := 1; i < len(infos); i++ {
			if infos[i-1].Path > infos[i].Path {
				t.Fatalf("paths not sorted: %s before %s", infos[i-1].Path, infos[i].Path)
			}
		}
	})
}

func FuzzParseDerivations(f *testing.F) {
	for _, name := range []string{"show-derivation-2.8.json", "derivation-show-2.18.json", "derivation-show-2.32.json", "derivation-show-2.34.json"} {
		f.Add(fixture(f, name))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = nix.ParseDerivations(data)
	})
}
