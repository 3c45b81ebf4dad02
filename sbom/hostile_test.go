package sbom

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nixdock/nixdock-action/internal/schematest"
)

// hostileMeta is meta as an evaluation may give it: wrong types, values
// that are no URL, CPE or purl, expressions that do not parse.
const hostileMeta = `{
  "/nix/store/` + hashA + `-hello-2.12.1.drv": {
    "license": ["MIT AND", "((", {"spdxId": "Apache-2.0"}, "GPL-2.0-only WITH Nope", "\u0000x"],
    "description": "Prints \u0007 a greeting\nover lines",
    "homepage": "not a url",
    "pname": "hello", "version": "2.12.1",
    "outputs": {"out": "/nix/store/` + hashB + `-hello-2.12.1"},
    "position": "/nix/store/` + hashA + `-source/pkgs/by-name/he/hello/package.nix:12", "nixpkgs": true,
    "cpe": "cpe:/a:gnu:hello:2.12.1",
    "possibleCPEs": ["garbage", {"cpe": "cpe:2.3:a:gnu:hello:2.12.1:*:*:*:*:*:*:*"}, {"cpe": 7}],
    "purls": ["not-a-purl", "pkg:github/gnu/hello@2.12.1", "pkg:npm/a b", "pkg:generic/hello@2.12.1?download_url=https://ftp.gnu.org/x"],
    "srcUrls": ["mirror://gnu/hello/hello-2.12.1.tar.gz", "https://ftp.gnu.org/gnu/hello/hello-2.12.1.tar.gz"],
    "maintainers": [{"name": "Eve (evil)\n", "email": "not an email"}, {"github": "bob", "email": "bob@example.org"}, 5]
  },
  "/nix/store/` + hashB + `-data.drv": {
    "license": "((MIT", "homepage": ["https://example.org/a b", "x"], "description": null,
    "cpe": "cpe:2.3:a:broken", "cpeParts": {"vendor": "ex ample", "product": "da:ta", "version": "1.0 (beta)"},
    "purls": "pkg:generic/data@1.0",
    "maintainers": []
  }
}`

