package sign

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
)

// inProcess is go-containerregistry's in-memory registry (unit tests; the
// CLI tests use Debian's docker-registry).
func inProcess(t *testing.T) string {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// TestLargeSBOMAsArtifact: an SBOM over the inline limit is pushed as an
// OCI artifact (subject: the image; tag sha256-<hex>.sbom) and attested by
// digest; Verify reads the reference back and the blob matches it.
func TestLargeSBOMAsArtifact(t *testing.T) {
	ctx := context.Background()
	host := inProcess(t)
	img, err := random.Image(1024, 2)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Push(ctx, img, host+"/big/sbom:v1", PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files, err := GenerateKeys(filepath.Join(dir, "k"), []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	sv, err := LoadKey(files.Private, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKey(files.Private, []byte("wrong")); err == nil || !strings.Contains(err.Error(), PasswordEnv) {
		t.Errorf("wrong password: %v", err)
	}
	sbom, err := os.ReadFile("testdata/sbom.spdx.json")
	if err != nil {
		t.Fatal(err)
	}
	att, ref, err := SBOMAttestation(ctx, res.Ref, sbom, SBOMOptions{InlineLimit: 100, FileName: "sbom.spdx.json"})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(sbom)
	if att.PredicateType != PredicateSBOMRef || ref.Digest != "sha256:"+hex.EncodeToString(sum[:]) || ref.SBOMPredicateType != PredicateSPDX {
		t.Fatalf("attestation %s, ref %+v", att.PredicateType, ref)
	}
	repro, err := CheckRecords(nil, res.Digest.String(), RecordPolicy{MinBuilders: 1, AllowUnverified: true})
	if err != nil {
		t.Fatal(err)
	}
	rp, _ := MarshalPredicate(repro)
	_, err = Sign(ctx, res.Ref, Options{Signer: &Signer{SV: sv}, Attestations: []Attestation{att, {PredicateType: PredicateReproducible, Predicate: rp}}})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := LoadPublicKey(files.Public)
	if err != nil {
		t.Fatal(err)
	}
	v, err := Verify(ctx, res.Ref.String(), VerifyOptions{Key: pub, IgnoreTlog: true, MinBuilders: 1})
	if err != nil {
		t.Fatal(err)
	}
	if v.SBOMRef == nil || v.SBOMRef.Artifact != ref.Artifact || v.PolicyMet() {
		t.Fatalf("verification: %+v (the unverified verdict must fail the policy)", v)
	}
	// The artifact is reachable by its tag and holds the SBOM.
	tag, _ := SBOMTag(res.Ref)
	desc, err := remote.Get(tag)
	if err != nil {
		t.Fatal(err)
	}
	var m v1.Manifest
	if err := json.Unmarshal(desc.Manifest, &m); err != nil {
		t.Fatal(err)
	}
	if m.Subject == nil || m.Subject.Digest != res.Digest || m.ArtifactType != "application/spdx+json" || m.Layers[0].Digest.String() != ref.Digest {
		t.Fatalf("artifact manifest: %s", desc.Manifest)
	}
	artRef, _ := name.NewDigest(ref.Artifact)
	if desc.Digest.String() != artRef.DigestStr() {
		t.Errorf("artifact digest %s, attested %s", desc.Digest, artRef.DigestStr())
	}
}

// TestPushSkipsPresentBlobs: a second push of the same image sends no
// layer bytes (the registry has them) and gives the same digest.
func TestPushSkipsPresentBlobs(t *testing.T) {
	ctx := context.Background()
	host := inProcess(t)
	img, err := random.Image(4096, 3)
	if err != nil {
		t.Fatal(err)
	}
	first, err := Push(ctx, img, host+"/skip/me:v1", PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tracked := 0
	_, err = Push(ctx, &countingImage{Image: img, opened: &tracked}, host+"/skip/me:v2", PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if tracked != 0 {
		t.Errorf("%d layers were read again for a push of blobs the registry has", tracked)
	}
	d, _ := img.Digest()
	if first.Digest != d {
		t.Errorf("pushed %s, image digest %s", first.Digest, d)
	}
	if _, err := Push(ctx, img, host+"/skip/me@sha256:"+strings.Repeat("0", 64), PushOptions{}); err == nil {
		t.Error("a push to a digest reference that is not the image's was accepted")
	}
}

// TestSBOMArtifactChecked: verify fetches the SBOM artifact an sbom-ref
// attestation names and fails the policy when the tag was overwritten with
// another artifact, when it is gone, or when the attested size is not the
// blob's.
func TestSBOMArtifactChecked(t *testing.T) {
	ctx := context.Background()
	host := inProcess(t)
	img, err := random.Image(512, 1)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Push(ctx, img, host+"/art/check:v1", PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files, _ := GenerateKeys(filepath.Join(dir, "k"), []byte("pw"))
	sv, err := LoadKey(files.Private, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := LoadPublicKey(files.Public)
	sbom, _ := os.ReadFile("testdata/sbom.spdx.json")
	att, ref, err := SBOMAttestation(ctx, res.Ref, sbom, SBOMOptions{InlineLimit: 1})
	if err != nil {
		t.Fatal(err)
	}
	signWith := func(a Attestation) {
		t.Helper()
		if _, err := Sign(ctx, res.Ref, Options{Signer: &Signer{SV: sv}, Attestations: []Attestation{a}}); err != nil {
			t.Fatal(err)
		}
	}
	verify := func() *Verification {
		t.Helper()
		v, err := Verify(ctx, res.Ref.String(), VerifyOptions{Key: pub, IgnoreTlog: true, MinBuilders: 1})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	sbomProblems := func(v *Verification) string {
		var out []string
		for _, p := range v.Problems {
			if strings.Contains(p, "SBOM") {
				out = append(out, p)
			}
		}
		return strings.Join(out, "; ")
	}
	signWith(att)
	v := verify()
	c := v.SBOMArtifact
	if c == nil || !c.Verified || c.Digest != ref.Digest || c.Size != int64(len(sbom)) || c.TagDigest == "" || sbomProblems(v) != "" {
		t.Fatalf("untouched artifact: %+v, problems %q", c, v.Problems)
	}

	// The attestation claims one byte more than the blob has.
	bad := *ref
	bad.Size++
	bp, _ := MarshalPredicate(&bad)
	signWith(Attestation{PredicateType: PredicateSBOMRef, Predicate: bp})
	if v := verify(); v.SBOMArtifact.Verified || !strings.Contains(sbomProblems(v), "the attestation says") {
		t.Errorf("wrong size attested: %+v, problems %q", v.SBOMArtifact, v.Problems)
	}
	signWith(att)

	// Tampered: the tag now names another artifact.
	if _, err := PushSBOMArtifact(ctx, res.Ref, []byte(`{"spdxVersion":"SPDX-2.3","tampered":true}`), "application/spdx+json", SBOMOptions{}); err != nil {
		t.Fatal(err)
	}
	if v := verify(); v.SBOMArtifact.Verified || !strings.Contains(sbomProblems(v), "points at") {
		t.Errorf("tampered tag: %+v, problems %q", v.SBOMArtifact, v.Problems)
	}

	// Missing: the tag and the attested artifact are deleted.
	tag, _ := SBOMTag(res.Ref)
	artRef, _ := name.NewDigest(ref.Artifact)
	for _, r := range []name.Reference{tag, artRef} {
		if err := remote.Delete(r); err != nil {
			t.Fatal(err)
		}
	}
	if v := verify(); v.SBOMArtifact.Verified || !strings.Contains(sbomProblems(v), "is missing") {
		t.Errorf("deleted artifact: %+v, problems %q", v.SBOMArtifact, v.Problems)
	}
}
