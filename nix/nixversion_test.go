package nix

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeNix is a stand-in nix executable that records its argv (one call a
// line) and answers --version with version and path-info with one path. It
// tests how nixdock builds Nix's command line, not Nix.
func fakeNix(t *testing.T, version string) (bin, log string) {
	dir := t.TempDir()
	bin, log = filepath.Join(dir, "nix"), filepath.Join(dir, "argv")
	script := `#!/bin/sh
printf '%s\n' "$*" >> "$FAKE_LOG"
for a in "$@"; do
  if [ "$a" = --version ]; then echo "$FAKE_VERSION"; exit 0; fi
done
echo '{"/nix/store/00000000000000000000000000000000-x": {"narHash": "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "narSize": 1, "references": []}}'
`
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin, log
}

func TestPathInfoJSONFormat(t *testing.T) {
	for _, tc := range []struct {
		version string
		want    bool // --json-format 1 passed
		short   string
	}{
		{"nix (Nix) 2.8.0", false, "2.8.0"},
		{"nix (Nix) 2.18.1", false, "2.18.1"},
		{"nix (Nix) 2.33.0", true, "2.33.0"},
		{"nix (Nix) 2.34pre20251201_0123abc", true, "2.34pre20251201_0123abc"},
		{"nix (Nix) 3.0.0", true, "3.0.0"},
		{"nix (Determinate Nix 3.11.0) 2.32.1", false, "2.32.1"},
		{"nix (Determinate Nix 3.12.0) 2.33.0", true, "2.33.0"},
		{"nix (Lix, like Nix) 2.93.0", false, "2.93.0"},
	} {
		t.Run(tc.version, func(t *testing.T) {
			bin, log := fakeNix(t, tc.version)
			n := &Runner{Bin: bin, Env: []string{"FAKE_LOG=" + log, "FAKE_VERSION=" + tc.version}}
			ctx := context.Background()
			for range 2 {
				infos, err := n.PathInfo(ctx, true, "/nix/store/00000000000000000000000000000000-x")
				if err != nil || len(infos) != 1 {
					t.Fatalf("PathInfo: %v, %d infos", err, len(infos))
				}
			}
			if v, err := n.Version(ctx); err != nil || v != tc.short {
				t.Errorf("Version = %q, %v; want %q", v, err, tc.short)
			}
			data, err := os.ReadFile(log)
			if err != nil {
				t.Fatal(err)
			}
			calls := strings.Split(strings.TrimSpace(string(data)), "\n")
			versions, pathInfos := 0, 0
			for _, c := range calls {
				switch {
				case strings.Contains(c, "--version"):
					versions++
				case strings.HasPrefix(c, "path-info "):
					pathInfos++
					if got := strings.Contains(c, "--json --json-format 1 "); got != tc.want {
						t.Errorf("path-info argv %q: --json-format 1 passed = %v, want %v", c, got, tc.want)
					}
				}
			}
			if versions != 1 || pathInfos != 2 {
				t.Errorf("calls %q: want nix --version once and path-info twice", calls)
			}
		})
	}
}
