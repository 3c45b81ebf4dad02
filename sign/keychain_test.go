package sign

import (
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

func resolve(t *testing.T, kc authn.Keychain, reg string) *authn.AuthConfig {
	t.Helper()
	r, err := name.NewRegistry(reg)
	if err != nil {
		t.Fatal(err)
	}
	a, err := kc.Resolve(r)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := a.Authorization()
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestRegistryKeychain: credentials are values; the GitHub token is for
// ghcr.io only and given credentials for their registry only.
func TestRegistryKeychain(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no docker login on this machine
	t.Setenv("GITHUB_TOKEN", "from-the-environment")
	r := Registry{GitHubToken: "ghs_value", GitHubActor: "octo"}
	if c := resolve(t, r.Keychain(), "ghcr.io"); c.Username != "octo" || c.Password != "ghs_value" {
		t.Errorf("ghcr.io: %+v, want the token value", c)
	}
	if c := resolve(t, r.Keychain(), "registry.example"); c.Password != "" {
		t.Errorf("the GitHub token went to another registry: %+v", c)
	}
	if c := resolve(t, Registry{}.Keychain(), "ghcr.io"); c.Password != "" {
		t.Errorf("a token was read from the environment: %+v", c)
	}
	r.Auth, r.AuthRegistry = &authn.Basic{Username: "me", Password: "pw"}, "registry.example"
	if c := resolve(t, r.Keychain(), "registry.example"); c.Username != "me" || c.Password != "pw" {
		t.Errorf("registry.example: %+v, want the given credentials", c)
	}
	if c := resolve(t, r.Keychain(), "other.example"); c.Password != "" {
		t.Errorf("the given password went to another registry: %+v", c)
	}
	if c := resolve(t, r.Keychain(), "ghcr.io"); c.Password != "ghs_value" {
		t.Errorf("ghcr.io next to given credentials: %+v", c)
	}
}
