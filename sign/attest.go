package sign

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/sigstore/cosign/v2/pkg/oci"
)

// DefaultSBOMInlineLimit is the largest SBOM attested inline. The public
// Rekor refuses entries of a few MiB (sigstore/cosign#3599: a 3.5 MB SBOM
// attestation fails), and an attestation is one entry; larger SBOMs are
// pushed as an OCI artifact and attested by digest (PredicateSBOMRef).
const DefaultSBOMInlineLimit = 1 << 20

// SBOMOptions tune SBOMAttestation.
type SBOMOptions struct {
	Registry Registry
	// InlineLimit is the largest SBOM attested inline; 0 is
	// DefaultSBOMInlineLimit, negative means always inline.
	InlineLimit int64
	// FileName is recorded as the artifact layer's title.
	FileName string
}

// SBOMAttestation returns the attestation for an SBOM file: the SBOM itself
// as the predicate when it is small, else (after pushing the SBOM as an OCI
// artifact whose subject is ref) an SBOMRef predicate naming its digest.
func SBOMAttestation(ctx context.Context, ref name.Digest, data []byte, opts SBOMOptions) (Attestation, *SBOMRef, error) {
	pt, mt, err := DetectSBOM(data)
	if err != nil {
		return Attestation{}, nil, err
	}
	limit := opts.InlineLimit
	if limit == 0 {
		limit = DefaultSBOMInlineLimit
	}
	if limit < 0 || int64(len(data)) <= limit {
		// The SBOM is the predicate, byte for byte as far as JSON allows.
		compact, err := compactJSON(data)
		if err != nil {
			return Attestation{}, nil, err
		}
		return Attestation{PredicateType: pt, Predicate: compact}, nil, nil
	}
	artifact, err := PushSBOMArtifact(ctx, ref, data, mt, opts)
	if err != nil {
		return Attestation{}, nil, fmt.Errorf("pushing the SBOM as an OCI artifact: %w", err)
	}
	sum := sha256.Sum256(data)
	sr := &SBOMRef{
		SBOMPredicateType: pt, MediaType: mt, Digest: "sha256:" + hex.EncodeToString(sum[:]),
		Size: int64(len(data)), Artifact: artifact.String(), InlineLimit: limit,
	}
	p, err := marshal(sr)
	if err != nil {
		return Attestation{}, nil, err
	}
	return Attestation{PredicateType: PredicateSBOMRef, Predicate: p}, sr, nil
}

// compactJSON re-encodes a JSON document with sorted keys and no
// whitespace. Numbers stay as written (json.Number): decoding them as
// float64 would round integers past 2^53 and change what is signed.
func compactJSON(data []byte) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("SBOM has data after its JSON document")
	}
	return marshal(v)
}

// emptyConfig is the OCI empty descriptor's content, "{}".
var emptyConfig = []byte("{}")

// SBOMTag is the tag an SBOM artifact gets, cosign's convention for SBOMs
// (sha256-<hex>.sbom), for registries without the referrers API.
func SBOMTag(ref name.Digest) (name.Tag, error) {
	h, err := digestHex(ref)
	if err != nil {
		return name.Tag{}, err
	}
	return ref.Repository.Tag("sha256-" + h + ".sbom"), nil
}

// PushSBOMArtifact pushes data as an OCI artifact (artifactType mt, one
// layer) whose subject is ref, tagged sha256-<hex>.sbom, and returns its
// digest reference.
func PushSBOMArtifact(ctx context.Context, ref name.Digest, data []byte, mt string, opts SBOMOptions) (name.Digest, error) {
	ropts := opts.Registry.RemoteOptions(ctx)
	subject, err := remote.Head(ref, ropts...)
	if err != nil {
		return name.Digest{}, fmt.Errorf("reading %s: %w", ref, err)
	}
	cfg := static.NewLayer(emptyConfig, emptyMediaType)
	layer := static.NewLayer(data, types.MediaType(mt))
	for _, l := range []v1.Layer{cfg, layer} {
		if err := remote.WriteLayer(ref.Repository, l, ropts...); err != nil {
			return name.Digest{}, fmt.Errorf("uploading blob: %w", err)
		}
	}
	title := opts.FileName
	if title == "" {
		title = "sbom.json"
	}
	m := v1.Manifest{
		SchemaVersion: 2, MediaType: types.OCIManifestSchema1, ArtifactType: mt,
		Config:  descriptorOf(cfg, emptyMediaType),
		Layers:  []v1.Descriptor{descriptorOf(layer, types.MediaType(mt))},
		Subject: &v1.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size},
	}
	m.Layers[0].Annotations = map[string]string{"org.opencontainers.image.title": title}
	raw, err := marshal(m)
	if err != nil {
		return name.Digest{}, err
	}
	tag, err := SBOMTag(ref)
	if err != nil {
		return name.Digest{}, err
	}
	if err := remote.Put(tag, rawManifest{raw: raw}, ropts...); err != nil {
		return name.Digest{}, fmt.Errorf("writing manifest %s: %w", tag, err)
	}
	sum := sha256.Sum256(raw)
	return ref.Repository.Digest("sha256:" + hex.EncodeToString(sum[:])), nil
}

func descriptorOf(l v1.Layer, mt types.MediaType) v1.Descriptor {
	d, _ := l.Digest() // static layers cannot fail
	size, _ := l.Size()
	return v1.Descriptor{MediaType: mt, Digest: d, Size: size}
}

// rawManifest is a manifest to put as is.
type rawManifest struct{ raw []byte }

func (m rawManifest) RawManifest() ([]byte, error)        { return m.raw, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }

// replaceOp replaces an earlier attestation of the same predicate type, as
// `cosign attest --replace` does, without cosign's printing to stderr.
type replaceOp struct{ predicateType string }

func (r replaceOp) Replace(base oci.Signatures, add oci.Signature) (oci.Signatures, error) {
	old, err := base.Get()
	if err != nil {
		return nil, err
	}
	keep := []oci.Signature{add}
	for _, s := range old {
		pt, err := predicateTypeOf(s)
		if err != nil {
			return nil, err
		}
		if pt != r.predicateType {
			keep = append(keep, s)
		}
	}
	return &replaced{Signatures: base, sigs: keep}, nil
}

type replaced struct {
	oci.Signatures
	sigs []oci.Signature
}

func (r *replaced) Get() ([]oci.Signature, error) { return r.sigs, nil }

// predicateTypeOf reads the predicate type out of an attestation's DSSE
// envelope (without verifying it: this only decides what to replace).
func predicateTypeOf(s oci.Signature) (string, error) {
	p, err := s.Payload()
	if err != nil {
		return "", fmt.Errorf("reading attestation: %w", err)
	}
	st, err := statementOf(p)
	if err != nil {
		return "", err
	}
	return st.PredicateType, nil
}

// statementOf decodes the in-toto statement in a DSSE envelope.
func statementOf(envelope []byte) (*Statement, error) {
	var env struct {
		PayloadType string `json:"payloadType"`
		Payload     string `json:"payload"`
	}
	if err := json.Unmarshal(envelope, &env); err != nil {
		return nil, fmt.Errorf("attestation is not a DSSE envelope: %w", err)
	}
	raw, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		return nil, fmt.Errorf("attestation payload: %w", err)
	}
	var st Statement
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, fmt.Errorf("attestation payload is not an in-toto statement: %w", err)
	}
	return &st, nil
}
