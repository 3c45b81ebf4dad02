package sbom

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nixdock/nixdock-action/internal/nixtest"
	"github.com/nixdock/nixdock-action/internal/schematest"
)

// TestImageAndRecordAgree builds the testdata images with the real Nix and
// checks that the SBOM from the image alone and the one from the build
// record agree on components, NAR hashes and sizes (so the NAR computed
// from the layers equals Nix's narHash), edges and layers.
func TestImageAndRecordAgree(t *testing.T) {
	nixtest.Require(t)
	for _, attr := range []string{"image", "imageZst", "single", "stream"} {
		t.Run(attr, func(t *testing.T) {
			res := nixtest.Build(t, "", "hello.nix", attr)
			fromRec, err := FromRecord(res.Record, Options{Image: res.Image})
			if err != nil {
				t.Fatal(err)
			}
			fromImg, err := FromImage(context.Background(), res.Image, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(fromImg.Components) != 2 {
				t.Fatalf("image-only SBOM has %d components, want 2 (hello, greeting-data)", len(fromImg.Components))
			}
			assertAgree(t, fromRec, fromImg)
			// And against what Nix says of each path.
			nix := nixtest.Nix(t, "")
			for _, c := range fromImg.Components {
				infos, err := nix.PathInfo(context.Background(), false, c.Path)
				if err != nil || len(infos) != 1 {
					t.Fatalf("nix path-info %s: %v", c.Path, err)
				}
				info := infos[0]
				if info.NarHash != c.NarHash || info.NarSize != c.NarSize {
					t.Errorf("%s: computed %s (%d bytes), Nix says %s (%d)", c.Path, c.NarHash, c.NarSize, info.NarHash, info.NarSize)
				}
				var refs []string
				for _, r := range info.References {
					if r != c.Path {
						refs = append(refs, r)
					}
				}
				if strings.Join(refs, " ") != strings.Join(c.DependsOn, " ") {
					t.Errorf("%s: found references %v, Nix says %v", c.Path, c.DependsOn, refs)
				}
			}
			if s := fromImg.Summary(); s.Components != 2 || s.Edges != 1 || s.Hashes != 2 {
				t.Errorf("summary %+v, want 2 components, 1 edge, 2 hashes", s)
			}
		})
	}
}

type agreed struct {
	Path, Hash, Name, Version, NarHash, PURL string
	NarSize                                  int64
	DependsOn, Layers                        []string
}

func assertAgree(t *testing.T, a, b *Document) {
	t.Helper()
	pick := func(d *Document) []agreed {
		var out []agreed
		for _, c := range d.Components {
			out = append(out, agreed{c.Path, c.Hash, c.Name, c.Version, c.NarHash, c.PURL, c.NarSize, c.DependsOn, c.Layers})
		}
		return out
	}
	if ga, gb := pick(a), pick(b); !reflect.DeepEqual(ga, gb) {
		t.Fatalf("record and image SBOMs differ:\nrecord %+v\nimage  %+v", ga, gb)
	}
}

// TestSchemasAndRelationships validates both formats of both sources
// against the official schemas, and checks SPDX relationships.
func TestSchemasAndRelationships(t *testing.T) {
	nixtest.Require(t)
	res := nixtest.Build(t, "", "hello.nix", "image")
	meta := evalMeta(t)
	docs := map[string]func() (*Document, error){
		"record": func() (*Document, error) {
			return FromRecord(res.Record, Options{Image: res.Image, BuildTime: true, Meta: meta})
		},
		"image": func() (*Document, error) { return FromImage(context.Background(), res.Image, Options{Meta: meta}) },
	}
	spdxSchema := schematest.SPDX(t)
	cdxSchema := schematest.CycloneDX(t)
	for name, mk := range docs {
		t.Run(name, func(t *testing.T) {
			d, err := mk()
			if err != nil {
				t.Fatal(err)
			}
			spdxBytes := encode(t, d, SPDXJSON, false)
			schematest.Validate(t, spdxSchema, "the SBOM", spdxBytes)
			checkSPDXRelationships(t, spdxBytes, d)
			schematest.Validate(t, cdxSchema, "the SBOM", encode(t, d, CycloneDXJSON, false))
			schematest.Validate(t, cdxSchema, "the SBOM", encode(t, d, CycloneDXJSON, true))
			hello := componentNamed(t, d, "hello")
			if hello.License != "GPL-3.0-or-later" || hello.Description != "Prints a friendly greeting" || hello.Homepage == "" {
				t.Errorf("hello meta not merged: %+v", hello)
			}
			if data := componentNamed(t, d, "greeting-data"); data.License != "MIT" {
				t.Errorf("greeting-data license %q, want MIT", data.License)
			}
		})
	}
}

// TestBuildTime checks the derivation-graph edges of --buildtime.
func TestBuildTime(t *testing.T) {
	nixtest.Require(t)
	res := nixtest.Build(t, "", "hello.nix", "image")
	d, err := FromRecord(res.Record, Options{BuildTime: true})
	if err != nil {
		t.Fatal(err)
	}
	hello := componentNamed(t, d, "hello")
	data := componentNamed(t, d, "greeting-data")
	if len(hello.BuildDependsOn) != 1 || hello.BuildDependsOn[0] != data.Path {
		t.Errorf("hello build deps %v, want [%s]", hello.BuildDependsOn, data.Path)
	}
	if len(d.Subject.BuildDependsOn) == 0 {
		t.Error("the image's derivation has no build-time inputs")
	}
	if s := d.Summary(); s.BuildEdges < 2 {
		t.Errorf("summary %+v: want build edges", s)
	}
	spdx := string(encode(t, d, SPDXJSON, false))
	if !strings.Contains(spdx, `"BUILD_DEPENDENCY_OF"`) {
		t.Error("no BUILD_DEPENDENCY_OF relationship")
	}
}

// TestDeterministic: two runs on the same input give the same bytes, and
// SOURCE_DATE_EPOCH-style Created changes them.
func TestDeterministic(t *testing.T) {
	nixtest.Require(t)
	res := nixtest.Build(t, "", "hello.nix", "image")
	for _, f := range Formats {
		var outs [][]byte
		for i := 0; i < 2; i++ {
			d, err := FromImage(context.Background(), res.Image, Options{Tool: "nixdock-test"})
			if err != nil {
				t.Fatal(err)
			}
			outs = append(outs, encode(t, d, f, false))
		}
		if !bytes.Equal(outs[0], outs[1]) {
			t.Errorf("%s: two runs differ", f)
		}
		if bytes.Count(outs[0], []byte("\n")) != 1 {
			t.Errorf("%s: compact output has %d newlines, want 1", f, bytes.Count(outs[0], []byte("\n")))
		}
		d, _ := FromImage(context.Background(), res.Image, Options{Tool: "nixdock-test", Created: time.Unix(1700000000, 0)})
		if other := encode(t, d, f, false); bytes.Equal(other, outs[0]) || !bytes.Contains(other, []byte("2023-11-14T22:13:20Z")) {
			t.Errorf("%s: Created is not used", f)
		}
	}
}

func componentNamed(t *testing.T, d *Document, name string) *Component {
	t.Helper()
	for i := range d.Components {
		if d.Components[i].Name == name {
			return &d.Components[i]
		}
	}
	t.Fatalf("no component named %s", name)
	return nil
}

func encode(t *testing.T, d *Document, f Format, pretty bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := d.Encode(f, &buf, pretty); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// evalMeta runs nix/sbom-meta.nix on the testdata image.
func evalMeta(t *testing.T) Meta { return evalMetaOf(t, "hello.nix") }

// evalMetaOf runs nix/sbom-meta.nix on testdata/nix/FILE's image.
func evalMetaOf(t *testing.T, file string) Meta {
	t.Helper()
	helper := filepath.Join(nixtest.Root(), "nix", "sbom-meta.nix")
	out, err := exec.Command("nix-instantiate", "--eval", "--strict", "--json", helper,
		"--arg", "file", nixtest.File(file), "--argstr", "attr", "image",
		"--option", "substituters", "").Output()
	if err != nil {
		t.Fatalf("evaluating sbom-meta.nix: %v", err)
	}
	m, err := ParseMeta(out)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// spdxRelationship is an SPDX relationship as the JSON writes it.
type spdxRelationship struct {
	A    string `json:"spdxElementId"`
	B    string `json:"relatedSpdxElement"`
	Type string `json:"relationshipType"`
}

// hasSPDXRelationship says whether the SPDX JSON document holds the
// relationship a typ b.
func hasSPDXRelationship(t *testing.T, data []byte, a, typ, b string) bool {
	t.Helper()
	var doc struct {
		Relationships []spdxRelationship `json:"relationships"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	return slices.Contains(doc.Relationships, spdxRelationship{A: a, B: b, Type: typ})
}

// checkSPDXRelationships: DESCRIBES present; every relationship refers to
// existing SPDX ids; DEPENDS_ON edges are exactly the document's edges.
func checkSPDXRelationships(t *testing.T, data []byte, d *Document) {
	t.Helper()
	var doc struct {
		SPDXID   string `json:"SPDXID"`
		Packages []struct {
			SPDXID string `json:"SPDXID"`
		} `json:"packages"`
		Relationships []spdxRelationship `json:"relationships"`
		OtherLicenses []struct {
			ID string `json:"licenseId"`
		} `json:"hasExtractedLicensingInfos"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{doc.SPDXID: true}
	for _, p := range doc.Packages {
		if ids[p.SPDXID] {
			t.Errorf("duplicate SPDXID %s", p.SPDXID)
		}
		ids[p.SPDXID] = true
	}
	describes, depends := 0, map[string]bool{}
	for _, r := range doc.Relationships {
		if !ids[r.A] || !ids[r.B] {
			t.Errorf("relationship %s %s %s refers to a missing element", r.A, r.Type, r.B)
		}
		switch r.Type {
		case "DESCRIBES":
			describes++
			if r.A != "SPDXRef-DOCUMENT" {
				t.Errorf("DESCRIBES from %s", r.A)
			}
		case "DEPENDS_ON":
			depends[r.A+" "+r.B] = true
		}
	}
	if describes != 1 {
		t.Errorf("%d DESCRIBES relationships, want 1", describes)
	}
	want := map[string]bool{}
	if rf := d.RootFiles; rf != nil {
		for _, dep := range rf.DependsOn {
			h, _, _ := SplitStorePath(dep)
			want["SPDXRef-root-files SPDXRef-nix-"+h] = true
		}
	}
	for _, c := range d.Components {
		for _, dep := range c.DependsOn {
			h, _, _ := SplitStorePath(dep)
			want[fmt.Sprintf("SPDXRef-nix-%s SPDXRef-nix-%s", c.Hash, h)] = true
		}
	}
	if !reflect.DeepEqual(depends, want) {
		t.Errorf("DEPENDS_ON %v, want %v", depends, want)
	}
}
