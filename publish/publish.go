package publish

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/nixdock/nixdock-action/record"
	"github.com/nixdock/nixdock-action/sign"
)

// Request is one publication: an image proven by build records, pushed to
// Destination, signed and attested.
type Request struct {
	// Records are the build records that must prove the image; Policy is
	// what they must show (sign.CheckRecords).
	Records []*record.Record
	Policy  sign.RecordPolicy
	// Image is the image to push, as published: its manifest digest is
	// what the records must prove and what is signed.
	Image v1.Image
	// ImageRecord, when set, is the record Image came with; an image that
	// is not that record's image is refused (ErrNotRecordImage).
	ImageRecord *record.Record
	// Destination is where the image goes (a tag, or a digest that must
	// be Image's).
	Destination name.Reference
	Registry    sign.Registry
	Signer      Signer
	Attest      Attest
	// Progress, when set, hears the bytes pushed (done of total).
	Progress func(done, total int64)
	// OnStage, when set, hears each stage as it begins (for log groups).
	OnStage func(Stage)
}

// Attest is what is attested besides the reproducibility decision.
type Attest struct {
	// SBOM is an SPDX or CycloneDX JSON document (nil: none), SBOMName
	// its file name (the artifact's title, and in errors).
	SBOM     []byte
	SBOMName string
	// SBOMInlineLimit is the largest SBOM attested inline (0:
	// sign.DefaultSBOMInlineLimit; negative: always inline). A larger one
	// is pushed as an OCI artifact and attested by digest.
	SBOMInlineLimit int64
	// Provenance, when set, attests SLSA provenance v1.
	Provenance *Provenance
}

// Provenance is what the SLSA provenance is made of besides the records.
type Provenance struct {
	// FlakeLock is the flake's flake.lock, when the image is a flake.
	FlakeLock      []byte
	NixdockVersion string
	// Run is the GitHub Actions run that signs; nil outside Actions (the
	// provenance then names sign.LocalBuilderID).
	Run *ActionsRun
}

// Stage is a step of Run or Sign.
type Stage struct {
	Name StageName
	// Ref is the image the stage works on: the destination when pushing,
	// the pinned digest when signing.
	Ref string
	// Reproducible is the decision, once the records are checked.
	Reproducible *sign.Reproducible
}

// StageName names a stage.
type StageName string

// The stages, in order.
const (
	StageChecked StageName = "checked"
	StagePushing StageName = "pushing"
	StageSigning StageName = "signing"
)

// Result is what Run published.
type Result struct {
	// Ref is the repository at the published manifest digest.
	Ref name.Digest
	// Reproducible is the decision the reproducibility attestation signs.
	Reproducible *sign.Reproducible
	Push         *sign.PushResult
	Sign         *sign.Result
	// SBOMRef is set when the SBOM was too large to attest inline and was
	// pushed as an artifact.
	SBOMRef *sign.SBOMRef
}

// ErrNotRecordImage means the image to publish is not its record's image.
var ErrNotRecordImage = errors.New("the image is not the one its record describes")

// Run publishes req.Image: checks the records, makes the signer ready,
// pushes, signs and attests, each once, in that order, so nothing is
// pushed that cannot be signed and nothing unproven is pushed (unless the
// policy allows it, which the attestation then says).
func Run(ctx context.Context, req Request) (*Result, error) {
	if req.Image == nil || req.Destination == nil {
		return nil, errors.New("publish: no image or no destination")
	}
	h, err := req.Image.Digest()
	if err != nil {
		return nil, fmt.Errorf("computing the manifest digest: %w", err)
	}
	digest := h.String()
	if r := req.ImageRecord; r != nil && r.Image.ManifestDigest != digest {
		return nil, &RecordMismatchError{Digest: digest, Record: r.Image.ManifestDigest, RecordCompressor: r.Image.Compressor.Name}
	}
	repro, err := check(req.Records, digest, req.Policy, req.OnStage)
	if err != nil {
		return nil, err
	}
	signer, err := req.Signer.Ready(ctx)
	if err != nil {
		return nil, err
	}
	stage(req.OnStage, Stage{Name: StagePushing, Ref: req.Destination.String()})
	pushed, err := sign.Push(ctx, req.Image, req.Destination.String(), sign.PushOptions{Registry: req.Registry, Progress: req.Progress})
	if err != nil {
		return nil, err
	}
	res := &Result{Ref: pushed.Ref, Reproducible: repro, Push: pushed}
	stage(req.OnStage, Stage{Name: StageSigning, Ref: pushed.Ref.String()})
	res.Sign, res.SBOMRef, err = signAndAttest(ctx, pushed.Ref, signer, repro, req.Records, req.Registry, req.Attest)
	if err != nil {
		return nil, err
	}
	return res, nil
}

