package agree_test

import (
	"context"
	"strings"
	"testing"

	"github.com/nixdock/nixdock-action/agree"
	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/record"
	"github.com/nixdock/nixdock-action/recsig"
	"github.com/nixdock/nixdock-action/sign"
	"github.com/nixdock/nixdock-action/verify"
)

const drv = "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-image.tar.drv"

func digest(c byte) string { return "sha256:" + strings.Repeat(string(c), 64) }

var registered int64

// rec is a record of a build of its own by builder id on host, of the image
// whose bytes are named by c (config, layer and manifest digests).
func rec(id, host string, c byte) *record.Record {
	registered++
	return &record.Record{
		Schema: record.Schema, Builder: record.Builder{ID: id}, DrvPath: drv,
		OutPath: "/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-image.tar",
		Origin:  &record.Origin{How: record.OriginBuilt, Host: host, RegistrationTime: 1700000000 + registered},
		Image: image.Digests{ConfigDigest: digest(c), ManifestDigest: digest(c + 1), Compressor: image.Compressor{Name: "gzip"},
			Layers: []image.Layer{{DiffID: digest(c + 2), Digest: digest(c + 3)}}},
	}
}

func with(r *record.Record, f func(*record.Record)) *record.Record {
	c := *r
	o := *r.Origin
	c.Origin = &o
	f(&c)
	return &c
}

// TestOneDecision drives the one decision through every caller: agree
// itself, verify.Records (verify, diff with records, the Action's verify
// mode) and sign.CheckRecords (sign, publish). They must agree on every
// record set, including each way of faking a second builder.
func TestOneDecision(t *testing.T) {
	a := rec("runner-a", "host-1", 'a')
	cases := []struct {
		name    string
		recs    []*record.Record
		policy  agree.Policy
		agreed  bool
		counted int
		reason  string
	}{
		{"two hosts agree", []*record.Record{a, rec("runner-b", "host-2", 'a')}, agree.Policy{MinBuilders: 2}, true, 2, ""},
		{"two stores on one host", []*record.Record{a, with(rec("b", "host-1", 'a'), func(r *record.Record) { r.Store = "/tmp/b" })},
			agree.Policy{MinBuilders: 2}, true, 2, ""},
		{"two stores on one host, two hosts required", []*record.Record{a, with(rec("b", "host-1", 'a'), func(r *record.Record) { r.Store = "/tmp/b" })},
			agree.Policy{MinBuilders: 2, MinHosts: 2}, false, 2, "1 host(s), fewer than the 2 required"},
		{"a copied record with another builder id", []*record.Record{a, with(a, func(r *record.Record) { r.Builder.ID = "runner-b" })},
			agree.Policy{MinBuilders: 2}, false, 1, "1 builder(s) that count agreed"},
		{"a substituted image", []*record.Record{a, with(rec("runner-b", "host-2", 'a'), func(r *record.Record) { r.Origin.How = record.OriginSubstituted })},
			agree.Policy{MinBuilders: 2}, false, 1, "1 builder(s) that count agreed"},
		{"a rebuilt image counts", []*record.Record{a, with(rec("runner-b", "host-2", 'a'), func(r *record.Record) { r.Origin.How = record.OriginRebuilt })},
			agree.Policy{MinBuilders: 2}, true, 2, ""},
		{"a record without origin", []*record.Record{a, with(rec("runner-b", "host-2", 'a'), func(r *record.Record) { r.Origin = nil })},
			agree.Policy{MinBuilders: 2}, false, 1, "1 builder(s) that count agreed"},
		{"other bytes", []*record.Record{a, rec("runner-b", "host-2", '5')}, agree.Policy{MinBuilders: 2}, false, 1, "built other bytes"},
		{"another derivation", []*record.Record{a, with(rec("runner-b", "host-2", 'a'), func(r *record.Record) {
			r.DrvPath = "/nix/store/cccccccccccccccccccccccccccccccc-image.tar.drv"
		})}, agree.Policy{MinBuilders: 2}, false, 1, "evaluated another derivation"},
		{"other compressed bytes", []*record.Record{a, with(rec("runner-b", "host-2", 'a'), func(r *record.Record) { r.Image.ManifestDigest = digest('f') })},
			agree.Policy{MinBuilders: 2}, false, 1, "other compressed bytes"},
		{"a dissenting third builder", []*record.Record{a, rec("runner-b", "host-2", 'a'), rec("runner-c", "host-3", '5')},
			agree.Policy{MinBuilders: 2}, false, 2, "builder runner-c disagrees"},
		{"a substituted third builder with other bytes", []*record.Record{a, rec("runner-b", "host-2", 'a'),
			with(rec("runner-c", "host-3", '5'), func(r *record.Record) { r.Origin.How = record.OriginSubstituted })},
			agree.Policy{MinBuilders: 2}, true, 2, ""},
		{"two signed builders", []*record.Record{a, rec("runner-b", "host-2", 'a')},
			agree.Policy{MinBuilders: 2, RequireSigned: true, Identities: []recsig.Identity{wfA, wfB}}, true, 2, ""},
		{"signed required, one unsigned", []*record.Record{a, rec("runner-b", "host-2", 'a')},
			agree.Policy{MinBuilders: 2, RequireSigned: true, Identities: []recsig.Identity{wfA, {}}}, false, 1, "1 builder(s) that count agreed"},
		{"signed required, none signed", []*record.Record{a, rec("runner-b", "host-2", 'a')},
			agree.Policy{MinBuilders: 1, RequireSigned: true}, false, 0, "0 builder(s) that count agreed"},
		{"signed not required, one unsigned", []*record.Record{a, rec("runner-b", "host-2", 'a')},
			agree.Policy{MinBuilders: 2, Identities: []recsig.Identity{wfA, {}}}, true, 2, ""},
		{"a signed copy of a record is still one build", []*record.Record{a, with(a, func(r *record.Record) { r.Builder.ID = "runner-b" })},
			agree.Policy{MinBuilders: 2, RequireSigned: true, Identities: []recsig.Identity{wfA, wfB}}, false, 1, "1 builder(s) that count agreed"},
		{"identities for other records", []*record.Record{a, rec("runner-b", "host-2", 'a')},
			agree.Policy{MinBuilders: 2, Identities: []recsig.Identity{wfA}}, false, 2, "1 signer identities were given for 2 records"},
		{"one builder, policy one", []*record.Record{a, with(a, func(r *record.Record) { r.Builder.ID = "copy" })}, agree.Policy{MinBuilders: 1}, true, 1, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := agree.Decide(c.recs, c.policy)
			if d.Agreed != c.agreed || d.Counted != c.counted || !strings.Contains(strings.Join(d.Reasons, "; "), c.reason) {
				t.Fatalf("Decide: agreed %v, counted %d, reasons %q; want %v, %d, %q", d.Agreed, d.Counted, d.Reasons, c.agreed, c.counted, c.reason)
			}
			for i, b := range d.Builders {
				if b.Why == "" {
					t.Errorf("builder %d (%s) has no reason", i, b.ID)
				}
			}
			rep, err := verify.Records(context.Background(), c.recs, verify.Options{Policy: c.policy})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Reproducible != c.agreed {
				t.Errorf("verify says reproducible=%v (%s), the decision %v", rep.Reproducible, rep.Verdict, c.agreed)
			}
			_, err = sign.CheckRecords(c.recs, c.recs[0].Image.ManifestDigest,
				sign.RecordPolicy{MinBuilders: c.policy.MinBuilders, MinHosts: c.policy.MinHosts,
					Identities: c.policy.Identities, RequireSigned: c.policy.RequireSigned})
			if (err == nil) != c.agreed {
				t.Errorf("sign: %v; the decision %v", err, c.agreed)
			}
		})
	}
}

