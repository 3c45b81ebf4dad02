package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/nixdock/nixdock-action/record"

	"github.com/nixdock/nixdock-action/recsig"
	"github.com/nixdock/nixdock-action/recsig/recsigtest"
	"github.com/nixdock/nixdock-action/sign"
)

const (
	testIssuer = "https://token.actions.githubusercontent.com"
	testSigner = "https://github.com/nixdock/nixdock-action/.github/workflows/nixdock.yml@refs/tags/v1"
)

// signedRecords writes two records of separate builds, each signed by the
// test CA's certificate for id (a stand-in Fulcio: no network), and the
// CA's root; it returns the record paths and the root's path.
func signedRecords(t *testing.T, ca *recsigtest.CA, id recsigtest.Identity) (a, b, root string) {
	t.Helper()
	tmp := t.TempDir()
	drv := "/nix/store/00000000000000000000000000000000-image.tar.drv"
	var paths []string
	for _, n := range []string{"a.json", "b.json"} {
		p := filepath.Join(tmp, n)
		if err := record.Write(p, testRecord(drv, "a")); err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(p)
		sv, cert := ca.Issue(id)
		sig, err := recsig.Sign(data, sv, cert)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(recsig.Path(p), sig, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	root = filepath.Join(tmp, "fulcio.pem")
	if err := os.WriteFile(root, ca.RootPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	return paths[0], paths[1], root
}

// TestVerifySignedRecords: verify reads RECORD.sigstore.json, names each
// builder by its verified identity, and refuses a tampered record, a wrong
// identity and a signature copied from another record; with
// --record-require-signed an unsigned record does not count.
func TestVerifySignedRecords(t *testing.T) {
	ca := recsigtest.NewCA()
	run := "https://github.com/nixdock/demo/actions/runs/7/attempts/1"
	a, b, root := signedRecords(t, ca, recsigtest.Identity{SAN: testSigner, Issuer: testIssuer, RunURI: run})
	flags := []string{"--record-identity", testSigner, "--record-oidc-issuer", testIssuer, "--record-trust-root", root}

	code, out, _ := runCLI(t, append([]string{"verify", "--json", "--record-require-signed", a, b}, flags...)...)
	var rep struct {
		Agreement struct {
			Builders []struct {
				Identity string `json:"identity"`
				Counts   bool   `json:"counts"`
			} `json:"builders"`
		} `json:"agreement"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 || len(rep.Agreement.Builders) != 2 {
		t.Fatalf("signed records: exit %d, %v\n%s", code, err, out)
	}
	for _, bl := range rep.Agreement.Builders {
		if bl.Identity != "signed by "+testSigner+" (run "+run+")" || !bl.Counts {
			t.Errorf("builder %+v", bl)
		}
	}
	re := []string{"--record-identity-regexp", `^https://github\.com/nixdock/nixdock-action/\.github/workflows/nixdock\.yml@refs/tags/v\d+$`,
		"--record-oidc-issuer", testIssuer, "--record-trust-root", root}
	if code, _, _ := runCLI(t, append([]string{"verify", a, b}, re...)...); code != 0 {
		t.Errorf("identity regexp: exit %d", code)
	}
	if code, _, errs := runCLI(t, "verify", a, b, "--record-identity", testSigner+"/evil", "--record-oidc-issuer", testIssuer, "--record-trust-root", root); code != ExitFailure || !strings.Contains(errs, "not the expected identity") {
		t.Errorf("wrong identity: exit %d %q", code, errs)
	}
	// Bound to the run: this run's prefix passes, another run's fails.
	if code, _, errs := runCLI(t, append([]string{"verify", a, b, "--record-run-uri-prefix", "https://github.com/nixdock/demo/actions/runs/7/"}, flags...)...); code != 0 {
		t.Errorf("the signing run: exit %d %q", code, errs)
	}
	if code, _, errs := runCLI(t, append([]string{"verify", a, b, "--record-run-uri-prefix", "https://github.com/nixdock/demo/actions/runs/70/"}, flags...)...); code != ExitFailure || !strings.Contains(errs, "signed in run") {
		t.Errorf("another run: exit %d %q", code, errs)
	}

	// A copied signature: b's signature next to a record it did not sign.
	sigB, _ := os.ReadFile(recsig.Path(b))
	copied := filepath.Join(t.TempDir(), "copy.json")
	dataA, _ := os.ReadFile(a)
	_ = os.WriteFile(copied, dataA, 0o644)
	_ = os.WriteFile(recsig.Path(copied), sigB, 0o644)
	if code, _, errs := runCLI(t, append([]string{"verify", copied, b}, flags...)...); code != ExitFailure || !strings.Contains(errs, "another record") {
		t.Errorf("copied signature: exit %d %q", code, errs)
	}

	// A tampered record under an intact signature.
	tampered := strings.Replace(string(dataA), `"b-a"`, `"b-z"`, 1)
	if tampered == string(dataA) {
		t.Fatal("the record has no builder id to tamper with")
	}
	_ = os.WriteFile(a, []byte(tampered), 0o644)
	if code, _, errs := runCLI(t, append([]string{"verify", a, b}, flags...)...); code != ExitFailure || !strings.Contains(errs, "another record") {
		t.Errorf("tampered record: exit %d %q", code, errs)
	}

	// Unsigned: counts as self-reported, not at all when signing is required.
	_ = os.Remove(recsig.Path(a))
	if code, out, _ := runCLI(t, append([]string{"verify", a, b}, flags...)...); code != 0 || !strings.Contains(out, "reproducible") {
		t.Errorf("one unsigned record, not required: exit %d", code)
	}
	if code, out, _ := runCLI(t, append([]string{"verify", "--record-require-signed", a, b}, flags...)...); code != ExitDiffers || !strings.Contains(out, "not signed") {
		t.Errorf("one unsigned record, required: exit %d\n%s", code, out)
	}
	if code, _, _ := runCLI(t, "verify", "--record-require-signed", a, b); code != ExitUsage {
		t.Errorf("--record-require-signed without an identity: exit %d", code)
	}
	// Without --record-trust-root: Sigstore's public roots, which the
	// test CA's certificates do not chain to.
	if code, _, errs := runCLI(t, "verify", a, b, "--record-identity", testSigner, "--record-oidc-issuer", testIssuer); code != ExitFailure || !strings.Contains(errs, "does not chain") {
		t.Errorf("public roots: exit %d %q", code, errs)
	}
}

// TestBuildSignRecordNeedsRecord: the signature is written next to the
// record, so there must be one.
func TestBuildSignRecordNeedsRecord(t *testing.T) {
	if code, _, errs := runCLI(t, "build", "--sign-record", ".#image"); code != ExitUsage || !strings.Contains(errs, "--record") {
		t.Errorf("exit %d %q", code, errs)
	}
}

// TestSignSignedRecords: sign verifies the records' signatures as verify
// does, refuses a digest that only unsigned records prove when signing is
// required, and its attestation names each builder's verified identity.
func TestSignSignedRecords(t *testing.T) {
	reg := sigRegistry(t)
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(reg + "/nixdock-test/recsig:v1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	dg, _ := img.Digest()
	ca := recsigtest.NewCA()
	dir := t.TempDir()
	root := filepath.Join(dir, "fulcio.pem")
	_ = os.WriteFile(root, ca.RootPEM, 0o644)
	drv := "/nix/store/00000000000000000000000000000000-image.tar.drv"
	var recs []string
	for _, n := range []string{"a.json", "b.json"} {
		r := testRecord(drv, "a")
		r.Image.ManifestDigest = dg.String()
		p := filepath.Join(dir, n)
		if err := record.Write(p, r); err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(p)
		sv, cert := ca.Issue(recsigtest.Identity{SAN: testSigner, Issuer: testIssuer})
		sig, _ := recsig.Sign(data, sv, cert)
		_ = os.WriteFile(recsig.Path(p), sig, 0o644)
		recs = append(recs, p)
	}
	t.Setenv(sign.PasswordEnv, testPassword)
	key := filepath.Join(dir, "cosign")
	if r := pubRun(t, "keygen", "--output-key-prefix", key); r.code != 0 {
		t.Fatalf("keygen: exit %d", r.code)
	}
	target := ref.Context().Digest(dg.String()).String()
	args := []string{"sign", target, "--key", key + ".key", "--records", recs[0] + "," + recs[1], "--record-require-signed",
		"--record-identity", testSigner, "--record-oidc-issuer", testIssuer, "--record-trust-root", root}
	unsigned := filepath.Join(dir, "unsigned")
	_ = os.Rename(recsig.Path(recs[1]), unsigned)
	if r := pubRun(t, args...); r.code != ExitFailure || !strings.Contains(r.errOut, "refusing to sign") || !strings.Contains(r.errOut, "1 builder(s) that count") {
		t.Fatalf("one unsigned record, signing required: exit %d %q", r.code, r.errOut)
	}
	_ = os.Rename(unsigned, recsig.Path(recs[1]))
	if r := pubRun(t, args...); r.code != 0 {
		t.Fatalf("two signed records: exit %d %q", r.code, r.errOut)
	}
	v := pubRun(t, "verify-signature", target, "--key", key+".pub", "--insecure-ignore-tlog", "--json")
	if v.code != 0 || strings.Count(v.out, `"signed by `+testSigner) != 2 {
		t.Errorf("verify-signature: exit %d, want both builders signed by %s\n%s", v.code, testSigner, v.out)
	}
	// The consumer's policy on who signed the builders' records.
	verify := []string{"verify-signature", target, "--key", key + ".pub", "--insecure-ignore-tlog", "--builder-identity-regexp"}
	if v := pubRun(t, append(verify, "^"+regexp.QuoteMeta(testSigner)+"$")...); v.code != 0 {
		t.Errorf("verify-signature, builders signed as expected: exit %d %q", v.code, v.errOut)
	}
	if v := pubRun(t, append(verify, `^https://example\.com/`)...); v.code != ExitDiffers || !strings.Contains(v.out+v.errOut, "0 independent builder(s) agreed with records signed by an identity matching") {
		t.Errorf("verify-signature, builders signed by another identity: exit %d\n%s%s", v.code, v.out, v.errOut)
	}
	if v := pubRun(t, append(verify, "(")...); v.code != ExitUsage {
		t.Errorf("verify-signature, a bad regexp: exit %d", v.code)
	}
}
