package sign

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/sigstore/cosign/v2/pkg/cosign"
	cbundle "github.com/sigstore/cosign/v2/pkg/cosign/bundle"
	ctypes "github.com/sigstore/cosign/v2/pkg/types"
	"github.com/sigstore/rekor/pkg/generated/client"
	"github.com/sigstore/rekor/pkg/generated/models"
	"github.com/sigstore/sigstore/pkg/signature/dsse"
)

// cosign v3 attaches signatures and attestations as Sigstore bundles in
// OCI 1.1 referrers of the image (its pkg/oci/remote
// WriteAttestationNewBundleFormat), and looks there first: when any
// referrer holds a bundle, `cosign verify` and `cosign verify-attestation`
// verify bundles only; else they read the v2 tags. nixdock writes both.
const (
	// BundleMediaType is the Sigstore bundle v0.3 media type: the
	// referrer manifest's artifactType and its one layer's media type.
	BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"
	// PredicateCosignSign is the predicate of the statement cosign v3
	// signs in place of a v2 simple-signing payload (`cosign sign`).
	PredicateCosignSign = "https://sigstore.dev/cosign/sign/v1"

	annBundleContent       = "dev.sigstore.bundle.content"
	annBundlePredicateType = "dev.sigstore.bundle.predicateType"
	emptyMediaType         = "application/vnd.oci.empty.v1+json"
)

