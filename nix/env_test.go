package nix_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/nixdock/nixdock-action/internal/nixtest"
	"github.com/nixdock/nixdock-action/record"
)

// TestNixGetsNoSecrets evaluates builtins.getEnv with real Nix (the classic
// form is impure) while the Action's secrets are set: Nix sees none of
// them, sees ordinary variables, and sees a secret-looking one only when it
// is named in PassEnv (--nix-env).
func TestNixGetsNoSecrets(t *testing.T) {
	nixtest.Require(t)
	secrets := map[string]string{
		"INPUT_GITHUB-TOKEN": "ghs_secret", "INPUT_COSIGN-PASSWORD": "pw", "GITHUB_TOKEN": "ghs_2",
		"COSIGN_PASSWORD": "pw2", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "oidc", "ACTIONS_ID_TOKEN_REQUEST_URL": "https://x",
		"NPM_TOKEN": "npm",
	}
	for k, v := range secrets {
		t.Setenv(k, v)
	}
	t.Setenv("NIXDOCK_TEST_PLAIN", "plain")
	inst := record.Installable{File: nixtest.File("getenv.nix"), Attr: "env"}
	eval := func(pass []string) map[string]string {
		n := nixtest.Nix(t, "")
		n.PassEnv = pass
		out, err := n.EvalInstallable(context.Background(), inst)
		if err != nil {
			t.Fatal(err)
		}
		var env map[string]string
		if err := json.Unmarshal(out, &env); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return env
	}
	env := eval(nil)
	for k := range secrets {
		if env[k] != "" {
			t.Errorf("Nix read %s = %q", k, env[k])
		}
	}
	if env["NIXDOCK_TEST_PLAIN"] != "plain" {
		t.Errorf("Nix did not see an ordinary variable: %q", env)
	}
	env = eval([]string{"NPM_TOKEN"})
	if env["NPM_TOKEN"] != "npm" || env["INPUT_GITHUB-TOKEN"] != "" {
		t.Errorf("with PassEnv NPM_TOKEN, Nix read %q", env)
	}
}