// TestHostileMetaStaysValid feeds hostile meta values and validates both
// formats against the official SPDX 2.3 and CycloneDX 1.6 schemas: a bad
// value costs itself, never the document.
func TestHostileMetaStaysValid(t *testing.T) {
	m, err := ParseMeta([]byte(hostileMeta))
	if err != nil {
		t.Fatal(err)
	}
	helloPath := "/nix/store/" + hashB + "-hello-2.12.1"
	dataPath := "/nix/store/" + hashA + "-data"
	d := &Document{Source: "record", Subject: Subject{
		Name:         "ghcr.io/me/Hello:v1",
		ConfigDigest: "sha256:" + strings.Repeat("c", 64),
		DiffIDs:      []string{"sha256:" + strings.Repeat("d", 64)},
	}, Components: []Component{
		{Path: helloPath, Hash: hashB, Deriver: "/nix/store/" + hashA + "-hello-2.12.1.drv", NarHash: "sha256:" + strings.Repeat("a", 64), DependsOn: []string{dataPath}},
		{Path: dataPath, Hash: hashA, Deriver: "/nix/store/" + hashB + "-data.drv", NarHash: "sha256:" + strings.Repeat("b", 64)},
	}}
	for i := range d.Components {
		d.Components[i].nameFrom(nil)
	}
	opts := Options{Meta: m, Name: "ghcr.io/me/Hello:v1", ManifestDigest: "sha256:" + strings.Repeat("e", 64)}
	if err := opts.finish(d, time.Time{}); err != nil {
		t.Fatal(err)
	}
	spdxSchema := schematest.SPDX(t)
	cdxSchema := schematest.CycloneDX(t)
	spdxBytes := encode(t, d, SPDXJSON, true)
	schematest.Validate(t, spdxSchema, "the SBOM", spdxBytes)
	checkSPDXRelationships(t, spdxBytes, d)
	cdxBytes := encode(t, d, CycloneDXJSON, true)
	schematest.Validate(t, cdxSchema, "the SBOM", cdxBytes)

	hello, data := &d.Components[1], &d.Components[0]
	if hello.Path != helloPath {
		hello, data = data, hello
	}
	want := map[string]string{
		"hello purl":        "pkg:github/gnu/hello@2.12.1",
		"hello nix purl":    "pkg:nix/nixpkgs/hello@2.12.1?store_path=%2Fnix%2Fstore%2F" + hashB + "-hello-2.12.1",
		"hello cpe":         "cpe:2.3:a:gnu:hello:2.12.1:*:*:*:*:*:*:*",
		"hello homepage":    "",
		"hello download":    "https://ftp.gnu.org/gnu/hello/hello-2.12.1.tar.gz",
		"data homepage":     "https://example.org/a%20b",
		"data purl":         "pkg:generic/data@1.0",
		"data nix purl":     "pkg:nix/data?store_path=%2Fnix%2Fstore%2F" + hashA + "-data",
		"data cpe":          `cpe:2.3:a:ex_ample:da\:ta:1.0_\(beta\):*:*:*:*:*:*:*`, // white space is _ (NISTIR 7695 5.3.2)
		"image purl":        "pkg:oci/hello@sha256:" + strings.Repeat("e", 64) + "?repository_url=ghcr.io%2Fme%2Fhello",
		"hello license":     "LicenseRef-MIT-AND AND LicenseRef--- AND Apache-2.0 AND LicenseRef-GPL-2.0-only-WITH-Nope AND LicenseRef--x",
		"hello supplier":    "Organization: nixpkgs",
		"hello upstream #2": "pkg:generic/hello@2.12.1?download_url=https:%2F%2Fftp.gnu.org%2Fx",
	}
	got := map[string]string{
		"hello purl": hello.PURL, "hello nix purl": hello.NixPURL, "hello cpe": hello.CPEs[0],
		"hello homepage": hello.Homepage, "hello download": hello.DownloadLocation,
		"data homepage": data.Homepage, "data purl": data.PURL, "data nix purl": data.NixPURL,
		"image purl": d.Subject.purl(), "hello license": hello.License,
		"hello upstream #2": hello.UpstreamPURLs[len(hello.UpstreamPURLs)-1],
	}
	if len(data.CPEs) > 0 {
		got["data cpe"] = data.CPEs[0]
	}
	if s := hello.spdxSupplier(); s != nil {
		got["hello supplier"] = s.SupplierType + ": " + s.Supplier
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %q, want %q", k, got[k], w)
		}
	}
	if len(hello.CPEs) != 1 || len(hello.UpstreamPURLs) != 2 {
		t.Errorf("hello CPEs %q (2.2 URI and its 2.3 twin are one), upstream purls %q", hello.CPEs, hello.UpstreamPURLs)
	}
	// Nothing raw reaches the output (but the warnings that name it).
	warnings := d.Warnings
	d.Warnings = nil
	spdxBytes, cdxBytes = encode(t, d, SPDXJSON, true), encode(t, d, CycloneDXJSON, true)
	d.Warnings = warnings
	for _, raw := range []string{"not a url", "cpe:/a", "not-a-purl", "pkg:npm/a b", "garbage", "mirror://", "not an email", "cpe:2.3:a:broken"} {
		if strings.Contains(string(spdxBytes), raw) || strings.Contains(string(cdxBytes), raw) {
			t.Errorf("%q was written", raw)
		}
	}
	for _, w := range []string{"homepage dropped", "purl dropped", "CPE dropped"} {
		if !strings.Contains(strings.Join(d.Warnings, "\n"), w) {
			t.Errorf("no warning %q in %q", w, d.Warnings)
		}
	}
	// Every purl written parses.
	var doc struct {
		Packages []struct {
			Refs []struct{ ReferenceType, ReferenceLocator string } `json:"externalRefs"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(spdxBytes, &doc); err != nil {
		t.Fatal(err)
	}
	for _, p := range doc.Packages {
		for _, r := range p.Refs {
			switch r.ReferenceType {
			case "purl":
				if _, err := ParsePURL(r.ReferenceLocator); err != nil {
					t.Error(err)
				}
			case "cpe23Type":
				if !cpe23.MatchString(r.ReferenceLocator) {
					t.Errorf("cpe23Type %q", r.ReferenceLocator)
				}
			}
		}
	}
}

// FuzzIdentityChecks: whatever ParsePURL accepts writes back to a purl that
// parses to the same canonical form; whatever CleanCPE returns is a CPE 2.3
// formatted string; whatever CleanURL returns parses as a URL again.
func FuzzIdentityChecks(f *testing.F) {
	f.Add("pkg:github/gnu/hello@2.12.1?a=b#x/y")
	f.Add("cpe:/a:gnu:hello:2.12.1")
	f.Add("https://example.org/a b")
	f.Fuzz(func(t *testing.T, s string) {
		if p, err := ParsePURL(s); err == nil {
			canon := p.String()
			again, err := CanonicalPURL(canon)
			if err != nil || again != canon {
				t.Fatalf("%q -> %q -> %q, %v", s, canon, again, err)
			}
		}
		if c, err := CleanCPE(s); err == nil && !cpe23.MatchString(c) {
			t.Fatalf("CleanCPE(%q) = %q", s, c)
		}
		if u, err := CleanURL(s); err == nil {
			if again, err := CleanURL(u); err != nil || again != u {
				t.Fatalf("CleanURL(%q) = %q, again %q, %v", s, u, again, err)
			}
		}
	})
}