// newBundle is the Sigstore bundle (v0.3, JSON) of a DSSE envelope over
// statement, built by cosign's own MakeNewBundle: verificationMaterial
// holds the certificate when keyless, else the public key's hint (base64
// of the SHA-256 of its DER, as cosign computes it), and entry, when the
// envelope was logged, as a tlog entry with its inclusion proof.
func newBundle(s *Signer, statement, envelope []byte, entry *models.LogEntryAnon) ([]byte, error) {
	if err := checkEntry(entry); err != nil {
		return nil, err
	}
	pub, err := s.SV.PublicKey()
	if err != nil {
		return nil, err
	}
	signer, err := s.signerPEM()
	if err != nil {
		return nil, err
	}
	raw, err := cbundle.MakeNewBundle(pub, entry, statement, envelope, signer, nil)
	if err != nil {
		return nil, fmt.Errorf("making the Sigstore bundle: %w", err)
	}
	// protojson adds whitespace at random; the blob is hashed, so compact it.
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// checkEntry refuses a Rekor entry that a v0.3 bundle cannot hold (it
// needs the inclusion proof), before cosign's converter dereferences its
// fields.
func checkEntry(e *models.LogEntryAnon) error {
	if e == nil {
		return nil
	}
	v := e.Verification
	if e.LogID == nil || e.LogIndex == nil || e.IntegratedTime == nil || e.Body == nil ||
		v == nil || v.InclusionProof == nil || v.InclusionProof.RootHash == nil ||
		v.InclusionProof.LogIndex == nil || v.InclusionProof.TreeSize == nil || v.InclusionProof.Checkpoint == nil {
		return errors.New("the transparency log (Rekor) returned an entry without its log id, index, time or inclusion proof, which a Sigstore bundle v0.3 needs")
	}
	return nil
}

// signatureBundle is what cosign v3 writes for `cosign sign`: a DSSE
// envelope over an in-toto v1 statement whose subject is the image digest
// and whose predicate (PredicateCosignSign) is empty.
func signatureBundle(ctx context.Context, ref name.Digest, s *Signer) ([]byte, error) {
	h, err := digestHex(ref)
	if err != nil {
		return nil, err
	}
	st, err := marshal(map[string]any{
		"_type":         StatementType,
		"subject":       []map[string]any{{"digest": map[string]string{"sha256": h}}},
		"predicateType": PredicateCosignSign,
		"predicate":     map[string]any{},
	})
	if err != nil {
		return nil, err
	}
	env, err := dsse.WrapSigner(s.SV, ctypes.IntotoPayloadType).SignMessage(bytes.NewReader(st))
	if err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	var entry *models.LogEntryAnon
	if _, err := s.staticOptions(ctx, func(c *client.Rekor, pem []byte) (*models.LogEntryAnon, error) {
		entry, err = cosign.TLogUploadDSSEEnvelope(ctx, c, env, pem)
		return entry, err
	}); err != nil {
		return nil, err
	}
	return newBundle(s, st, env, entry)
}

// referrers writes bundles as referrers of one image.
type referrers struct {
	ref     name.Digest
	subject v1.Descriptor
	ropts   []remote.Option
}

// bundleRef is a bundle referrer already in the registry.
type bundleRef struct {
	digest        v1.Hash
	predicateType string
	bundle        []byte
}

// existing lists the bundle referrers of the image (none when the
// registry has neither the referrers API nor the fallback tag).
func (w referrers) existing() ([]bundleRef, error) {
	idx, err := remote.Referrers(w.ref, w.ropts...)
	if err != nil {
		return nil, fmt.Errorf("listing the referrers of %s: %w", w.ref, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	var out []bundleRef
	for _, d := range im.Manifests {
		// Referrers tag indexes that older go-containerregistry releases
		// wrote (v0.20.7; tools built with them) name the config media
		// type (the empty descriptor) instead of the artifactType.
		if d.ArtifactType != BundleMediaType && d.ArtifactType != emptyMediaType && d.ArtifactType != "" {
			continue
		}
		b, ok, err := w.readBundle(d.Digest)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, b)
		}
	}
	return out, nil
}

func (w referrers) readBundle(h v1.Hash) (bundleRef, bool, error) {
	img, err := remote.Image(w.ref.Repository.Digest(h.String()), w.ropts...)
	if err != nil {
		return bundleRef{}, false, fmt.Errorf("reading referrer %s: %w", h, err)
	}
	m, err := img.Manifest()
	if err != nil {
		return bundleRef{}, false, fmt.Errorf("reading referrer %s: %w", h, err)
	}
	if len(m.Layers) != 1 || !strings.HasPrefix(string(m.Layers[0].MediaType), "application/vnd.dev.sigstore.bundle") {
		return bundleRef{}, false, nil
	}
	ls, err := img.Layers()
	if err != nil {
		return bundleRef{}, false, err
	}
	rc, err := ls[0].Compressed() // attachments are stored as is
	if err != nil {
		return bundleRef{}, false, fmt.Errorf("reading bundle %s: %w", m.Layers[0].Digest, err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(rc); err != nil {
		return bundleRef{}, false, fmt.Errorf("reading bundle %s: %w", m.Layers[0].Digest, err)
	}
	return bundleRef{digest: h, predicateType: m.Annotations[annBundlePredicateType], bundle: buf.Bytes()}, true, nil
}

// write attaches a bundle as a referrer manifest, the way cosign v3 does
// (empty config, the bundle as the one layer, artifactType and layer media
// type BundleMediaType, annotations naming the content and the predicate
// type), and then detaches the referrers in stale. It returns the
// manifest's digest.
//
// On a registry without the referrers API, go-containerregistry keeps the
// referrers tag schema's index (tagged sha256-<hex>) when it puts a
// manifest with a subject, with the manifest's artifactType and
// annotations in its descriptor; write drops the stale ones from that
// index. With the API, stale manifests are deleted; a registry that
// refuses deletion keeps them, and verifiers see an older, still valid
// bundle too.
func (w referrers) write(bundle []byte, predicateType string, stale []bundleRef) (v1.Hash, error) {
	cfg := static.NewLayer(emptyConfig, emptyMediaType)
	layer := static.NewLayer(bundle, BundleMediaType)
	for _, l := range []v1.Layer{cfg, layer} {
		if err := remote.WriteLayer(w.ref.Repository, l, w.ropts...); err != nil {
			return v1.Hash{}, fmt.Errorf("uploading blob: %w", err)
		}
	}
	config := descriptorOf(cfg, emptyMediaType)
	config.ArtifactType = BundleMediaType // as cosign writes it
	m := v1.Manifest{
		SchemaVersion: 2, MediaType: types.OCIManifestSchema1, ArtifactType: BundleMediaType,
		Config: config, Layers: []v1.Descriptor{descriptorOf(layer, BundleMediaType)},
		Subject:     &w.subject,
		Annotations: map[string]string{annBundleContent: "dsse-envelope", annBundlePredicateType: predicateType},
	}
	raw, err := marshal(m)
	if err != nil {
		return v1.Hash{}, err
	}
	h, _, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		return v1.Hash{}, err
	}
	if err := remote.Put(w.ref.Repository.Digest(h.String()), rawManifest{raw: raw}, w.ropts...); err != nil {
		return v1.Hash{}, fmt.Errorf("writing the bundle referrer: %w", err)
	}
	if len(stale) == 0 {
		return h, nil
	}
	pruned, err := w.pruneFallback(h, stale)
	if err != nil || pruned {
		return h, err
	}
	for _, s := range stale {
		// Best effort: a registry may refuse deletion (see above).
		_ = remote.Delete(w.ref.Repository.Digest(s.digest.String()), w.ropts...)
	}
	return h, nil
}

// pruneFallback rewrites the referrers tag, if the registry uses one (it
// lists the manifest added, just put), without stale; it says whether it
// did.
func (w referrers) pruneFallback(added v1.Hash, stale []bundleRef) (bool, error) {
	tag := FallbackTag(w.ref)
	idx, err := remote.Index(tag, w.ropts...)
	var terr *transport.Error
	if errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound {
		return false, nil // no tag: the registry keeps the referrers
	}
	if err != nil {
		return false, fmt.Errorf("reading %s: %w", tag, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return false, fmt.Errorf("reading %s: %w", tag, err)
	}
	if !slices.ContainsFunc(im.Manifests, func(d v1.Descriptor) bool { return d.Digest == added }) {
		return false, nil // a stale tag beside the referrers API
	}
	out := *im
	out.Manifests = slices.DeleteFunc(slices.Clone(im.Manifests), func(d v1.Descriptor) bool {
		return slices.ContainsFunc(stale, func(s bundleRef) bool { return s.digest == d.Digest })
	})
	raw, err := marshal(out)
	if err != nil {
		return false, err
	}
	if err := remote.Put(tag, rawIndex{raw: raw}, w.ropts...); err != nil {
		return false, fmt.Errorf("writing %s: %w", tag, err)
	}
	return true, nil
}

// FallbackTag is the referrers tag schema's tag for ref (sha256-<hex>):
// the index of its referrers on registries without the referrers API.
func FallbackTag(ref name.Digest) name.Tag {
	return ref.Repository.Tag(strings.Replace(ref.DigestStr(), ":", "-", 1))
}

type rawIndex struct{ raw []byte }

func (m rawIndex) RawManifest() ([]byte, error)        { return m.raw, nil }
func (m rawIndex) MediaType() (types.MediaType, error) { return types.OCIImageIndex, nil }

// sameKey says whether bundle b names the signer's public key (the hint
// cosign writes for key signing), so a new signature replaces it as the
// v2 layout's duplicate detector does.
func sameKey(b, ours []byte) bool {
	var hint struct {
		VerificationMaterial struct {
			PublicKey *struct {
				Hint string `json:"hint"`
			} `json:"publicKey"`
		} `json:"verificationMaterial"`
	}
	if json.Unmarshal(b, &hint) != nil || hint.VerificationMaterial.PublicKey == nil {
		return false
	}
	h1 := hint.VerificationMaterial.PublicKey.Hint
	if json.Unmarshal(ours, &hint) != nil || hint.VerificationMaterial.PublicKey == nil {
		return false
	}
	return h1 != "" && h1 == hint.VerificationMaterial.PublicKey.Hint
}

// writeBundles attaches the signature bundle and one bundle per
// attestation. An attestation replaces the bundles of the same predicate
// type (as in the v2 layout); the signature replaces the signature bundles
// of the same key.
func writeBundles(w referrers, sig []byte, atts []pendingBundle) ([]v1.Hash, error) {
	old, err := w.existing()
	if err != nil {
		return nil, err
	}
	var out []v1.Hash
	all := append([]pendingBundle{{predicateType: PredicateCosignSign, bundle: sig}}, atts...)
	for _, b := range all {
		var stale []bundleRef
		for _, o := range old {
			if o.predicateType != b.predicateType {
				continue
			}
			if b.predicateType == PredicateCosignSign && !sameKey(o.bundle, b.bundle) {
				continue
			}
			stale = append(stale, o)
		}
		h, err := w.write(b.bundle, b.predicateType, stale)
		if err != nil {
			return nil, fmt.Errorf("attaching the %s bundle: %w", b.predicateType, err)
		}
		out = append(out, h)
	}
	return out, nil
}

// pendingBundle is an attestation's bundle, written after the v2 layout.
type pendingBundle struct {
	predicateType string
	bundle        []byte
}
