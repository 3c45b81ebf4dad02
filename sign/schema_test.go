package sign

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"testing"

	"github.com/nixdock/nixdock-action/record"
	"github.com/nixdock/nixdock-action/recsig"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// TestReproducibleSchema: the predicate nixdock signs, reproducible and
// unverified, is valid against the JSON schema published in docs/, which
// documents it field by field; and the schema is strict enough to refuse a
// predicate missing the per-builder decision.
func TestReproducibleSchema(t *testing.T) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	data, err := os.ReadFile("../docs/schema/reproducible-v1.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource(PredicateReproducible, doc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile(PredicateReproducible)
	if err != nil {
		t.Fatal(err)
	}
	host := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	drv := "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-image.tar.drv"
	a, b := testRecord("a", drv, digestA), testRecord("b", drv, digestA)
	a.Origin.Host, b.Origin.Host = host("a"), host("b")
	b.Store = "/tmp/store-b"
	signer := recsig.Identity{Subject: "https://github.com/o/r/.github/workflows/nixdock-build.yml@refs/tags/v1",
		Issuer: "https://token.actions.githubusercontent.com", RunURI: "https://github.com/o/r/actions/runs/1/attempts/1"}
	ok, err := CheckRecords([]*record.Record{a, b}, digestA, RecordPolicy{MinBuilders: 2, MinHosts: 2,
		Identities: []recsig.Identity{signer, {}}})
	if err != nil {
		t.Fatal(err)
	}
	unverified, err := CheckRecords([]*record.Record{a}, digestA, RecordPolicy{MinBuilders: 2, AllowUnverified: true})
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]*Reproducible{"reproducible": ok, "unverified": unverified} {
		raw, err := MarshalPredicate(p)
		if err != nil {
			t.Fatal(err)
		}
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.Validate(v); err != nil {
			t.Errorf("%s predicate is not valid against docs/schema/reproducible-v1.schema.json: %v\n%s", name, err, raw)
		}
		if name == "reproducible" && !bytes.Contains(raw, []byte(`"signer":"`+signer.Subject+`"`)) {
			t.Errorf("the signed builder's signer is not in the predicate:\n%s", raw)
		}
	}
	bad := []byte(`{"verdict":"reproducible","allowUnverified":false,"minBuilders":2,"agreedBuilders":2,"agreedHosts":1,` +
		`"digests":{"manifest":"` + digestA + `"},"builders":[{"id":"a","drvPath":"x","manifestDigest":"` + digestA + `"}]}`)
	v, _ := jsonschema.UnmarshalJSON(bytes.NewReader(bad))
	if err := schema.Validate(v); err == nil {
		t.Error("a builder without counts/why/origin/identity passed the schema")
	}
}
