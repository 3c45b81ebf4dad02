package sbom

import (
	"fmt"
	"path"

	"github.com/nixdock/nixdock-action/internal/storepath"
)

// hashLen is the length of a store path hash in characters.
const hashLen = storepath.HashLen

// SplitStorePath splits /nix/store/<hash>-<name> (or <hash>-<name>) into its
// hash and name, by storepath's rule.
func SplitStorePath(p string) (hash, name string, err error) {
	base := path.Base(p)
	if !storepath.IsBase(base) {
		return "", "", fmt.Errorf("%q is not a store path (<32-character Nix base-32 hash>-<name>)", p)
	}
	return base[:hashLen], base[hashLen+1:], nil
}

// ParseName splits a store path name into package name and version by
// Nix's own rule (DrvName in libexpr): the version starts after the first
// dash that is followed by a character other than a letter, as in
// "hello-2.12.1" or "python3.11-requests-2.31.0". Without such a dash the
// version is empty.
func ParseName(s string) (name, version string) {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '-' && !isLetter(s[i+1]) {
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
