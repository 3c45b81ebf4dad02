package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/nixdock/nixdock-action/internal/nixtest"
)

func TestSBOMCommand(t *testing.T) {
	nixtest.Require(t)
	res := nixtest.Build(t, "", "hello.nix", "image")
	dir := t.TempDir()
	rec := filepath.Join(dir, "record.json")
	data, err := res.Record.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(rec, data, 0o644)
	summary := regexp.MustCompile(`(?m)^sbom: 2 components, 1 edges, (spdx-json|cyclonedx-json), \d+ bytes`)
	var first []byte
	for i, src := range []string{res.Image.Source, res.Image.Source, rec} {
		out := filepath.Join(dir, "sbom.json")
		code, _, stderr := runCLI(t, "sbom", src, "--format", "cyclonedx-json", "-o", out)
		if code != 0 || !summary.MatchString(stderr) {
			t.Fatalf("run %d: exit %d, stderr %q", i, code, stderr)
		}
		got, _ := os.ReadFile(out)
		switch i {
		case 0:
			first = got
		case 1:
			if !bytes.Equal(first, got) {
				t.Fatal("two runs on the same image gave different bytes")
			}
		}
	}
	code, stdout, _ := runCLI(t, "sbom", res.Image.Source, "--pretty")
	if code != 0 || !strings.Contains(stdout, "\n  \"spdxVersion\": \"SPDX-2.3\"") {
		t.Fatalf("--pretty spdx-json to stdout: exit %d, %.200q", code, stdout)
	}
	// The image purl: --name gives the repository (its last element
	// lower-cased is the purl name); a registry source names itself.
	dg := res.Record.Image.ManifestDigest
	code, stdout, _ = runCLI(t, "sbom", rec, "--name", "ghcr.io/me/Hello:v1")
	if want := `"referenceLocator":"pkg:oci/hello@` + dg + `?repository_url=ghcr.io%2Fme%2Fhello"`; code != 0 || !strings.Contains(stdout, want) {
		t.Errorf("--name: exit %d, no %s in %.300s", code, want, stdout)
	}
	if code, _, stderr := runCLI(t, "sbom", rec, "--name", "Not A Ref"); code != ExitFailure || !strings.Contains(stderr, `"Not A Ref"`) {
		t.Errorf("a bad --name: exit %d, %q", code, stderr)
	}
	// The SBOM's author and the image's supplier (default: the author).
	code, stdout, _ = runCLI(t, "sbom", rec, "--author", "Person: Jane Doe <jane@example.org>")
	if want := `"creators":["Tool: nixdock-`; code != 0 || !strings.Contains(stdout, want) ||
		!strings.Contains(stdout, `,"Person: Jane Doe (jane@example.org)"]`) || !strings.Contains(stdout, `"supplier":"Person: Jane Doe (jane@example.org)"`) {
		t.Errorf("--author: exit %d, no tool and person creators or supplier in %.600s", code, stdout)
	}
	code, stdout, _ = runCLI(t, "sbom", rec, "--format", "cyclonedx-json", "--author", "ACME", "--supplier", "Organization: Hello Ltd")
	if code != 0 || !strings.Contains(stdout, `"authors":[{"name":"ACME"}]`) || !strings.Contains(stdout, `"manufacturer":{"name":"ACME"}`) ||
		!strings.Contains(stdout, `"supplier":{"name":"Hello Ltd"}`) {
		t.Errorf("--author, --supplier: exit %d, no authors, manufacturer or supplier in %.800s", code, stdout)
	}
	host := memRegistry(t)
	if code, _, stderr := runCLI(t, "push", res.Image.Source, host+"/hello:1.0"); code != 0 {
		t.Fatalf("push: %s", stderr)
	}
	code, stdout, _ = runCLI(t, "sbom", host+"/hello:1.0", "--format", "cyclonedx-json")
	if want := `"purl":"pkg:oci/hello@sha256:`; code != 0 || !strings.Contains(stdout, want) || !strings.Contains(stdout, "?repository_url="+host+"%2Fhello\"") {
		t.Errorf("sbom REF:1.0: exit %d, no image purl with repository_url %s%%2Fhello in %.400s", code, host, stdout)
	}
}

