package sbom

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/nixdock/nixdock-action/internal/schematest"
)

func TestParseParty(t *testing.T) {
	for in, want := range map[string]Party{
		"ACME Inc": {Type: "Organization", Name: "ACME Inc"},
		" Organization: ACME Inc (sbom@acme.org) ": {Type: "Organization", Name: "ACME Inc", Email: "sbom@acme.org"},
		"Person: Jane Doe (jane@example.org)":      {Type: "Person", Name: "Jane Doe", Email: "jane@example.org"},
		"Person: Jane Doe <jane@example.org>":      {Type: "Person", Name: "Jane Doe", Email: "jane@example.org"},
		"Person:Jane":                              {Type: "Person", Name: "Jane"},
		"person: Jane":                             {Type: "Person", Name: "Jane"},
		"ORGANIZATION: ACME":                       {Type: "Organization", Name: "ACME"},
		"Personal Computing":                       {Type: "Organization", Name: "Personal Computing"},
	} {
		got, err := ParseParty(in)
		if err != nil || got != want {
			t.Errorf("ParseParty(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for in, why := range map[string]string{
		"":                          "no name",
		"Person: (j@x.org)":         "no name",
		"Person: Jane (not-email)":  "no e-mail address",
		"Person: Ja(ne":             "parenthesis",
		"Jane)":                     "without its",
		"Person: Jane <j@x.org":     "parenthesis or angle bracket",
		"Organization: A\x07B":      "control character",
		strings.Repeat("n", 300):    "at most 200",
		"Person: Jane (j@x@y.org)":  "no e-mail address",
		"Organization: ACME (a b)":  "no e-mail address",
		"Person: Ja\nne (j@x.org)":  "control character",
		"Person: <Jane> (j@x.org)":  "angle bracket",
		"Organization: (x) (j@x.o)": "parenthesis",
		"Person: Organization: X":   "both Person and Organization",
	} {
		_, err := ParseParty(in)
		if err == nil || !strings.Contains(err.Error(), why) {
			t.Errorf("ParseParty(%q): %v, want an error saying %q", in, err, why)
		}
	}
}

// TestAuthorAndSupplier: the SBOM's author is an SPDX creator beside the
// tool and CycloneDX's metadata.authors (an organization also its
// metadata.manufacturer); the image's supplier (default: the author) is
// the image package's supplier in SPDX (its listed copy's too) and
// CycloneDX's metadata.supplier and metadata.component's supplier. Both
// formats stay valid against the official schemas; without an author,
// the tool is the only creator and nothing else is written.
func TestAuthorAndSupplier(t *testing.T) {
	spdxSchema := schematest.SPDX(t)
	cdxSchema := schematest.CycloneDX(t)
	jane := &Party{Type: "Person", Name: "Jane Doe", Email: "jane@example.org"}
	acme := &Party{Type: "Organization", Name: "ACME Inc", Email: "sbom@acme.example"}
	for _, tc := range []struct {
		name             string
		author, supplier *Party
		creators         string
		imageSupplier    string
		manufacturer     string
	}{
		{"person author, organization supplier", jane, acme, "Tool: nixdock-test|Person: Jane Doe (jane@example.org)", "Organization: ACME Inc (sbom@acme.example)", ""},
		{"organization author, supplier by default", acme, nil, "Tool: nixdock-test|Organization: ACME Inc (sbom@acme.example)", "Organization: ACME Inc (sbom@acme.example)", "ACME Inc"},
		{"none", nil, nil, "Tool: nixdock-test", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &Document{Source: "record", Subject: Subject{Name: "ghcr.io/acme/hello:v1", ConfigDigest: "sha256:" + strings.Repeat("c", 64)}}
			opts := Options{Tool: "nixdock-test", Name: "ghcr.io/acme/hello:v1", ManifestDigest: "sha256:" + strings.Repeat("e", 64),
				Author: tc.author, Supplier: tc.supplier}
			if err := opts.finish(d, time.Time{}); err != nil {
				t.Fatal(err)
			}
			spdxBytes := encode(t, d, SPDXJSON, false)
			schematest.Validate(t, spdxSchema, "the SBOM", spdxBytes)
			cdxBytes := encode(t, d, CycloneDXJSON, false)
			schematest.Validate(t, cdxSchema, "the SBOM", cdxBytes)

			var doc struct {
				CreationInfo struct{ Creators []string } `json:"creationInfo"`
				Packages     []struct {
					ID       string `json:"SPDXID"`
					Supplier string `json:"supplier"`
				} `json:"packages"`
			}
			if err := json.Unmarshal(spdxBytes, &doc); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(doc.CreationInfo.Creators, "|"); got != tc.creators {
				t.Errorf("SPDX creators %q, want %q", got, tc.creators)
			}
			for _, p := range doc.Packages {
				if p.Supplier != tc.imageSupplier {
					t.Errorf("SPDX %s supplier %q, want %q", p.ID, p.Supplier, tc.imageSupplier)
				}
			}

			type entity struct {
				Name    string `json:"name"`
				Contact []struct {
					Name  string `json:"name"`
					Email string `json:"email"`
				} `json:"contact"`
			}
			var bom struct {
				Metadata struct {
					Authors []struct {
						Name  string `json:"name"`
						Email string `json:"email"`
					} `json:"authors"`
					Manufacturer *entity `json:"manufacturer"`
					Supplier     *entity `json:"supplier"`
					Component    struct {
						Supplier *entity `json:"supplier"`
					} `json:"component"`
				} `json:"metadata"`
			}
			if err := json.Unmarshal(cdxBytes, &bom); err != nil {
				t.Fatal(err)
			}
			m := bom.Metadata
			if tc.author == nil {
				if len(m.Authors) != 0 || m.Manufacturer != nil || m.Supplier != nil || m.Component.Supplier != nil {
					t.Errorf("CycloneDX without an author: %+v", m)
				}
				return
			}
			if len(m.Authors) != 1 || m.Authors[0].Name != tc.author.Name || m.Authors[0].Email != tc.author.Email {
				t.Errorf("CycloneDX authors %+v, want %+v", m.Authors, tc.author)
			}
			if (m.Manufacturer == nil) != (tc.manufacturer == "") || m.Manufacturer != nil && m.Manufacturer.Name != tc.manufacturer {
				t.Errorf("CycloneDX manufacturer %+v, want %q", m.Manufacturer, tc.manufacturer)
			}
			sup := tc.supplier
			if sup == nil {
				sup = tc.author
			}
			for where, e := range map[string]*entity{"metadata.supplier": m.Supplier, "metadata.component.supplier": m.Component.Supplier} {
				if e == nil || e.Name != sup.Name || len(e.Contact) != 1 || e.Contact[0].Email != sup.Email {
					t.Errorf("CycloneDX %s %+v, want %+v", where, e, sup)
				}
			}
		})
	}
}

// FuzzParseParty: any text is a Party or an error, never a panic; a Party
// has a name without control characters, brackets or parentheses, and its
// e-mail, when there is one, is what ParseParty accepts again.
func FuzzParseParty(f *testing.F) {
	for _, s := range []string{"ACME Inc", "Person: Jane Doe (jane@example.org)", "Organization: A <a@b.c>", "person:x", "Person: Organization: X", "(", "Jane)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseParty(s)
		if err != nil {
			return
		}
		if p.Name == "" || strings.ContainsAny(p.Name, "()<>") || strings.IndexFunc(p.Name, unicode.IsControl) >= 0 {
			t.Fatalf("ParseParty(%q) = %+v", s, p)
		}
		if p.Type != "Person" && p.Type != "Organization" {
			t.Fatalf("ParseParty(%q): type %q", s, p.Type)
		}
		again := p.Type + ": " + p.Name
		if p.Email != "" {
			again += " (" + p.Email + ")"
		}
		if q, err := ParseParty(again); err != nil || q != p {
			t.Fatalf("ParseParty(%q) = %+v, but its SPDX form %q parses to %+v, %v", s, p, again, q, err)
		}
	})
}
