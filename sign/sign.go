package sign

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sigstore/cosign/v2/pkg/cosign"
	cbundle "github.com/sigstore/cosign/v2/pkg/cosign/bundle"
	cremote "github.com/sigstore/cosign/v2/pkg/cosign/remote"
	"github.com/sigstore/cosign/v2/pkg/oci"
	"github.com/sigstore/cosign/v2/pkg/oci/mutate"
	ociremote "github.com/sigstore/cosign/v2/pkg/oci/remote"
	"github.com/sigstore/cosign/v2/pkg/oci/static"
	ctypes "github.com/sigstore/cosign/v2/pkg/types"
	"github.com/sigstore/rekor/pkg/generated/client"
	"github.com/sigstore/rekor/pkg/generated/models"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/dsse"
	sigpayload "github.com/sigstore/sigstore/pkg/signature/payload"
)

// Signer signs with a key (loaded from a cosign key file) or with an
// ephemeral key and a Fulcio certificate (keyless).
type Signer struct {
	SV signature.SignerVerifier
	// Cert and Chain are PEM; set for keyless signing.
	Cert, Chain []byte
	// Rekor, when set, receives every signature and attestation, and the
	// entry is attached as cosign's bundle annotation.
	Rekor *client.Rekor
	// JobWorkflowRef is the OIDC token's job_workflow_ref claim when
	// keyless in GitHub Actions: the workflow that signs (for a reusable
	// workflow, the called one, which Fulcio names as the Build Signer).
	JobWorkflowRef string
}

// signerPEM is what Rekor records as the signer: the certificate when
// keyless, else the public key.
func (s *Signer) signerPEM() ([]byte, error) {
	if len(s.Cert) > 0 {
		return s.Cert, nil
	}
	pub, err := s.SV.PublicKey()
	if err != nil {
		return nil, err
	}
	return cryptoutils.MarshalPublicKeyToPEM(pub)
}

// Options tune Sign.
type Options struct {
	Registry Registry
	Signer   *Signer
	// Attestations are attached after the signature, one DSSE envelope
	// each; an earlier attestation of the same predicate type is replaced.
	Attestations []Attestation
}

// Result says what Sign attached.
type Result struct {
	Ref            name.Digest
	SignatureTag   name.Tag
	AttestationTag name.Tag
	// PredicateTypes are the attested predicate types, in order.
	PredicateTypes []string
	// Tlog is true when the entries were logged in Rekor.
	Tlog bool
	// Bundles are the referrer manifests holding the Sigstore bundles
	// (cosign v3's layout): the signature's, then one per attestation.
	Bundles []name.Digest
}

// Sign signs ref (which must name a digest present in the registry) with a
// cosign simple-signing payload, and attaches opts.Attestations as signed
// in-toto statements, under the tags cosign uses (sha256-<hex>.sig and
// sha256-<hex>.att) so that `cosign verify` and `cosign verify-attestation`
// find them; then the same as Sigstore bundles in referrers of ref, which
// cosign v3 reads first (writeBundles).
func Sign(ctx context.Context, ref name.Digest, opts Options) (*Result, error) {
	if opts.Signer == nil || opts.Signer.SV == nil {
		return nil, errors.New("no signer")
	}
	ropts := opts.Registry.RemoteOptions(ctx)
	subject, err := remote.Head(ref, ropts...)
	if err != nil {
		return nil, fmt.Errorf("image %s is not in the registry (push it first): %w", ref, err)
	}
	oopts := []ociremote.Option{ociremote.WithRemoteOptions(ropts...)}
	res := &Result{Ref: ref, Tlog: opts.Signer.Rekor != nil}
	if res.SignatureTag, err = ociremote.SignatureTag(ref, oopts...); err != nil {
		return nil, err
	}
	if res.AttestationTag, err = ociremote.AttestationTag(ref, oopts...); err != nil {
		return nil, err
	}
	if err := signImage(ctx, ref, opts.Signer, oopts); err != nil {
		return nil, err
	}
	sigBundle, err := signatureBundle(ctx, ref, opts.Signer)
	if err != nil {
		return nil, err
	}
	var se oci.SignedEntity = ociremote.SignedUnknown(ref, oopts...)
	var bundles []pendingBundle
	for _, a := range opts.Attestations {
		att, bundle, err := newAttestation(ctx, ref, a, opts.Signer)
		if err != nil {
			return nil, fmt.Errorf("attesting %s: %w", a.PredicateType, err)
		}
		se, err = mutate.AttachAttestationToEntity(se, att, mutate.WithReplaceOp(replaceOp{a.PredicateType}))
		if err != nil {
			return nil, fmt.Errorf("attaching %s: %w", a.PredicateType, err)
		}
		res.PredicateTypes = append(res.PredicateTypes, a.PredicateType)
		bundles = append(bundles, pendingBundle{predicateType: a.PredicateType, bundle: bundle})
	}
	if len(opts.Attestations) > 0 {
		if err := ociremote.WriteAttestations(ref.Repository, se, oopts...); err != nil {
			return nil, fmt.Errorf("writing attestations to %s: %w", res.AttestationTag, err)
		}
	}
	w := referrers{ref: ref, subject: v1.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size}, ropts: ropts}
	hs, err := writeBundles(w, sigBundle, bundles)
	if err != nil {
		return nil, err
	}
	for _, h := range hs {
		res.Bundles = append(res.Bundles, ref.Repository.Digest(h.String()))
	}
	return res, nil
}

