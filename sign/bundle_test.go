package sign

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log"
	"math/big"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sigstore/cosign/v2/pkg/cosign"
	"github.com/sigstore/rekor/pkg/generated/models"
	sgbundle "github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// TestBundlesAsReferrers: Sign attaches one Sigstore bundle per
// attestation and one for the signature as referrers of the image, on a
// registry with the referrers API and on one without (the sha256-<hex>
// tag), each bundle verifies with sigstore-go against the key and the
// image digest, carries the key's hint and the same DSSE envelope as the
// v2 layout, and signing again replaces instead of piling up.
func TestBundlesAsReferrers(t *testing.T) {
	for _, api := range []bool{true, false} {
		t.Run(map[bool]string{true: "referrers API", false: "fallback tag"}[api], func(t *testing.T) {
			srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0)), registry.WithReferrersSupport(api)))
			t.Cleanup(srv.Close)
			testBundles(t, strings.TrimPrefix(srv.URL, "http://"), api)
		})
	}
}

func testBundles(t *testing.T, host string, api bool) {
	ctx := context.Background()
	img, err := random.Image(512, 1)
	if err != nil {
		t.Fatal(err)
	}
	pushed, err := Push(ctx, img, host+"/b/img:v1", PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ref := pushed.Ref
	files, err := GenerateKeys(filepath.Join(t.TempDir(), "k"), []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	sv, err := LoadKey(files.Private, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	atts := []Attestation{
		{PredicateType: PredicateReproducible, Predicate: json.RawMessage(`{"a":1}`)},
		{PredicateType: PredicateSLSA1, Predicate: json.RawMessage(`{"b":2}`)},
	}
	for range 2 { // the second run replaces the first's bundles
		res, err := Sign(ctx, ref, Options{Signer: &Signer{SV: sv}, Attestations: atts})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Bundles) != 3 {
			t.Fatalf("bundles %v, want the signature's and two attestations'", res.Bundles)
		}
	}
	w := referrers{ref: ref}
	bundles, err := w.existing()
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, b := range bundles {
		types = append(types, b.predicateType)
	}
	sort.Strings(types)
	if want := sortedCopy([]string{PredicateReproducible, PredicateSLSA1, PredicateCosignSign}); strings.Join(types, " ") != strings.Join(want, " ") {
		t.Fatalf("bundles' predicate types %v, want each of %v once", types, want)
	}
	// A large SBOM's artifact is one more referrer, of its own type.
	sbomArt, err := PushSBOMArtifact(ctx, ref, []byte(`{"spdxVersion":"SPDX-2.3"}`), "application/spdx+json", SBOMOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := remote.Index(FallbackTag(ref)); (err == nil) == api {
		t.Fatalf("fallback tag present = %v with the referrers API = %v", err == nil, api)
	}
	// Every referrer's manifest has its artifactType, and so does its
	// descriptor in the referrers tag schema's index (what the client
	// writes, the distribution spec asks for it: tools filter by it). The
	// in-memory registry's referrers API reports the config media type
	// instead (its own shortcoming), so descriptors are checked without it.
	listed, err := remote.Referrers(ref)
	if err != nil {
		t.Fatal(err)
	}
	im, err := listed.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var sawSBOM int
	for _, d := range im.Manifests {
		want := BundleMediaType
		if d.Digest.String() == sbomArt.DigestStr() {
			sawSBOM++
			want = "application/spdx+json"
		}
		m, err := remote.Get(ref.Repository.Digest(d.Digest.String()))
		if err != nil {
			t.Fatal(err)
		}
		var mf v1.Manifest
		if err := json.Unmarshal(m.Manifest, &mf); err != nil {
			t.Fatal(err)
		}
		if mf.ArtifactType != want {
			t.Errorf("referrer %s: manifest artifactType %q, want %s", d.Digest, mf.ArtifactType, want)
		}
		if !api && (d.ArtifactType != want || (want == BundleMediaType) != (d.Annotations[annBundlePredicateType] != "")) {
			t.Errorf("referrers tag index: %s listed with artifactType %q, annotations %v, want %s", d.Digest, d.ArtifactType, d.Annotations, want)
		}
	}
	if len(im.Manifests) != 4 || sawSBOM != 1 {
		t.Errorf("%d referrers listed (the SBOM artifact %d times), want the 3 bundles and the SBOM artifact once", len(im.Manifests), sawSBOM)
	}

	pub, err := LoadPublicKey(files.Public)
	if err != nil {
		t.Fatal(err)
	}
	legacy := legacyEnvelopes(t, ref)
	der, _ := x509.MarshalPKIXPublicKey(mustPublic(t, pub))
	sum := sha256.Sum256(der)
	wantHint := base64.StdEncoding.EncodeToString(sum[:])
	for _, b := range bundles {
		var doc struct {
			MediaType            string `json:"mediaType"`
			VerificationMaterial struct {
				PublicKey struct {
					Hint string `json:"hint"`
				} `json:"publicKey"`
			} `json:"verificationMaterial"`
			DsseEnvelope struct {
				Signatures []struct {
					Sig string `json:"sig"`
				} `json:"signatures"`
			} `json:"dsseEnvelope"`
		}
		if err := json.Unmarshal(b.bundle, &doc); err != nil {
			t.Fatal(err)
		}
		if doc.MediaType != BundleMediaType || doc.VerificationMaterial.PublicKey.Hint != wantHint {
			t.Errorf("bundle %s: media type %q, hint %q (want %q)", b.predicateType, doc.MediaType, doc.VerificationMaterial.PublicKey.Hint, wantHint)
		}
		if b.predicateType != PredicateCosignSign && !legacy[doc.DsseEnvelope.Signatures[0].Sig] {
			t.Errorf("bundle %s: its envelope's signature is not in the v2 layout's envelopes", b.predicateType)
		}
		verifyBundle(t, b.bundle, pub, ref)
	}
	verifyLayouts(t, ref, pub)
}

// verifyLayouts: Verify reads the v2 tags, and the bundles once the tags
// are gone (an image cosign v3 signed); another key fails in both.
func verifyLayouts(t *testing.T, ref name.Digest, pub signature.Verifier) {
	ctx := context.Background()
	opts := VerifyOptions{Key: pub, IgnoreTlog: true, MinBuilders: 1}
	v, err := Verify(ctx, ref.String(), opts)
	if err != nil || v.Layout != LayoutTags || v.Signatures != 1 {
		t.Fatalf("verify with the tags: %+v, %v", v, err)
	}
	for _, suffix := range []string{".sig", ".att"} {
		tag := ref.Repository.Tag(strings.Replace(ref.DigestStr(), ":", "-", 1) + suffix)
		desc, err := remote.Head(tag)
		if err != nil {
			t.Fatal(err)
		}
		// go-containerregistry's registry keeps tags apart from digests.
		for _, r := range []name.Reference{tag, ref.Repository.Digest(desc.Digest.String())} {
			if err := remote.Delete(r); err != nil {
				t.Fatal(err)
			}
		}
	}
	v, err = Verify(ctx, ref.String(), opts)
	if err != nil {
		t.Fatalf("verify with the bundles only: %v", err)
	}
	if v.Layout != LayoutBundles || v.Signatures != 1 || strings.Join(v.PredicateTypes, " ") != PredicateReproducible+" "+PredicateSLSA1 {
		t.Errorf("verify with the bundles only: layout %s, %d signatures, %v", v.Layout, v.Signatures, v.PredicateTypes)
	}
	other, err := GenerateKeys(filepath.Join(t.TempDir(), "o"), []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	opub, err := LoadPublicKey(other.Public)
	if err != nil {
		t.Fatal(err)
	}
	opts.Key = opub
	if _, err := Verify(ctx, ref.String(), opts); !errors.Is(err, ErrNoSignature) || !strings.Contains(err.Error(), "bundles") {
		t.Errorf("another key: %v", err)
	}
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	sort.Strings(c)
	return c
}

func mustPublic(t *testing.T, v signature.Verifier) any {
	p, err := v.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// legacyEnvelopes are the signatures of the DSSE envelopes under the
// sha256-<hex>.att tag.
func legacyEnvelopes(t *testing.T, ref name.Digest) map[string]bool {
	tag := ref.Repository.Tag(strings.Replace(ref.DigestStr(), ":", "-", 1) + ".att")
	img, err := remote.Image(tag)
	if err != nil {
		t.Fatal(err)
	}
	ls, _ := img.Layers()
	out := map[string]bool{}
	for _, l := range ls {
		rc, err := l.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		var env struct {
			Signatures []struct {
				Sig string `json:"sig"`
			} `json:"signatures"`
		}
		if err := json.NewDecoder(rc).Decode(&env); err != nil {
			t.Fatal(err)
		}
		rc.Close()
		for _, s := range env.Signatures {
			out[s.Sig] = true
		}
	}
	return out
}

// verifyBundle verifies a bundle with sigstore-go as cosign v3 does with
// --key and --insecure-ignore-tlog: the key, no timestamps, the image
// digest as the statement's subject.
func verifyBundle(t *testing.T, raw []byte, pub signature.Verifier, ref name.Digest) {
	t.Helper()
	var b sgbundle.Bundle
	if err := b.UnmarshalJSON(raw); err != nil {
		t.Fatalf("bundle does not load: %v\n%s", err, raw)
	}
	key := root.NewExpiringKey(pub, time.Time{}, time.Time{})
	tm := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) { return key, nil })
	v, err := verify.NewVerifier(tm, verify.WithNoObserverTimestamps())
	if err != nil {
		t.Fatal(err)
	}
	h, _ := v1.NewHash(ref.DigestStr())
	d, _ := hex.DecodeString(h.Hex)
	if _, err := v.Verify(&b, verify.NewPolicy(verify.WithArtifactDigest("sha256", d), verify.WithKey())); err != nil {
		t.Errorf("bundle does not verify: %v", err)
	}
	other := bytes.Repeat([]byte{1}, 32)
	if _, err := v.Verify(&b, verify.NewPolicy(verify.WithArtifactDigest("sha256", other), verify.WithKey())); err == nil {
		t.Error("bundle verifies for another digest")
	}
}

// TestKeylessBundleCertificate: with a certificate (keyless), the bundle's
// verification material is the leaf certificate, not a key hint. (The
// Rekor entry goes in tlogEntries through cosign's MakeNewBundle; that
// needs a real Rekor and is not tested offline, except that an entry
// without its proof is refused.)
func TestKeylessBundleCertificate(t *testing.T) {
	priv, err := cosign.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	sv, err := signature.LoadECDSASignerVerifier(priv, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "leaf"},
		NotBefore: time.Unix(1700000000, 0), NotAfter: time.Unix(1700000600, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, priv.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, _ := cryptoutils.MarshalCertificateToPEM(&x509.Certificate{Raw: der})
	s := &Signer{SV: sv, Cert: certPEM}
	ref, err := name.NewDigest("example.test/repo@sha256:" + strings.Repeat("a", 64))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := signatureBundle(context.Background(), ref, s)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		VerificationMaterial struct {
			Certificate *struct {
				RawBytes []byte `json:"rawBytes"`
			} `json:"certificate"`
			PublicKey   any   `json:"publicKey"`
			TlogEntries []any `json:"tlogEntries"`
		} `json:"verificationMaterial"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	vm := doc.VerificationMaterial
	if vm.Certificate == nil || !bytes.Equal(vm.Certificate.RawBytes, der) || vm.PublicKey != nil || len(vm.TlogEntries) != 0 {
		t.Fatalf("verification material %s, want the leaf certificate only", raw)
	}
	var b sgbundle.Bundle
	if err := b.UnmarshalJSON(raw); err != nil {
		t.Fatalf("bundle does not load: %v", err)
	}
	// A Rekor entry without its inclusion proof is an error, not a panic in
	// cosign's converter.
	if _, err := newBundle(s, []byte("{}"), []byte(`{"payload":"e30=","payloadType":"x","signatures":[{"sig":"AA=="}]}`), &models.LogEntryAnon{}); err == nil || !strings.Contains(err.Error(), "inclusion proof") {
		t.Errorf("entry without a proof: %v", err)
	}
}