const signer = "https://github.com/o/r/.github/workflows/nixdock-build.yml@refs/tags/v1"

var (
	wfA = recsig.Identity{Subject: signer, Issuer: "https://token.actions.githubusercontent.com", RunURI: "https://github.com/o/r/actions/runs/1/attempts/1"}
	wfB = recsig.Identity{Subject: signer, Issuer: "https://token.actions.githubusercontent.com", RunURI: "https://github.com/o/r/actions/runs/2/attempts/1"}
)

// TestSignedIdentity: a signed builder is known by its verified identity,
// an unsigned one as self-reported, and with RequireSigned it says why it
// does not count.
func TestSignedIdentity(t *testing.T) {
	recs := []*record.Record{rec("a", "h1", 'a'), rec("b", "h2", 'a')}
	d := agree.Decide(recs, agree.Policy{MinBuilders: 1, RequireSigned: true, Identities: []recsig.Identity{wfA, {}}})
	if !d.Agreed || d.Counted != 1 {
		t.Fatalf("decision %+v", d)
	}
	if got := d.Builders[0]; got.Identity != "signed by "+wfA.String() || got.Signer != signer {
		t.Errorf("signed builder's identity %q, signer %q", got.Identity, got.Signer)
	}
	if b := d.Builders[1]; b.Identity != agree.IdentitySelfReported || b.Counts || !strings.Contains(b.Why, "not signed") {
		t.Errorf("unsigned builder %+v", b)
	}
}

// TestIsolation: each counted builder says how it was set apart.
func TestIsolation(t *testing.T) {
	recs := []*record.Record{rec("a", "h1", 'a'), with(rec("b", "h1", 'a'), func(r *record.Record) { r.Store = "/tmp/s" }), rec("c", "h2", 'a')}
	d := agree.Decide(recs, agree.Policy{MinBuilders: 3, MinHosts: 2})
	if !d.Agreed || d.Hosts != 2 {
		t.Fatalf("decision %+v", d)
	}
	want := []string{"separate store on one host", "separate store on one host", "separate host"}
	for i, b := range d.Builders {
		if b.Isolation != want[i] || b.Identity != agree.IdentitySelfReported {
			t.Errorf("builder %s: isolation %q, identity %q; want %q", b.ID, b.Isolation, b.Identity, want[i])
		}
	}
}

func TestPolicyBelowOne(t *testing.T) {
	for _, n := range []int{0, -5} {
		if d := agree.Decide([]*record.Record{rec("a", "h", 'a')}, agree.Policy{MinBuilders: n}); d.Agreed {
			t.Errorf("MinBuilders %d agreed", n)
		}
	}
}

// TestIsolationCountsEveryBuild: a builder that counts alone is still "on
// one host" with a dissenting build from the same host: isolation is
// relative to every build compared, not only to those that agree.
func TestIsolationCountsEveryBuild(t *testing.T) {
	recs := []*record.Record{rec("a", "h1", 'a'), with(rec("b", "h1", '5'), func(r *record.Record) { r.Store = "/tmp/s" })}
	d := agree.Decide(recs, agree.Policy{MinBuilders: 1})
	if d.Builders[0].Isolation != "separate store on one host" {
		t.Errorf("isolation %q, want separate store on one host", d.Builders[0].Isolation)
	}
}