// SignRequest is the signing of an image already in the registry.
type SignRequest struct {
	Ref      name.Digest
	Records  []*record.Record
	Policy   sign.RecordPolicy
	Registry sign.Registry
	Signer   Signer
	Attest   Attest
	OnStage  func(Stage)
}

// Sign checks the records against req.Ref's digest, makes the signer ready
// and signs and attests: Run without the push.
func Sign(ctx context.Context, req SignRequest) (*Result, error) {
	repro, err := check(req.Records, req.Ref.DigestStr(), req.Policy, req.OnStage)
	if err != nil {
		return nil, err
	}
	signer, err := req.Signer.Ready(ctx)
	if err != nil {
		return nil, err
	}
	stage(req.OnStage, Stage{Name: StageSigning, Ref: req.Ref.String()})
	res := &Result{Ref: req.Ref, Reproducible: repro}
	res.Sign, res.SBOMRef, err = signAndAttest(ctx, req.Ref, signer, repro, req.Records, req.Registry, req.Attest)
	if err != nil {
		return nil, err
	}
	return res, nil
}

// check is the one record check of a publication. An unproven digest is a
// *sign.UnverifiedError unless the policy allows it.
func check(records []*record.Record, digest string, policy sign.RecordPolicy, on func(Stage)) (*sign.Reproducible, error) {
	repro, err := sign.CheckRecords(records, digest, policy)
	if err != nil {
		return nil, err
	}
	stage(on, Stage{Name: StageChecked, Reproducible: repro})
	return repro, nil
}

func stage(on func(Stage), s Stage) {
	if on != nil {
		on(s)
	}
}

// PushRequest is a push on its own (`nixdock push`).
type PushRequest struct {
	// Image is the image as published (image.Describe's).
	Image       v1.Image
	Destination name.Reference
	Registry    sign.Registry
	// Record, when set, must describe Image (ErrNotRecordImage).
	Record   *record.Record
	Progress func(done, total int64)
}

// Push pushes req.Image, refusing an image its record does not describe.
func Push(ctx context.Context, req PushRequest) (*sign.PushResult, error) {
	if r := req.Record; r != nil {
		h, err := req.Image.Digest()
		if err != nil {
			return nil, fmt.Errorf("computing the manifest digest: %w", err)
		}
		if h.String() != r.Image.ManifestDigest {
			return nil, &RecordMismatchError{Digest: h.String(), Record: r.Image.ManifestDigest, RecordCompressor: r.Image.Compressor.Name}
		}
	}
	return sign.Push(ctx, req.Image, req.Destination.String(), sign.PushOptions{Registry: req.Registry, Progress: req.Progress})
}

// RecordMismatchError is an image that is not its record's: its manifest
// digest is not the record's.
type RecordMismatchError struct {
	Digest, Record, RecordCompressor string
	// Compressor is how the image's layers were compressed, when known.
	Compressor string
}

func (e *RecordMismatchError) Error() string {
	return fmt.Sprintf("the image has manifest digest %s, but the record says %s (%s)", e.Digest, e.Record, e.RecordCompressor)
}

func (e *RecordMismatchError) Unwrap() error { return ErrNotRecordImage }
