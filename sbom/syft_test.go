package sbom

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nixdock/nixdock-action/internal/nixtest"
)

// TestSyftConvertKeepsPURLs: `syft convert` (the version scripts/setup
// installs) turns nixdock's SPDX 2.3 and CycloneDX 1.6 SBOMs of the
// example image into SPDX, CycloneDX and syft's own JSON, and every
// output still holds the image purl (the attestation's subject, equal to
// ImagePURL) and every component's main purl: the upstream one where meta
// names it, else the store path's pkg:nix purl. syft rewrites some purls
// (it percent-encodes the ':' of a version or a repository_url), so they
// are compared in canonical form.
func TestSyftConvertKeepsPURLs(t *testing.T) {
	syft := nixtest.RequireTool(t, "syft")
	res := nixtest.Build(t, "", "example.nix", "image")
	meta := exampleMeta(t)
	const upstream = "pkg:github/nixdock/example-hello@1.0"
	found := false
	for drv, e := range meta {
		if e.PName == "hello" {
			// The example's hello has no upstream; a second purl stays a
			// property (CycloneDX) or a further reference (SPDX).
			e.PURLs = []string{upstream, "pkg:generic/example-hello@1.0"}
			meta[drv] = e
			found = true
		}
	}
	if !found {
		t.Fatal("the example's meta has no hello")
	}
	const ref = "127.0.0.1:5055/demo/Hello:v1"
	d, err := FromRecord(res.Record, Options{Image: res.Image, Name: ref, Meta: meta, BuildTime: true})
	if err != nil {
		t.Fatal(err)
	}
	imagePURL, err := ImagePURL(ref, res.Record.Image.ManifestDigest)
	if err != nil || imagePURL != d.Subject.purl() || !strings.Contains(imagePURL, "repository_url=") {
		t.Fatalf("image purl %s (%v), SBOM says %s", imagePURL, err, d.Subject.purl())
	}
	want := []string{imagePURL}
	for _, c := range d.Components {
		want = append(want, c.PURL)
	}
	if componentNamed(t, d, "hello").PURL != upstream {
		t.Fatalf("hello's main purl %s, want the upstream %s", componentNamed(t, d, "hello").PURL, upstream)
	}
	dir := t.TempDir()
	for _, in := range []Format{SPDXJSON, CycloneDXJSON} {
		src := filepath.Join(dir, "in."+string(in)+".json")
		if err := os.WriteFile(src, encode(t, d, in, false), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, out := range []string{"spdx-json", "cyclonedx-json", "syft-json"} {
			dst := filepath.Join(dir, string(in)+".to."+out+".json")
			cmd := exec.Command(syft, "convert", "-q", src, "-o", out+"="+dst)
			cmd.Env = append(os.Environ(), "SYFT_CHECK_FOR_APP_UPDATE=false", "HOME="+dir)
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("syft convert %s -o %s: %v\n%s", in, out, err, b)
			}
			data, err := os.ReadFile(dst)
			if err != nil {
				t.Fatal(err)
			}
			got := purlsIn(t, out, data)
			for _, w := range want {
				if !got[w] {
					t.Errorf("%s -> %s: %s is lost; the output has %v", in, out, w, sortedKeys(got))
				}
			}
		}
	}
}

// exampleMeta runs nix/sbom-meta.nix on the example image.
func exampleMeta(t *testing.T) Meta { return evalMetaOf(t, "example.nix") }

// purlsIn collects the package purls of a syft convert output, in
// canonical form: SPDX packages' purl references, CycloneDX components'
// purl (metadata.component and nested ones too), syft JSON artifacts'
// purl.
func purlsIn(t *testing.T, format string, data []byte) map[string]bool {
	t.Helper()
	var raw []string
	switch format {
	case "spdx-json":
		var doc struct {
			Packages []struct {
				ExternalRefs []struct {
					Type    string `json:"referenceType"`
					Locator string `json:"referenceLocator"`
				} `json:"externalRefs"`
			} `json:"packages"`
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		for _, p := range doc.Packages {
			for _, r := range p.ExternalRefs {
				if r.Type == "purl" {
					raw = append(raw, r.Locator)
				}
			}
		}
	case "cyclonedx-json":
		type comp struct {
			PURL       string `json:"purl"`
			Components []json.RawMessage
		}
		var bom struct {
			Metadata struct {
				Component json.RawMessage `json:"component"`
			} `json:"metadata"`
			Components []json.RawMessage `json:"components"`
		}
		if err := json.Unmarshal(data, &bom); err != nil {
			t.Fatal(err)
		}
		queue := append([]json.RawMessage{bom.Metadata.Component}, bom.Components...)
		for len(queue) > 0 {
			var c comp
			if len(queue[0]) > 0 {
				if err := json.Unmarshal(queue[0], &c); err != nil {
					t.Fatal(err)
				}
			}
			queue = append(queue[1:], c.Components...)
			raw = append(raw, c.PURL)
		}
	case "syft-json":
		var doc struct {
			Artifacts []struct {
				PURL string `json:"purl"`
			} `json:"artifacts"`
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		for _, a := range doc.Artifacts {
			raw = append(raw, a.PURL)
		}
	}
	out := map[string]bool{}
	for _, p := range raw {
		if p == "" {
			continue
		}
		if c, err := CanonicalPURL(p); err == nil {
			p = c
		}
		out[p] = true
	}
	return out
}