func TestSBOMBadInput(t *testing.T) {
	dir := t.TempDir()
	notRecord := filepath.Join(dir, "other.json")
	os.WriteFile(notRecord, []byte(`{"schema": "something/else"}`), 0o644)
	garbage := filepath.Join(dir, "garbage.bin")
	os.WriteFile(garbage, []byte("not an image at all"), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"sbom", notRecord}, ExitFailure, "other.json"},
		{[]string{"sbom", garbage}, ExitFailure, "garbage.bin"},
		{[]string{"sbom", garbage, "--format", "xml"}, ExitUsage, "xml"},
		{[]string{"sbom"}, ExitUsage, "no SOURCE"},
		{[]string{"sbom", garbage, "--author", "Person: Ja(ne"}, ExitFailure, `--author "Person: Ja(ne"`},
		{[]string{"sbom", garbage, "--supplier", "ACME (not mail)"}, ExitFailure, `"not mail" is no e-mail address`},
	} {
		code, _, stderr := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) || strings.Count(stderr, "error:") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want exit %d naming %q in one error", tc.args, code, stderr, tc.code, tc.want)
		}
	}
}

// nixArgs are the CLI flags for nixtest's offline Nix options.
func nixArgs() []string {
	var args []string
	for _, o := range nixtest.Options {
		args = append(args, "--nix-option", o.Name+"="+o.Value)
	}
	return args
}

// TestSBOMEvalMeta: --eval-meta runs the embedded nix/sbom-meta.nix on the
// installable (in a chroot store, so --store must reach the evaluation) and
// the licenses and descriptions land in the SBOM in one command.
func TestSBOMEvalMeta(t *testing.T) {
	nixtest.Require(t)
	store := nixtest.NewStore(t)
	base := append([]string{"sbom", "-f", nixtest.File("hello.nix"), "-A", "image", "--store", store}, nixArgs()...)
	code, stdout, stderr := runCLI(t, append(base, "--eval-meta", "--format", "cyclonedx-json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var bom struct {
		Components []struct {
			Name        string `json:"name"`
			Description string `json:"description"`
			Licenses    []struct {
				Expression string `json:"expression"`
			} `json:"licenses"`
		} `json:"components"`
	}
	if err := json.Unmarshal([]byte(stdout), &bom); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range bom.Components {
		for _, l := range c.Licenses {
			got[c.Name] += l.Expression
		}
		if c.Name == "hello" && c.Description != "Prints a friendly greeting" {
			t.Errorf("hello's description %q", c.Description)
		}
	}
	if got["hello"] != "GPL-3.0-or-later" || got["greeting-data"] != "MIT" {
		t.Errorf("licenses %v, want hello GPL-3.0-or-later and greeting-data MIT", got)
	}
	code, stdout, _ = runCLI(t, append(base, "--eval-meta")...)
	if code != 0 || !strings.Contains(stdout, `"licenseDeclared":"GPL-3.0-or-later"`) {
		t.Errorf("spdx-json: exit %d, no licenseDeclared GPL-3.0-or-later", code)
	}
	// Without the flag there are no licenses; with a record it is a usage error.
	if code, stdout, _ = runCLI(t, base...); code != 0 || strings.Contains(stdout, "GPL-3.0") {
		t.Errorf("without --eval-meta: exit %d, licenses present", code)
	}
	if code, _, stderr = runCLI(t, "sbom", "some.tar", "--eval-meta"); code != ExitUsage || !strings.Contains(stderr, "needs an installable") {
		t.Errorf("--eval-meta on an image: exit %d, %q", code, stderr)
	}
	// A failing evaluation names the helper and the installable, exit 3.
	code, _, stderr = runCLI(t, append([]string{"sbom", "-f", nixtest.File("hello.nix"), "-A", "nosuchattr", "--eval-meta"}, nixArgs()...)...)
	if code != ExitFailure || strings.Count(stderr, "error:") < 1 {
		t.Errorf("missing attribute: exit %d, %q", code, stderr)
	}
}
