package sbom

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestImageListedAsPackage: with an image purl, the image is listed once
// more among the packages (SPDX: SPDXRef-image-package, a COPY_OF the
// described SPDXRef-image; CycloneDX: an application component beside
// metadata.component, with the image's dependencies), with the same
// purl; without one (an archive described by its config digest), not.
func TestImageListedAsPackage(t *testing.T) {
	dep := "/nix/store/" + hashA + "-data"
	d := &Document{Source: "record", Subject: Subject{
		Name:         "ghcr.io/me/hello:v1",
		ConfigDigest: "sha256:" + strings.Repeat("c", 64),
	}, Components: []Component{{Path: dep, Hash: hashA, NarHash: "sha256:" + strings.Repeat("b", 64)}}}
	d.Components[0].nameFrom(nil)
	opts := Options{Name: "ghcr.io/me/hello:v1", ManifestDigest: "sha256:" + strings.Repeat("e", 64)}
	if err := opts.finish(d, time.Time{}); err != nil {
		t.Fatal(err)
	}
	purl := d.Subject.purl()
	if purl == "" {
		t.Fatal("no image purl")
	}
	var spdxDoc struct {
		Packages []struct {
			ID      string `json:"SPDXID"`
			Purpose string `json:"primaryPackagePurpose"`
			Refs    []struct {
				Locator string `json:"referenceLocator"`
			} `json:"externalRefs"`
		} `json:"packages"`
		Relationships []spdxRelationship `json:"relationships"`
	}
	if err := json.Unmarshal(encode(t, d, SPDXJSON, false), &spdxDoc); err != nil {
		t.Fatal(err)
	}
	withPURL := map[string]string{}
	for _, p := range spdxDoc.Packages {
		if len(p.Refs) > 0 && p.Refs[0].Locator == purl {
			withPURL[p.ID] = p.Purpose
		}
	}
	if len(withPURL) != 2 || withPURL["SPDXRef-image"] != "CONTAINER" || withPURL["SPDXRef-image-package"] != "CONTAINER" {
		t.Errorf("SPDX packages with the image purl: %v", withPURL)
	}
	copyOf := false
	for _, r := range spdxDoc.Relationships {
		copyOf = copyOf || r.A == "SPDXRef-image-package" && r.B == "SPDXRef-image" && r.Type == "COPY_OF"
	}
	if !copyOf {
		t.Error("SPDX: no SPDXRef-image-package COPY_OF SPDXRef-image")
	}
	var bom struct {
		Metadata struct {
			Component struct{ PURL string } `json:"component"`
		} `json:"metadata"`
		Components []struct {
			Ref  string `json:"bom-ref"`
			Type string `json:"type"`
			PURL string `json:"purl"`
		} `json:"components"`
		Dependencies []struct {
			Ref       string   `json:"ref"`
			DependsOn []string `json:"dependsOn"`
		} `json:"dependencies"`
	}
	if err := json.Unmarshal(encode(t, d, CycloneDXJSON, false), &bom); err != nil {
		t.Fatal(err)
	}
	if bom.Metadata.Component.PURL != purl || len(bom.Components) != 2 || bom.Components[0].Ref != "image-package" ||
		bom.Components[0].Type != "application" || bom.Components[0].PURL != purl {
		t.Errorf("CycloneDX: metadata.component purl %s, components %+v, want the image as an application with purl %s",
			bom.Metadata.Component.PURL, bom.Components, purl)
	}
	deps := map[string]string{}
	for _, dd := range bom.Dependencies {
		deps[dd.Ref] = strings.Join(dd.DependsOn, " ")
	}
	if deps["image"] != dep || deps["image-package"] != dep {
		t.Errorf("CycloneDX dependencies %v: the image and its listed copy should both depend on %s", deps, dep)
	}

	// Without a manifest digest, no purl and no copy.
	d.Subject.ManifestDigest = ""
	for _, f := range []Format{SPDXJSON, CycloneDXJSON} {
		if b := encode(t, d, f, false); strings.Contains(string(b), "image-package") {
			t.Errorf("%s: the image is listed again without a purl", f)
		}
	}
}
