package action

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/internal/humanize"
	"github.com/nixdock/nixdock-action/internal/version"
	"github.com/nixdock/nixdock-action/publish"
	"github.com/nixdock/nixdock-action/sign"
)

// publish is the publish mode: push, sign and attest the image a builder
// uploaded next to its record, with publish.Run. The records are parsed
// once and checked once (in Run, before anything is pushed, so an unproven
// image never reaches the registry unless allow-unverified); the image is
// opened once and linted from the same handle after the push. Secrets go
// down as values: nothing is put in the environment.
func (x *run) publish(ctx context.Context) error {
	signer := x.r.Getenv(EnvSignerWorkflowRef)
	if signer != "" && !workflowRef.MatchString(signer) {
		return usage(fmt.Errorf("%s %q is not OWNER/REPO/.github/workflows/FILE@REF", EnvSignerWorkflowRef, signer))
	}
	min := x.in.MinBuilders
	if x.in.AllowUnverified {
		min = 1
	}
	recs, files, err := x.readRecords(min)
	if err != nil {
		return err
	}
	src, i, err := imageLayoutFor(files)
	if err != nil {
		return err
	}
	ref, err := name.ParseReference(x.in.Image)
	if err != nil {
		return fmt.Errorf("input image: %q is not an image reference: %w", x.in.Image, err)
	}
	img, err := image.Open(ctx, src, image.Options{Stderr: x.log.Writer()})
	if err != nil {
		return err
	}
	defer img.Close()
	pub := img.Image
	if x.req.WrapPublished != nil {
		pub = x.req.WrapPublished(pub)
	}
	h, err := pub.Digest()
	if err != nil {
		return fmt.Errorf("the image next to %s: %w", files[i], err)
	}
	digest := h.String()
	dir, err := x.freshDir("publish")
	if err != nil {
		return err
	}
	sbomFile, sbomData, err := x.sbom(recs[i], dir, digest)
	if err != nil {
		return err
	}
	prov, err := publish.ProvenanceOf(recs, "", version.Get().Version, x.r.Getenv)
	if err != nil {
		return err
	}
	req := publish.Request{
		Records: recs, Image: pub, ImageRecord: recs[i], Destination: ref, Signer: x.signer(),
		Policy: sign.RecordPolicy{MinBuilders: x.in.MinBuilders, AllowUnverified: x.in.AllowUnverified,
			Identities: x.identities, RequireSigned: x.in.RequireSigned},
		Registry: sign.Registry{GitHubToken: x.githubToken(), GitHubActor: x.r.Getenv("GITHUB_ACTOR")},
		Attest:   publish.Attest{SBOM: sbomData, SBOMName: filepath.Base(sbomFile), Provenance: prov},
		Progress: x.pushProgress(x.in.Image),
	}
	end := func() {}
	req.OnStage = func(s publish.Stage) {
		end()
		switch s.Name {
		case publish.StageChecked:
			if s.Reproducible.Verdict != sign.VerdictReproducible {
				x.r.Notice("nixdock: unverified", "publishing "+digest+" without proof of reproducibility (allow-unverified): "+strings.Join(s.Reproducible.Reasons, "; "))
			}
			end = func() {}
		case publish.StagePushing:
			end = x.r.Group("pushing " + x.in.Image)
		case publish.StageSigning:
			x.log.Infof("pushed %s", s.Ref)
			end = x.r.Group("signing and attesting " + s.Ref)
		}
	}
	res, err := publish.Run(ctx, req)
	if err == nil {
		x.log.Infof("signed %s\n  signature     %s\n  attestations  %s (%s)",
			res.Ref, res.Sign.SignatureTag, res.Sign.AttestationTag, strings.Join(res.Sign.PredicateTypes, ", "))
	}
	end()
	if err != nil {
		return publishError(err, digest, files[i])
	}
	if err := x.sbomOutput(sbomFile); err != nil {
		return err
	}
	pinned := res.Ref.String()
	x.sum.Verdict, x.sum.Digest, x.sum.Image = VerdictPublished, digest, pinned
	x.summarizeBuilders(recs)
	x.sum.VerifyCommand = CosignVerifyCommand(pinned, x.in.Key, x.r.Getenv("GITHUB_REPOSITORY"), signer)
	// The builders' identity is part of the check only when every counted
	// record had to be signed by it.
	builders := ""
	if x.in.RequireSigned {
		builders = x.r.Getenv(EnvBuilderWorkflow)
	}
	x.sum.ReproducibleCommand = NixdockVerifyCommand(pinned, x.in.Key, signer, builders, x.in.MinBuilders)
	// The image just pushed is the published image byte for byte (its
	// digest is the record's), so it is linted from the same handle.
	if err := x.lintImage(ctx, pub, pinned, string(img.Form), true); err != nil {
		return err
	}
	verified := res.Reproducible.Verdict == sign.VerdictReproducible
	return x.setOutputs(OutputImage, pinned, OutputDigest, digest,
		OutputReproducible, fmt.Sprint(verified))
}

// publishError says, in the Action's words, how to change a refusal.
func publishError(err error, digest, record string) error {
	var unverified *sign.UnverifiedError
	if errors.As(err, &unverified) {
		return fmt.Errorf("refusing to publish %s: %s (set allow-unverified: true to publish anyway)", digest, strings.Join(unverified.Reasons, "; "))
	}
	if errors.Is(err, publish.ErrNotRecordImage) {
		return fmt.Errorf("the image next to %s: %w: not publishing an image the record does not describe", record, err)
	}
	return err
}

// signer is the signer the inputs name: the key file (read once the
// records are checked) and the cosign-password input, or keyless.
func (x *run) signer() publish.Signer {
	if x.in.Key == "" {
		return publish.Signer{Keyless: &sign.KeylessOptions{
			FulcioURL: sign.DefaultFulcioURL, RekorURL: sign.DefaultRekorURL, Mask: x.r.Mask}}
	}
	return publish.Signer{KeyFile: x.in.Key, Password: []byte(x.in.CosignPassword),
		PasswordFrom: "the cosign-password input"}
}

// githubToken is the github-token input, else the job's GITHUB_TOKEN.
func (x *run) githubToken() string {
	if x.in.GitHubToken != "" {
		return x.in.GitHubToken
	}
	return x.r.Getenv("GITHUB_TOKEN")
}

// pushProgress reports a push to dst: one line per 10% of the bytes.
func (x *run) pushProgress(dst string) func(done, total int64) {
	lastTenth := int64(-1)
	return func(done, total int64) {
		if tenth := done * 10 / total; tenth != lastTenth {
			lastTenth = tenth
			x.log.Progress("pushing %s: %d%% (%s of %s)", dst, done*100/total, humanize.Bytes(done), humanize.Bytes(total))
		}
	}
}

// imageLayoutFor finds the OCI layout a build mode uploaded next to its
// record (the first in record order), and that record's index.
func imageLayoutFor(recordFiles []string) (string, int, error) {
	for i, f := range recordFiles {
		if dir, ok := uploadedImage(f); ok {
			return dir, i, nil
		}
	}
	return "", 0, fmt.Errorf("input records: no image next to the records (%s): run the build mode with upload-image: true", strings.Join(recordFiles, ", "))
}
