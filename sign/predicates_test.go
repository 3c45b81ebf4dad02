package sign

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/record"
)

const (
	digestA = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	digestB = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

var registered int64

// record is builder id's record: a build of its own on host-id.
func testRecord(id, drv, manifest string) *record.Record {
	registered++
	return &record.Record{
		Origin: &record.Origin{How: record.OriginBuilt, Host: "host-" + id, RegistrationTime: 1700000000 + registered,
			StartedAt: "2026-01-02T03:04:05Z", FinishedAt: "2026-01-02T03:09:00Z"},
		Schema: record.Schema, Builder: record.Builder{ID: id}, System: "x86_64-linux", NixVersion: "2.8.0",
		Installable: record.Installable{Flake: ".#image"}, DrvPath: drv,
		Image: image.Digests{ManifestDigest: manifest, ConfigDigest: digestB, Compressor: image.Compressor{Name: "gzip"},
			Layers: []image.Layer{{DiffID: digestB, Digest: digestA}}},
	}
}

func TestCheckRecords(t *testing.T) {
	drv := "/nix/store/x-image.drv"
	cases := []struct {
		name    string
		records []*record.Record
		digest  string
		min     int
		reason  string // "" means verified
		agreed  int
	}{
		{"two agree", []*record.Record{testRecord("b", drv, digestA), testRecord("a", drv, digestA)}, digestA, 2, "", 2},
		{"a copied record", func() []*record.Record {
			r := testRecord("a", drv, digestA)
			c := *r
			c.Builder.ID = "b"
			return []*record.Record{r, &c}
		}(), digestA, 2, "fewer than the 2 required", 1},
		{"too few", []*record.Record{testRecord("a", drv, digestA)}, digestA, 2, "fewer than the 2 required", 1},
		{"none", nil, digestA, 1, "no build records", 0},
		{"drv differs", []*record.Record{testRecord("a", drv, digestA), testRecord("b", "/nix/store/y-image.drv", digestA)}, digestA, 2, "evaluated another derivation", 1},
		{"digests differ", []*record.Record{testRecord("a", drv, digestA), testRecord("b", drv, digestB)}, digestA, 2, "other compressed bytes", 1},
		{"not the signed digest", []*record.Record{testRecord("a", drv, digestB), testRecord("b", drv, digestB)}, digestA, 2, "no builder that counts produced", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := CheckRecords(c.records, c.digest, RecordPolicy{MinBuilders: c.min})
			if c.reason == "" {
				if err != nil || p.Verdict != VerdictReproducible || p.AgreedBuilders != c.agreed {
					t.Fatalf("got %+v, %v; want reproducible with %d builders", p, err, c.agreed)
				}
				if p.Builders[0].ID != "a" || p.DrvPath != drv {
					t.Errorf("builders not sorted or drv missing: %+v", p)
				}
				return
			}
			var ue *UnverifiedError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), c.reason) || strings.Contains(err.Error(), "--") {
				t.Fatalf("err = %v, want an UnverifiedError about %q", err, c.reason)
			}
			p, err = CheckRecords(c.records, c.digest, RecordPolicy{MinBuilders: c.min, AllowUnverified: true})
			if err != nil || p.Verdict != VerdictUnverified || !p.AllowUnverified || p.AgreedBuilders != c.agreed {
				t.Fatalf("with allowUnverified: %+v, %v", p, err)
			}
			if !strings.Contains(strings.Join(p.Reasons, ";"), c.reason) {
				t.Errorf("reasons %q lack %q", p.Reasons, c.reason)
			}
		})
	}
}

func TestCheckRecordsDeterministic(t *testing.T) {
	drv := "/nix/store/x-image.drv"
	ra, rb := testRecord("a", drv, digestA), testRecord("b", drv, digestA)
	a, _ := CheckRecords([]*record.Record{rb, ra}, digestA, RecordPolicy{MinBuilders: 2})
	b, _ := CheckRecords([]*record.Record{ra, rb}, digestA, RecordPolicy{MinBuilders: 2})
	ja, _ := MarshalPredicate(a)
	jb, _ := MarshalPredicate(b)
	if string(ja) != string(jb) {
		t.Fatalf("record order changes the predicate:\n%s\n%s", ja, jb)
	}
}

func TestDetectSBOM(t *testing.T) {
	for file, want := range map[string]string{"testdata/sbom.spdx.json": PredicateSPDX, "testdata/sbom.cdx.json": PredicateCycloneDX} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := DetectSBOM(data)
		if err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", file, got, err, want)
		}
	}
	for _, bad := range []string{`{}`, `not json`, `{"bomFormat":"SPDX"}`, `[]`} {
		if _, _, err := DetectSBOM([]byte(bad)); err == nil {
			t.Errorf("DetectSBOM(%q) accepted it", bad)
		}
	}
}

