package action

import (
	"strings"
	"testing"
)

var culprits = []Culprit{
	{StorePath: "/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-random-1.0", DrvPath: "/nix/store/dddddddddddddddddddddddddddddddd-random-1.0.drv",
		Files: []string{"/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-random-1.0/share/r"}, Causes: []string{"random"},
		Hint: "nix build --rebuild /nix/store/dddddddddddddddddddddddddddddddd-random-1.0.drv"},
	{StorePath: "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-date-1.0", Files: []string{"/a", "/b|c"}, Causes: []string{"timestamp"}},
}

func TestSummaryMarkdown(t *testing.T) {
	s := Summary{
		Mode: ModeVerify, Verdict: VerdictUnreproducible, Installable: "-f nix/x.nix -A image",
		Builders: []Builder{{ID: "runner a", DrvPath: "/nix/store/x-image.drv", ManifestDigest: "sha256:0123456789abcdef0123", Layers: 3, Closure: 4}},
		Culprits: culprits, Details: "# Report\n",
	}
	md := s.Markdown()
	for _, want := range []string{
		"## ❌ nixdock verify: not reproducible\n",
		"Image: `-f nix/x.nix -A image`",
		"| runner a | `sha256:0123456789ab…` |",
		"### Culprits",
		"| `/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-date-1.0` | timestamp | `/a`, `/b\\|c` |  |",
		"`nix build --rebuild /nix/store/dddddddddddddddddddddddddddddddd-random-1.0.drv`",
		"<details><summary>Full report</summary>\n\n# Report\n</details>",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
	// Sorted by store path: date before random.
	if strings.Index(md, "-date-1.0") > strings.Index(md, "-random-1.0") {
		t.Errorf("culprits not sorted:\n%s", md)
	}
	if md != s.Markdown() {
		t.Error("Markdown is not deterministic")
	}
}

func TestSummaryPublished(t *testing.T) {
	s := Summary{Mode: ModePublish, Verdict: VerdictPublished, Image: "ghcr.io/o/r@sha256:ab",
		VerifyCommand: CosignVerifyCommand("ghcr.io/o/r@sha256:ab", "", "o/r", "")}
	md := s.Markdown()
	for _, want := range []string{"🚀 nixdock publish: published", "Published `ghcr.io/o/r@sha256:ab`",
		"```sh\ncosign verify \\\n  --certificate-identity-regexp '^https://github\\.com/' \\\n  --certificate-oidc-issuer https://token.actions.githubusercontent.com",
		"--certificate-github-workflow-repository o/r", "'^https://github\\.com/'"} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
}

// TestCosignVerifyCommandSigner: with the signing workflow known, the
// command pins it exactly; anything that is not a workflow ref is ignored.
func TestCosignVerifyCommandSigner(t *testing.T) {
	got := CosignVerifyCommand("ghcr.io/o/r@sha256:ab", "", "o/r", "nixdock/nixdock-action/.github/workflows/nixdock.yml@refs/tags/v1")
	want := "cosign verify \\\n" +
		"  --certificate-identity https://github.com/nixdock/nixdock-action/.github/workflows/nixdock.yml@refs/tags/v1 \\\n" +
		"  --certificate-oidc-issuer https://token.actions.githubusercontent.com \\\n" +
		"  --certificate-github-workflow-repository o/r \\\n" +
		"  ghcr.io/o/r@sha256:ab"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	for _, bad := range []string{"o/r/.github/workflows/x.yml@v1; rm -rf /", "o/r@v1", "o/r/.github/workflows/x.yml@refs/tags/v1\n::error::x"} {
		if got := CosignVerifyCommand("r@sha256:ab", "", "", bad); strings.Contains(got, "--certificate-identity ") {
			t.Errorf("signer %q: %s", bad, got)
		}
	}
}

func TestCosignVerifyCommandWithKey(t *testing.T) {
	if got := CosignVerifyCommand("r/i@sha256:ab", "/tmp/cosign.key", "", ""); got != "cosign verify --key cosign.pub --insecure-ignore-tlog r/i@sha256:ab" {
		t.Errorf("got %q", got)
	}
}

func TestCulpritAnnotations(t *testing.T) {
	as := CulpritAnnotations(culprits, "nix/x.nix")
	if len(as) != 2 {
		t.Fatalf("%d annotations", len(as))
	}
	a := as[1]
	if a.File != "nix/x.nix" || a.Title != "Unreproducible: random-1.0" {
		t.Errorf("annotation %+v", a)
	}
	for _, want := range []string{"-random-1.0 is not reproducible (likely cause: random)", "differing files: /nix/store/", "derivation /nix/store/dddd", "confirm with: nix build --rebuild"} {
		if !strings.Contains(a.Message, want) {
			t.Errorf("message %q lacks %q", a.Message, want)
		}
	}
	if as[0].Title != "Unreproducible: date-1.0" {
		t.Errorf("first annotation %+v", as[0])
	}
}

// TestSummaryLint: the lint result gets its own section before the
// collapsed report, with its headings demoted.
func TestSummaryLint(t *testing.T) {
	s := Summary{Mode: ModeBuild, Verdict: VerdictBuilt, Details: "# Report\n",
		Lint: "### nixdock lint: `x`\n\n1 warning.\n\n| Severity | Rule |\n| --- | --- |\n| ⚠️ warning | `config-env` |\n"}
	md := s.Markdown()
	i, j := strings.Index(md, "### Lint\n\n**nixdock lint: `x`**\n\n1 warning."), strings.Index(md, "<details><summary>Full report")
	if i < 0 || j < i || !strings.Contains(md, "| ⚠️ warning | `config-env` |") || strings.Contains(md, "### nixdock lint") {
		t.Errorf("lint section missing or misplaced:\n%s", md)
	}
	if strings.Contains((&Summary{Mode: ModeBuild, Verdict: VerdictBuilt}).Markdown(), "### Lint") {
		t.Error("a Lint section without a lint result")
	}
}

// TestNixdockVerifyCommand: the nixdock check names the key or the exact
// signer, the builder workflow's identity (the regexp the Action checked
// records with) and the policy; keyless by an unknown signer, none.
func TestNixdockVerifyCommand(t *testing.T) {
	const builder = "nixdock/nixdock-action/.github/workflows/nixdock-build.yml@0123456789abcdef0123456789abcdef01234567"
	got := NixdockVerifyCommand("ghcr.io/o/r@sha256:ab", "", "nixdock/nixdock-action/.github/workflows/nixdock.yml@refs/tags/v1", builder, 2)
	want := "nixdock verify-signature ghcr.io/o/r@sha256:ab \\\n" +
		"  --certificate-identity https://github.com/nixdock/nixdock-action/.github/workflows/nixdock.yml@refs/tags/v1 \\\n" +
		"  --certificate-oidc-issuer https://token.actions.githubusercontent.com \\\n" +
		`  --builder-identity-regexp '^https://github\.com/(?i:nixdock/nixdock-action)/\.github/workflows/nixdock-build\.yml@\S+$' \` + "\n" +
		"  --min-builders 2"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got := NixdockVerifyCommand("r@sha256:ab", "/tmp/k/release.key", "", "", 1); got != "nixdock verify-signature r@sha256:ab \\\n  --key release.pub --insecure-ignore-tlog \\\n  --min-builders 1" {
		t.Errorf("with a key: %q", got)
	}
	if got := NixdockVerifyCommand("r@sha256:ab", "", "", builder, 2); got != "" {
		t.Errorf("keyless, signer unknown: %q", got)
	}
}
