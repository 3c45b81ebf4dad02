package recsig_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/nixdock/nixdock-action/recsig"
	"github.com/nixdock/nixdock-action/recsig/recsigtest"
)

const (
	issuer = "https://token.actions.githubusercontent.com"
	wf     = "https://github.com/nixdock/nixdock-action/.github/workflows/nixdock.yml@refs/tags/v1"
	run    = "https://github.com/nixdock/demo/actions/runs/1/attempts/1"
)

func TestSignVerify(t *testing.T) {
	ca := recsigtest.NewCA()
	roots, _, err := recsig.LoadTrust(ca.RootPEM)
	if err != nil {
		t.Fatal(err)
	}
	sv, cert := ca.Issue(recsigtest.Identity{SAN: wf, Issuer: issuer, RunURI: run})
	record := []byte(`{"schema":"nixdock.record/v1","builder":{"id":"a"}}` + "\n")
	sig, err := recsig.Sign(record, sv, cert)
	if err != nil {
		t.Fatal(err)
	}
	good := recsig.Options{Roots: roots, Identity: wf, Issuer: issuer}
	id, err := recsig.Verify(record, sig, good)
	if err != nil {
		t.Fatal(err)
	}
	if id.Subject != wf || id.Issuer != issuer || id.RunURI != run || id.String() != wf+" (run "+run+")" {
		t.Errorf("identity %+v", id)
	}
	re := good
	re.Identity, re.IdentityRegexp = "", regexp.MustCompile(`^https://github\.com/nixdock/nixdock-action/\.github/workflows/nixdock\.yml@refs/tags/v\d+$`)
	if _, err := recsig.Verify(record, sig, re); err != nil {
		t.Errorf("regexp identity: %v", err)
	}

	other := recsigtest.NewCA()
	otherRoots, _, _ := recsig.LoadTrust(other.RootPEM)
	tampered := append([]byte{}, record...)
	tampered[len(tampered)-3] = 'b'
	var forged map[string]any
	_ = json.Unmarshal(sig, &forged)
	forged["dsseEnvelope"].(map[string]any)["payload"] = tampered
	forgedSig, _ := json.Marshal(forged)
	sv2, cert2 := ca.Issue(recsigtest.Identity{SAN: wf, Issuer: issuer})
	otherRecord := []byte(`{"schema":"nixdock.record/v1","builder":{"id":"b"}}` + "\n")
	otherSig, _ := recsig.Sign(otherRecord, sv2, cert2)
	for _, c := range []struct {
		name   string
		record []byte
		sig    []byte
		opts   recsig.Options
		want   string
	}{
		{"a tampered record", tampered, sig, good, "another record"},
		{"a tampered record and payload", tampered, forgedSig, good, "does not verify"},
		{"a signature copied to another record", record, otherSig, good, "another record"},
		{"a wrong identity", record, sig, recsig.Options{Roots: roots, Identity: wf + "x", Issuer: issuer}, "not the expected identity"},
		{"a regexp that does not match", record, sig, recsig.Options{Roots: roots, IdentityRegexp: regexp.MustCompile(`^https://example\.com/`), Issuer: issuer}, "not the expected identity"},
		{"a wrong issuer", record, sig, recsig.Options{Roots: roots, Identity: wf, Issuer: "https://accounts.google.com"}, "OIDC issuer"},
		{"an untrusted CA", record, sig, recsig.Options{Roots: otherRoots, Identity: wf, Issuer: issuer}, "does not chain"},
		{"no identity expected", record, sig, recsig.Options{Roots: roots, Issuer: issuer}, "no expected signer identity"},
		{"not a bundle", record, []byte("{"), good, "not JSON"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := recsig.Verify(c.record, c.sig, c.opts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
}

// TestProvenance: the signer's commit, repository and run are checked when
// asked for, from the certificate's Fulcio extensions.
func TestProvenance(t *testing.T) {
	ca := recsigtest.NewCA()
	roots, _, _ := recsig.LoadTrust(ca.RootPEM)
	const (
		sha  = "0123456789abcdef0123456789abcdef01234567"
		repo = "https://github.com/nixdock/demo"
	)
	sv, cert := ca.Issue(recsigtest.Identity{SAN: wf, Issuer: issuer, RunURI: run, SourceRepository: repo, SignerDigest: sha})
	record := []byte(`{}`)
	sig, _ := recsig.Sign(record, sv, cert)
	good := recsig.Options{Roots: roots, Identity: wf, Issuer: issuer, SignerDigest: sha, SourceRepository: repo,
		RunURIPrefix: "https://github.com/nixdock/demo/actions/runs/1/"}
	id, err := recsig.Verify(record, sig, good)
	if err != nil || id.SignerDigest != sha || id.SourceRepository != repo {
		t.Fatalf("identity %+v, %v", id, err)
	}
	// GitHub's names are case-insensitive: so is the comparison.
	upper := good
	upper.SourceRepository, upper.RunURIPrefix = "https://github.com/NixDock/Demo", "https://github.com/NixDock/Demo/actions/runs/1/"
	if _, err := recsig.Verify(record, sig, upper); err != nil {
		t.Errorf("another spelling of the repository: %v", err)
	}
	// Without the extensions (an older or another CA), nothing matches.
	svBare, certBare := ca.Issue(recsigtest.Identity{SAN: wf, Issuer: issuer})
	bare, _ := recsig.Sign(record, svBare, certBare)
	for _, c := range []struct {
		name string
		sig  []byte
		edit func(*recsig.Options)
		want string
	}{
		{"another commit", sig, func(o *recsig.Options) { o.SignerDigest = strings.Repeat("f", 40) }, "at commit"},
		{"another repository", sig, func(o *recsig.Options) { o.SourceRepository = "https://github.com/evil/demo" }, "in a run of"},
		{"another run", sig, func(o *recsig.Options) { o.RunURIPrefix = "https://github.com/nixdock/demo/actions/runs/10/" }, "in run"},
		{"a run prefix without its /", sig, func(o *recsig.Options) { o.RunURIPrefix = "https://github.com/nixdock/demo/actions/runs/1" }, "does not end in /"},
		{"no commit in the certificate", bare, func(*recsig.Options) {}, "no workflow commit"},
		{"no repository in the certificate", bare, func(o *recsig.Options) { o.SignerDigest = "" }, "no repository"},
		{"no run in the certificate", bare, func(o *recsig.Options) { o.SignerDigest, o.SourceRepository = "", "" }, "no run"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := good
			c.edit(&o)
			if _, err := recsig.Verify(record, c.sig, o); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
}

func TestPayloadTypeBound(t *testing.T) {
	ca := recsigtest.NewCA()
	roots, _, _ := recsig.LoadTrust(ca.RootPEM)
	sv, cert := ca.Issue(recsigtest.Identity{SAN: wf, Issuer: issuer})
	record := []byte(`{}`)
	sig, _ := recsig.Sign(record, sv, cert)
	var b map[string]any
	_ = json.Unmarshal(sig, &b)
	b["dsseEnvelope"].(map[string]any)["payloadType"] = "application/vnd.in-toto+json"
	relabelled, _ := json.Marshal(b)
	if _, err := recsig.Verify(record, relabelled, recsig.Options{Roots: roots, Identity: wf, Issuer: issuer}); err == nil || !strings.Contains(err.Error(), "not a build record") {
		t.Fatalf("err = %v", err)
	}
}

// TestPublicGood: the embedded public Fulcio certificates load, with a
// root, and a certificate of the test CA does not chain to them.
func TestPublicGood(t *testing.T) {
	roots, inter, err := recsig.PublicGood()
	if err != nil {
		t.Fatal(err)
	}
	ca := recsigtest.NewCA()
	sv, cert := ca.Issue(recsigtest.Identity{SAN: wf, Issuer: issuer})
	sig, _ := recsig.Sign([]byte("{}"), sv, cert)
	_, err = recsig.Verify([]byte("{}"), sig, recsig.Options{Roots: roots, Intermediates: inter, Identity: wf, Issuer: issuer})
	if err == nil || !strings.Contains(err.Error(), "does not chain") {
		t.Fatalf("a test certificate against the public roots: %v", err)
	}
	if _, _, err := recsig.LoadTrust([]byte("not pem")); err == nil {
		t.Error("a trust root without certificates loaded")
	}
}

// TestControlCharacters: an identity that would reach a report with
// terminal escapes is refused, even from a trusted CA.
func TestControlCharacters(t *testing.T) {
	ca := recsigtest.NewCA()
	roots, _, _ := recsig.LoadTrust(ca.RootPEM)
	sv, cert := ca.Issue(recsigtest.Identity{SAN: wf, Issuer: issuer, RunURI: run + "\x1b[2J"})
	sig, _ := recsig.Sign([]byte("{}"), sv, cert)
	if _, err := recsig.Verify([]byte("{}"), sig, recsig.Options{Roots: roots, Identity: wf, Issuer: issuer}); err == nil || !strings.Contains(err.Error(), "control characters") {
		t.Fatalf("err = %v", err)
	}
}