func TestProvenance(t *testing.T) {
	lock, err := os.ReadFile("testdata/flake.lock")
	if err != nil {
		t.Fatal(err)
	}
	drv := "/nix/store/x-image.drv"
	p, err := NewProvenance(ProvenanceInput{
		Records:   []*record.Record{testRecord("b", drv, digestA), testRecord("a", drv, digestA)},
		FlakeLock: lock, NixdockVersion: "v1.2.3",
		Source: &ResourceDescriptor{Name: "source", URI: "git+https://github.com/me/app@refs/heads/main", Digest: map[string]string{"gitCommit": "abc"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	bd := p.BuildDefinition
	if bd.BuildType != BuildType || bd.ExternalParameters.Command != ".#image" || bd.InternalParameters.NixVersions[0] != "2.8.0" {
		t.Errorf("build definition: %+v", bd)
	}
	if len(bd.ResolvedDependencies) != 3 || bd.ResolvedDependencies[0].Name != "source" || bd.ResolvedDependencies[1].Name != "flake-utils" {
		t.Fatalf("dependencies: %+v", bd.ResolvedDependencies)
	}
	fu := bd.ResolvedDependencies[1]
	if fu.Digest["sha256"] != "9742858391e3aec7ec3bf2691beafb7d1aea9b5da4cc51f2507a87095a4c31b2" ||
		fu.Digest["gitCommit"] != "11707dc2f618dd54ca8739b309ec4fc024de578b" ||
		fu.URI != "github:numtide/flake-utils/11707dc2f618dd54ca8739b309ec4fc024de578b" ||
		fu.Annotations["narHash"] != "sha256-l0KFg5HjrsfsO/JpG+r7fRrqm12kzFHyUHqHCVpMMbI=" {
		t.Errorf("flake-utils: %+v", fu)
	}
	// The times are the builds' own (from the records), never the image's
	// created date; a local signing never names the Action as the builder.
	if m := p.RunDetails.Metadata; m.StartedOn != "2026-01-02T03:04:05Z" || m.FinishedOn != "2026-01-02T03:09:00Z" ||
		p.RunDetails.Builder.ID != LocalBuilderID || strings.HasSuffix(LocalBuilderID, "nixdock-action") {
		t.Errorf("run details: %+v", p.RunDetails)
	}
	if _, err := NewProvenance(ProvenanceInput{}); err == nil {
		t.Error("provenance without records was accepted")
	}
	if _, err := NewProvenance(ProvenanceInput{Records: []*record.Record{testRecord("a", drv, digestA)}, FlakeLock: []byte("{")}); err == nil {
		t.Error("a broken flake.lock was accepted")
	}
}

func FuzzFlakeInputs(f *testing.F) {
	lock, _ := os.ReadFile("testdata/flake.lock")
	f.Add(lock)
	f.Add([]byte(`{"nodes":{"a":{"locked":{"type":"path","path":"/x","narHash":"sha256-"}}},"root":"root"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		deps, err := FlakeInputs(data)
		if err != nil {
			return
		}
		if _, err := json.Marshal(deps); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzDetectSBOM(f *testing.F) {
	for _, file := range []string{"testdata/sbom.spdx.json", "testdata/sbom.cdx.json"} {
		data, _ := os.ReadFile(file)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pt, mt, err := DetectSBOM(data)
		if err == nil && (pt == "" || mt == "") {
			t.Fatal("accepted without a type")
		}
	})
}

func FuzzStatementOf(f *testing.F) {
	f.Add([]byte(`{"payloadType":"application/vnd.in-toto+json","payload":"eyJfdHlwZSI6IngifQ==","signatures":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = statementOf(data)
	})
}

// TestInlineSBOMKeepsNumbers: an SBOM attested inline is compacted, but its
// numbers are signed as written (a float64 round trip would turn
// 9007199254740993 into 9007199254740992 and 1.50 into 1.5).
func TestInlineSBOMKeepsNumbers(t *testing.T) {
	in := []byte("{\n \"spdxVersion\": \"SPDX-2.3\",\n \"big\": 9007199254740993, \"dec\": 1.50, \"a\": [1e3]\n}\n")
	att, ref, err := SBOMAttestation(context.Background(), name.Digest{}, in, SBOMOptions{InlineLimit: -1})
	if err != nil || ref != nil {
		t.Fatalf("inline attestation: ref %+v, err %v", ref, err)
	}
	want := `{"a":[1e3],"big":9007199254740993,"dec":1.50,"spdxVersion":"SPDX-2.3"}`
	if att.PredicateType != PredicateSPDX || string(att.Predicate) != want {
		t.Fatalf("predicate %s %s, want %s", att.PredicateType, att.Predicate, want)
	}
	if _, _, err := SBOMAttestation(context.Background(), name.Digest{}, []byte(`{"spdxVersion":"SPDX-2.3"} {}`), SBOMOptions{InlineLimit: -1}); err == nil {
		t.Error("an SBOM with a second JSON value after it was accepted")
	}
}

func TestCheckRecordsMinBuildersAtLeastOne(t *testing.T) {
	for _, n := range []int{0, -5} {
		if _, err := CheckRecords(nil, "sha256:"+strings.Repeat("a", 64), RecordPolicy{MinBuilders: n, AllowUnverified: true}); err == nil {
			t.Errorf("CheckRecords with minBuilders %d: no error", n)
		}
	}
}
