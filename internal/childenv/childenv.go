package childenv

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
)

// secretPrefixes and secretSuffixes match (upper-cased) variable names
// that hold credentials or hand them out.
var (
	secretPrefixes = []string{
		"INPUT_",                      // GitHub Action inputs: github-token, cosign-password
		"ACTIONS_ID_TOKEN_REQUEST_",   // the OIDC token's URL and bearer token
		"ACTIONS_RUNTIME_",            // the runner's artifact and cache token
		"ACTIONS_CACHE_",              // and URLs
		"ACTIONS_RESULTS_",            //
		"COSIGN_",                     // COSIGN_PASSWORD, COSIGN_KEY, ...
		"SIGSTORE_",                   // SIGSTORE_ID_TOKEN
		"AWS_SECRET_", "AWS_SESSION_", // cloud credentials
	}
	secretSuffixes = []string{"_TOKEN", "_PASSWORD", "_PASSPHRASE", "_SECRET", "_API_KEY", "_PRIVATE_KEY", "_CREDENTIALS"}
)

// Secret reports whether the variable name looks like a credential.
func Secret(name string) bool {
	n := strings.ToUpper(name)
	for _, p := range secretPrefixes {
		if strings.HasPrefix(n, p) {
			return true
		}
	}
	for _, s := range secretSuffixes {
		if strings.HasSuffix(n, s) {
			return true
		}
	}
	return n == "GITHUB_TOKEN" || n == "GH_TOKEN" || n == "TOKEN" || n == "PASSWORD"
}

// Scrub returns env (NAME=VALUE entries) without the secret ones, except
// those named in keep.
func Scrub(env, keep []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if Secret(name) && !slices.Contains(keep, name) {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// Environ is this process's environment, scrubbed (see Scrub).
func Environ(keep []string) []string { return Scrub(os.Environ(), keep) }

var nameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)

// CheckName checks that name can be a variable name to keep.
func CheckName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("%q is not an environment variable name", name)
	}
	return nil
}
