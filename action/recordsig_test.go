package action

import "testing"

// TestBuilderIdentity: the builder workflow's identity at any ref; owner
// and repository in any case (GitHub's are case-insensitive), the file's
// path exactly, nothing before or after.
func TestBuilderIdentity(t *testing.T) {
	re := builderIdentity("nixdock/nixdock-action/.github/workflows/nixdock-build.yml")
	for subject, want := range map[string]bool{
		"https://github.com/nixdock/nixdock-action/.github/workflows/nixdock-build.yml@refs/tags/v1":                             true,
		"https://github.com/NixDock/Nixdock-Action/.github/workflows/nixdock-build.yml@0123456789abcdef0123456789abcdef01234567": true,
		"https://github.com/nixdock/nixdock-action/.github/workflows/nixdock.yml@refs/tags/v1":                                   false,
		"https://github.com/nixdock/nixdock-action/.github/workflows/NIXDOCK-BUILD.yml@refs/tags/v1":                             false,
		"https://github.com/nixdock/nixdock-action/.github/workflows/nixdock-build.yml@":                                         false,
		"https://github.com/nixdock/nixdock-action/.github/workflows/nixdock-build.yml@v1 x":                                     false,
		"https://github.com/evil/nixdock-action/.github/workflows/nixdock-build.yml@refs/tags/v1":                                false,
		"https://example.com/nixdock/nixdock-action/.github/workflows/nixdock-build.yml@refs/tags/v1":                            false,
		"https://github.com/nixdock/nixdock-action/.github/workflows/nixdock-build.ymlx@refs/tags/v1":                            false,
	} {
		if got := re.MatchString(subject); got != want {
			t.Errorf("%s: match %v, want %v", subject, got, want)
		}
	}
}
