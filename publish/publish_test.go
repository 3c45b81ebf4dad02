package publish

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/record"
	"github.com/nixdock/nixdock-action/sign"
)

const drv = "/nix/store/x-image.drv"

// fixture is a registry, an image, a key pair and records.
type fixture struct {
	host   string
	img    v1.Image
	digest string
	keys   sign.KeyFiles
	key    []byte
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	img, err := random.Image(512, 2)
	if err != nil {
		t.Fatal(err)
	}
	h, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := sign.GenerateKeys(filepath.Join(t.TempDir(), "cosign"), []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(keys.Private)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{host: strings.TrimPrefix(srv.URL, "http://"), img: img, digest: h.String(), keys: keys, key: key}
}

var registered int64

// record is builder id's record of a build of its own producing manifest.
func testRecord(id, manifest string) *record.Record {
	registered++
	return &record.Record{
		Origin: &record.Origin{How: record.OriginBuilt, Host: "host-" + id, RegistrationTime: 1700000000 + registered,
			StartedAt: "2026-01-02T03:04:05Z", FinishedAt: "2026-01-02T03:09:00Z"},
		Schema: record.Schema, Builder: record.Builder{ID: id}, System: "x86_64-linux", NixVersion: "2.8.0",
		Installable: record.Installable{Flake: ".#image"}, DrvPath: drv,
		Image: image.Digests{ManifestDigest: manifest, Compressor: image.Compressor{Name: "gzip"}},
	}
}

func (f *fixture) request(t *testing.T, records []*record.Record, stages *[]StageName) Request {
	t.Helper()
	dst, err := name.ParseReference(f.host + "/octo/hello:v1")
	if err != nil {
		t.Fatal(err)
	}
	sbom, err := os.ReadFile("../sign/testdata/sbom.spdx.json")
	if err != nil {
		t.Fatal(err)
	}
	return Request{
		Records: records, Policy: sign.RecordPolicy{MinBuilders: 2},
		Image: f.img, Destination: dst,
		Signer:  Signer{Key: f.key, Password: []byte("pw"), KeyName: "cosign.key", PasswordFrom: "the password value"},
		Attest:  Attest{SBOM: sbom, SBOMName: "sbom.spdx.json", Provenance: &Provenance{NixdockVersion: "test"}},
		OnStage: func(s Stage) { *stages = append(*stages, s.Name) },
	}
}

// pushed says whether the destination tag exists.
func (f *fixture) pushed(t *testing.T) bool {
	t.Helper()
	ref, err := name.ParseReference(f.host + "/octo/hello:v1")
	if err != nil {
		t.Fatal(err)
	}
	_, err = remote.Head(ref)
	return err == nil
}

// TestRun: records that prove the image: checked, pushed, signed and
// attested once, in that order, and verifiable with the public key.
func TestRun(t *testing.T) {
	f := newFixture(t)
	var stages []StageName
	res, err := Run(context.Background(), f.request(t, []*record.Record{testRecord("a", f.digest), testRecord("b", f.digest)}, &stages))
	if err != nil {
		t.Fatal(err)
	}
	if want := f.host + "/octo/hello@" + f.digest; res.Ref.String() != want {
		t.Errorf("published %s, want %s", res.Ref, want)
	}
	if want := []StageName{StageChecked, StagePushing, StageSigning}; len(stages) != 3 || stages[0] != want[0] || stages[1] != want[1] || stages[2] != want[2] {
		t.Errorf("stages %v, want %v", stages, want)
	}
	if res.Reproducible.Verdict != sign.VerdictReproducible || res.Reproducible.AgreedBuilders != 2 {
		t.Errorf("decision %+v", res.Reproducible)
	}
	pub, err := sign.LoadPublicKey(f.keys.Public)
	if err != nil {
		t.Fatal(err)
	}
	v, err := sign.Verify(context.Background(), res.Ref.String(), sign.VerifyOptions{Key: pub, IgnoreTlog: true, MinBuilders: 2})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{sign.PredicateReproducible, sign.PredicateSLSA1, sign.PredicateSPDX}
	if !v.PolicyMet() || v.Signatures != 1 || strings.Join(v.PredicateTypes, " ") != strings.Join(want, " ") {
		t.Errorf("verification %+v, want one signature and %v", v, want)
	}
}

// TestRunRefusesBeforePush: records that do not prove the image stop the
// run before the key is touched or anything is pushed.
func TestRunRefusesBeforePush(t *testing.T) {
	f := newFixture(t)
	var stages []StageName
	other := "sha256:" + strings.Repeat("b", 64)
	req := f.request(t, []*record.Record{testRecord("a", other), testRecord("b", other)}, &stages)
	req.Signer = Signer{KeyFile: filepath.Join(t.TempDir(), "missing.key")}
	_, err := Run(context.Background(), req)
	var ue *sign.UnverifiedError
	if !errors.As(err, &ue) || ue.Digest != f.digest {
		t.Fatalf("err = %v, want an UnverifiedError for %s", err, f.digest)
	}
	if strings.Contains(err.Error(), "--") || len(stages) != 0 || f.pushed(t) {
		t.Errorf("err %q names a flag, or stages %v ran, or the image was pushed", err, stages)
	}
}

// TestRunSignerFirst: a wrong password fails before anything is pushed,
// saying where the password came from.
func TestRunSignerFirst(t *testing.T) {
	f := newFixture(t)
	var stages []StageName
	req := f.request(t, []*record.Record{testRecord("a", f.digest), testRecord("b", f.digest)}, &stages)
	req.Signer.Password = []byte("wrong")
	_, err := Run(context.Background(), req)
	if err == nil || !strings.Contains(err.Error(), "cosign.key") || !strings.Contains(err.Error(), "is the password value right?") {
		t.Fatalf("err = %v, want the key and the password's source named", err)
	}
	if f.pushed(t) || len(stages) != 1 {
		t.Errorf("stages %v; pushed %v: nothing may be pushed before the signer works", stages, f.pushed(t))
	}
}

// TestRunNotRecordImage: an image that is not its record's is refused
// before anything else, even when unverified images are allowed.
func TestRunNotRecordImage(t *testing.T) {
	f := newFixture(t)
	var stages []StageName
	req := f.request(t, []*record.Record{testRecord("a", f.digest)}, &stages)
	req.Policy.AllowUnverified = true
	req.ImageRecord = testRecord("c", "sha256:"+strings.Repeat("c", 64))
	_, err := Run(context.Background(), req)
	var mm *RecordMismatchError
	if !errors.Is(err, ErrNotRecordImage) || !errors.As(err, &mm) || mm.Digest != f.digest {
		t.Fatalf("err = %v, want ErrNotRecordImage", err)
	}
	if f.pushed(t) {
		t.Error("pushed an image its record does not describe")
	}
}

// TestRunAllowUnverified: the policy allows an unproven image; it is
// published and the decision says "unverified".
func TestRunAllowUnverified(t *testing.T) {
	f := newFixture(t)
	var stages []StageName
	req := f.request(t, []*record.Record{testRecord("a", f.digest)}, &stages)
	req.Policy.AllowUnverified = true
	req.Attest = Attest{}
	res, err := Run(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Reproducible.Verdict != sign.VerdictUnverified || len(res.Reproducible.Reasons) == 0 || !f.pushed(t) {
		t.Errorf("decision %+v, pushed %v", res.Reproducible, f.pushed(t))
	}
	if strings.Join(res.Sign.PredicateTypes, " ") != sign.PredicateReproducible {
		t.Errorf("attested %v, want the reproducibility decision only", res.Sign.PredicateTypes)
	}
}

func TestActionsRunIDs(t *testing.T) {
	env := map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "octo/hello",
		"GITHUB_WORKFLOW_REF": "octo/hello/.github/workflows/release.yml@refs/heads/main",
		"GITHUB_RUN_ID":       "42", "GITHUB_RUN_ATTEMPT": "1", "GITHUB_SHA": "abc", "GITHUB_REF": "refs/heads/main",
	}
	r := ActionsRunFrom(func(k string) string { return env[k] })
	if r == nil {
		t.Fatal("no run in Actions")
	}
	b, inv, src := r.ids("")
	if b != "https://github.com/octo/hello/.github/workflows/release.yml@refs/heads/main" ||
		inv != "https://github.com/octo/hello/actions/runs/42/attempts/1" ||
		src == nil || src.URI != "git+https://github.com/octo/hello@refs/heads/main" || src.Digest["gitCommit"] != "abc" {
		t.Errorf("ids %q %q %+v", b, inv, src)
	}
	if b, _, _ := r.ids("octo/lib/.github/workflows/build.yml@v1"); b != "https://github.com/octo/lib/.github/workflows/build.yml@v1" {
		t.Errorf("keyless builder %q, want the token's job_workflow_ref", b)
	}
	env["GITHUB_ACTIONS"] = ""
	if ActionsRunFrom(func(k string) string { return env[k] }) != nil {
		t.Error("a run outside Actions")
	}
}
