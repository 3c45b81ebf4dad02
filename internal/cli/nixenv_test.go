package cli

import (
	"strings"
	"testing"
)

// TestNixEnvFlag: every command that runs Nix takes --nix-env, and a value
// that is not a variable name is a usage error naming the flag.
func TestNixEnvFlag(t *testing.T) {
	for _, cmd := range []string{"build", "reproduce", "sbom"} {
		code, _, errs := runCLI(t, cmd, "-f", "x.nix", "-A", "image", "--nix-env", "A=B")
		if code != ExitUsage || !strings.Contains(errs, "--nix-env") {
			t.Errorf("%s --nix-env A=B: exit %d, %q", cmd, code, errs)
		}
	}
}

// TestMinBuildersAtLeastOne: a policy of zero or fewer builders would call
// an image nobody reproduced "reproducible"; it is a usage error.
func TestMinBuildersAtLeastOne(t *testing.T) {
	for _, n := range []string{"0", "-5"} {
		for _, args := range [][]string{
			{"sign", "localhost:5000/x@sha256:" + strings.Repeat("a", 64), "--key", "k.key", "--min-builders", n},
			{"verify-signature", "localhost:5000/x@sha256:" + strings.Repeat("a", 64), "--key", "k.pub", "--min-builders", n},
		} {
			code, _, errs := runCLI(t, args...)
			if code != ExitUsage || !strings.Contains(errs, "--min-builders "+n) {
				t.Errorf("%s: exit %d, %q; want a usage error", strings.Join(args, " "), code, errs)
			}
		}
	}
}