// signImage attaches a simple-signing signature, unless one by the same
// signer over the same payload is already there (cosign's dupe detector).
func signImage(ctx context.Context, ref name.Digest, s *Signer, oopts []ociremote.Option) error {
	payload, err := (&sigpayload.Cosign{Image: ref}).MarshalJSON()
	if err != nil {
		return fmt.Errorf("signature payload: %w", err)
	}
	raw, err := s.SV.SignMessage(bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("signing: %w", err)
	}
	sopts, err := s.staticOptions(ctx, func(c *client.Rekor, pem []byte) (*models.LogEntryAnon, error) {
		h := sha256.New()
		h.Write(payload)
		return cosign.TLogUpload(ctx, c, raw, h, pem)
	})
	if err != nil {
		return err
	}
	sig, err := static.NewSignature(payload, base64.StdEncoding.EncodeToString(raw), sopts...)
	if err != nil {
		return err
	}
	se, err := mutate.AttachSignatureToEntity(ociremote.SignedUnknown(ref, oopts...), sig,
		mutate.WithDupeDetector(cremote.NewDupeDetector(s.SV)))
	if err != nil {
		return fmt.Errorf("attaching signature: %w", err)
	}
	if err := ociremote.WriteSignatures(ref.Repository, se, oopts...); err != nil {
		return fmt.Errorf("writing signature of %s: %w", ref, err)
	}
	return nil
}

// staticOptions are the certificate and Rekor bundle of a signature layer;
// upload logs the signature when the signer has a Rekor client.
func (s *Signer) staticOptions(ctx context.Context, upload func(*client.Rekor, []byte) (*models.LogEntryAnon, error)) ([]static.Option, error) {
	var opts []static.Option
	if len(s.Cert) > 0 {
		opts = append(opts, static.WithCertChain(s.Cert, s.Chain))
	}
	if s.Rekor == nil {
		return opts, nil
	}
	pem, err := s.signerPEM()
	if err != nil {
		return nil, err
	}
	entry, err := upload(s.Rekor, pem)
	if err != nil {
		return nil, fmt.Errorf("uploading to the transparency log (Rekor): %w", err)
	}
	return append(opts, static.WithBundle(cbundle.EntryToBundle(entry))), nil
}

// Statement wraps a predicate in an in-toto statement about ref.
func NewStatement(ref name.Digest, a Attestation) ([]byte, error) {
	h, err := digestHex(ref)
	if err != nil {
		return nil, err
	}
	st := Statement{
		Type: StatementType, PredicateType: a.PredicateType,
		Subject:   []Subject{{Name: ref.Repository.String(), Digest: map[string]string{"sha256": h}}},
		Predicate: a.Predicate,
	}
	return marshal(st)
}

func digestHex(ref name.Digest) (string, error) {
	d := ref.DigestStr()
	if len(d) != len("sha256:")+64 || d[:7] != "sha256:" {
		return "", fmt.Errorf("digest %q is not sha256", d)
	}
	return d[7:], nil
}

// newAttestation signs a statement as a DSSE envelope, as `cosign attest`
// does (layer media type application/vnd.dsse.envelope.v1+json, the
// predicateType annotation), and returns with it the envelope's Sigstore
// bundle (cosign v3's layout).
func newAttestation(ctx context.Context, ref name.Digest, a Attestation, s *Signer) (oci.Signature, []byte, error) {
	st, err := NewStatement(ref, a)
	if err != nil {
		return nil, nil, err
	}
	env, err := dsse.WrapSigner(s.SV, ctypes.IntotoPayloadType).SignMessage(bytes.NewReader(st))
	if err != nil {
		return nil, nil, fmt.Errorf("signing statement: %w", err)
	}
	var entry *models.LogEntryAnon
	sopts, err := s.staticOptions(ctx, func(c *client.Rekor, pem []byte) (*models.LogEntryAnon, error) {
		entry, err = cosign.TLogUploadDSSEEnvelope(ctx, c, env, pem)
		return entry, err
	})
	if err != nil {
		return nil, nil, err
	}
	bundle, err := newBundle(s, st, env, entry)
	if err != nil {
		return nil, nil, err
	}
	sopts = append(sopts,
		static.WithLayerMediaType(ctypes.DssePayloadType),
		static.WithAnnotations(map[string]string{"predicateType": a.PredicateType}))
	att, err := static.NewAttestation(env, sopts...)
	return att, bundle, err
}
