package action

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestParseInputsDefaults(t *testing.T) {
	in, err := ParseInputs(env(map[string]string{"INPUT_INSTALLABLE": ".#image"}))
	if err != nil {
		t.Fatal(err)
	}
	if in.Mode != ModeReproduce || in.Compression != "gzip" || in.SBOMFormat != "spdx-json" || in.MinBuilders != 2 ||
		!in.Keyless || in.AllowUnverified || !in.UploadImage || in.ArtifactName != "nixdock" || in.LintFail {
		t.Errorf("defaults not applied: %+v", in)
	}
}

func TestParseInputsDashedNames(t *testing.T) {
	// The names action.yml's env: uses, with dashes kept.
	in, err := ParseInputs(env(map[string]string{
		"INPUT_MODE":             "build",
		"INPUT_FILE":             "default.nix",
		"INPUT_ATTR":             "image",
		"INPUT_ARGSTR":           "greeting=hi there\n",
		"INPUT_NIX-OPTIONS":      "substituters=\n# a comment\n\n  sandbox-paths=/bin /usr  \n",
		"INPUT_MIN-BUILDERS":     "3",
		"INPUT_ALLOW-UNVERIFIED": "TRUE",
		"INPUT_UPLOAD-IMAGE":     "false",
		"INPUT_COSIGN-PASSWORD":  "  pw with spaces ",
		"INPUT_GITHUB-TOKEN":     "ghs_x\n",
		"INPUT_LINT-FAIL":        "true",
		"INPUT_NIX-ENV":          "NPM_TOKEN\n# why\n  CACHIX_AUTH_TOKEN \n",
		"INPUT_SBOM-AUTHOR":      "Person: Ann Example (ann@example.com)",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(in.NixOptions, "|"); got != "substituters=|sandbox-paths=/bin /usr" {
		t.Errorf("nix-options = %q", got)
	}
	if got := strings.Join(in.NixEnv, "|"); got != "NPM_TOKEN|CACHIX_AUTH_TOKEN" {
		t.Errorf("nix-env = %q", got)
	}
	if got := strings.Join(in.ArgStr, "|"); got != "greeting=hi there" {
		t.Errorf("argstr = %q", got)
	}
	if a := in.SBOMAuthor; a == nil || a.Type != "Person" || a.Name != "Ann Example" || a.Email != "ann@example.com" {
		t.Errorf("sbom-author = %+v", a)
	}
	if in.MinBuilders != 3 || !in.AllowUnverified || in.UploadImage || !in.LintFail {
		t.Errorf("parsed %+v", in)
	}
	// A password is taken as given: spaces may be part of it.
	if in.CosignPassword != "  pw with spaces " || in.GitHubToken != "ghs_x" {
		t.Errorf("secrets %q %q", in.CosignPassword, in.GitHubToken)
	}
	if got := in.Secrets(); len(got) != 2 {
		t.Errorf("Secrets() = %d values", len(got))
	}
}

func TestParseInputsErrorsNameTheInput(t *testing.T) {
	cases := []struct {
		env   map[string]string
		input string
		want  string
	}{
		{map[string]string{"INPUT_MODE": "deploy"}, InputMode, "not a mode"},
		{map[string]string{"INPUT_MODE": "build"}, InputInstallable, "give installable"},
		{map[string]string{"INPUT_MODE": "build", "INPUT_INSTALLABLE": "."}, InputInstallable, "no attribute"},
		{map[string]string{"INPUT_MODE": "build", "INPUT_INSTALLABLE": ".#a", "INPUT_FILE": "x.nix"}, InputInstallable, "not both"},
		{map[string]string{"INPUT_MODE": "build", "INPUT_INSTALLABLE": ".#a", "INPUT_ATTR": "image"}, InputAttr, "file only"},
		{map[string]string{"INPUT_MODE": "build", "INPUT_INSTALLABLE": ".#a", "INPUT_ARGSTR": "a=b"}, InputArgStr, "file only"},
		{map[string]string{"INPUT_MODE": "verify", "INPUT_NIX-OPTIONS": "substituters"}, InputNixOptions, "line 1"},
		{map[string]string{"INPUT_MODE": "verify", "INPUT_NIX-OPTIONS": "a=b\nbad name=x"}, InputNixOptions, "line 2"},
		{map[string]string{"INPUT_MODE": "build", "INPUT_NIX-ENV": "OK\nA=B"}, InputNixEnv, "line 2"},
		{map[string]string{"INPUT_MODE": "verify", "INPUT_MIN-BUILDERS": "two"}, InputMinBuilders, "whole number"},
		{map[string]string{"INPUT_MODE": "verify", "INPUT_MIN-BUILDERS": "0"}, InputMinBuilders, "whole number"},
		{map[string]string{"INPUT_MODE": "verify", "INPUT_KEYLESS": "yes"}, InputKeyless, "not a boolean"},
		{map[string]string{"INPUT_MODE": "verify", "INPUT_ALLOW-UNVERIFIED": "1"}, InputAllowUnverified, "not a boolean"},
		{map[string]string{"INPUT_MODE": "verify", "INPUT_COMPRESSION": "bzip2"}, InputCompression, "gzip, zstd, none"},
		{map[string]string{"INPUT_MODE": "verify", "INPUT_SBOM-FORMAT": "syft"}, InputSBOMFormat, "spdx"},
		{map[string]string{"INPUT_MODE": "verify", "INPUT_ARTIFACT-NAME": "a/b"}, InputArtifactName, "letters"},
		{map[string]string{"INPUT_MODE": "verify", "INPUT_SBOM-AUTHOR": "Person: Ann (not-an-address)"}, InputSBOMAuthor, "no e-mail address"},
		{map[string]string{"INPUT_MODE": "reproduce", "INPUT_INSTALLABLE": ".#a", "INPUT_STORE": "/tmp/s"}, InputStore, "two fresh stores"},
		{map[string]string{"INPUT_MODE": "publish"}, InputImage, "repository to push to"},
		{map[string]string{"INPUT_MODE": "publish", "INPUT_IMAGE": "ghcr.io/a/b", "INPUT_KEYLESS": "false"}, InputKey, "cosign key"},
	}
	for _, c := range cases {
		_, err := ParseInputs(env(c.env))
		var ie *InputError
		if !errors.As(err, &ie) {
			t.Errorf("%v: error %v, want an InputError", c.env, err)
			continue
		}
		if ie.Input != c.input || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "input "+c.input+": ") {
			t.Errorf("%v: error %q, want input %s and %q", c.env, err, c.input, c.want)
		}
	}
}

func TestSecretsNeverInErrors(t *testing.T) {
	_, err := ParseInputs(env(map[string]string{
		"INPUT_MODE": "nope", "INPUT_COSIGN-PASSWORD": "hunter2", "INPUT_GITHUB-TOKEN": "ghs_secret",
	}))
	if err == nil || strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "ghs_secret") {
		t.Errorf("error %v", err)
	}
}

func TestEnvName(t *testing.T) {
	for in, want := range map[string]string{"mode": "INPUT_MODE", "nix-options": "INPUT_NIX-OPTIONS", "a b": "INPUT_A_B"} {
		if got := EnvName(in); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestManifestFile(t *testing.T) {
	cases := []struct {
		in   Inputs
		ws   string
		want string
	}{
		{Inputs{File: "nix/image.nix"}, "/w", "nix/image.nix"},
		{Inputs{File: "/w/sub/default.nix"}, "/w", "sub/default.nix"},
		{Inputs{File: "default.nix", WorkingDirectory: "app"}, "/w", "app/default.nix"},
		{Inputs{Installable: ".#image"}, "/w", "flake.nix"},
		{Inputs{Installable: "./examples/flake#image"}, "/w", "examples/flake/flake.nix"},
		{Inputs{Installable: "path:./x#image"}, "/w", "x/flake.nix"},
		{Inputs{Installable: "github:o/r#image"}, "/w", ""},
	}
	for _, c := range cases {
		if got := c.in.ManifestFile(c.ws); got != c.want {
			t.Errorf("%+v: ManifestFile = %q, want %q", c.in, got, c.want)
		}
	}
}

// FuzzParseInputs checks that no input value makes parsing panic, and that
// accepted pair lists hold only NAME=VALUE lines.
func FuzzParseInputs(f *testing.F) {
	f.Add("build", ".#image", "substituters=\nsandbox=true", "2", "true")
	f.Add("verify", "", "a", "x", "maybe")
	f.Add("publish", "x#y", "#c\n\n=v", "100", "False")
	f.Fuzz(func(t *testing.T, mode, inst, opts, min, b string) {
		in, err := ParseInputs(env(map[string]string{
			"INPUT_MODE": mode, "INPUT_INSTALLABLE": inst, "INPUT_NIX-OPTIONS": opts,
			"INPUT_MIN-BUILDERS": min, "INPUT_KEYLESS": b, "INPUT_IMAGE": "r/i",
		}))
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error %v is not an InputError", err)
			}
			return
		}
		for _, o := range in.NixOptions {
			if k, _, ok := strings.Cut(o, "="); !ok || k == "" || strings.Contains(o, "\n") {
				t.Fatalf("accepted %q", o)
			}
		}
		if in.MinBuilders < 1 {
			t.Fatalf("min-builders %d", in.MinBuilders)
		}
	})
}

// TestRepositoryOwner: the SBOM's default author is the repository's
// owner, a person when the event says its owner is a user.
func TestRepositoryOwner(t *testing.T) {
	dir := t.TempDir()
	user := filepath.Join(dir, "user.json")
	if err := os.WriteFile(user, []byte(`{"repository":{"owner":{"login":"octocat","type":"User"}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{}, ""},
		{map[string]string{"GITHUB_REPOSITORY_OWNER": "octo-org"}, "Organization: octo-org"},
		{map[string]string{"GITHUB_REPOSITORY_OWNER": "octocat", "GITHUB_EVENT_PATH": user}, "Person: octocat"},
		{map[string]string{"GITHUB_REPOSITORY_OWNER": "someone-else", "GITHUB_EVENT_PATH": user}, "Organization: someone-else"},
	} {
		got := ""
		if p := repositoryOwner(env(c.env)); p != nil {
			got = p.Type + ": " + p.Name
		}
		if got != c.want {
			t.Errorf("%v: author %q, want %q", c.env, got, c.want)
		}
	}
}
