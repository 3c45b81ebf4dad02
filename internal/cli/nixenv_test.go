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
