package cli

import (
	"context"
	"errors"
	"fmt"
	"github.com/nixdock/nixdock-action/agree"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/nixdock/nixdock-action/action"
	"github.com/nixdock/nixdock-action/build"
	"github.com/nixdock/nixdock-action/sign"
)

// comparison is what verify and reproduce found, as the Action renders it.
type comparison struct {
	reproducible bool
	// digest is the manifest digest all builds agree on ("" if they do not).
	digest   string
	verdict  string
	inputs   bool // the builds evaluated the same image .drv
	culprits []action.Culprit
	// markdown and json are the report as `nixdock verify` writes them.
	markdown string
	json     []byte
}

// verify is the verify mode: compare the records of a run's builders.
func (x *actionRun) verify(ctx context.Context) error {
	recs, files, err := x.readRecords(x.in.MinBuilders)
	if err != nil {
		return err
	}
	end := x.r.Group(fmt.Sprintf("comparing %d build records", len(recs)))
	cmp, err := x.compareRecords(ctx, recs, files)
	end()
	if err != nil {
		return err
	}
	if imgs := uploadedImages(files); len(imgs) > 0 {
		if err := x.lintFile(ctx, imgs[0], recs[0].OutPath); err != nil {
			return err
		}
	}
	return x.report(cmp, recs)
}

// reproduce is the reproduce mode: `nixdock reproduce` in one job.
func (x *actionRun) reproduce(ctx context.Context) error {
	dir, err := x.freshDir("reproduce")
	if err != nil {
		return err
	}
	// `nixdock reproduce` opens its own log group (groups do not nest).
	cmp, recs, err := x.reproduceBuilds(ctx, dir)
	if err != nil {
		return err
	}
	if err := x.report(cmp, recs); err != nil {
		return err
	}
	_, err = x.sbom(ctx, filepath.Join(dir, "a.json"), dir, cmp.digest)
	return err
}

// report writes the comparison: report file, outputs, summary and one
// annotation per culprit. Unreproducible builds end with exit code 1, so
// the step (and the pull request check) fails.
func (x *actionRun) report(cmp *comparison, recs []*build.Record) error {
	dir, err := x.r.TempDir()
	if err != nil {
		return failure(err)
	}
	reportPath := filepath.Join(dir, "report.json")
	if err := os.WriteFile(reportPath, cmp.json, 0o644); err != nil {
		return failure(fmt.Errorf("writing the report: %w", err))
	}
	x.sum.Digest, x.sum.Culprits, x.sum.Details = cmp.digest, cmp.culprits, cmp.markdown
	x.summarizeBuilders(recs)
	if len(recs) > 0 && x.file == "" {
		x.file = x.recordFile(recs[0])
	}
	x.sum.Files["report"] = reportPath
	switch {
	case cmp.reproducible:
		x.sum.Verdict = action.VerdictReproducible
	case !cmp.inputs:
		x.sum.Verdict = action.VerdictInputsDiffer
	default:
		x.sum.Verdict = action.VerdictUnreproducible
	}
	if err := x.setOutputs(action.OutputReproducible, fmt.Sprint(cmp.reproducible),
		action.OutputReport, reportPath, action.OutputDigest, cmp.digest); err != nil {
		return err
	}
	for _, a := range action.CulpritAnnotations(cmp.culprits, x.file) {
		x.r.Error(a)
	}
	x.a.ui.Infof("%s", cmp.verdict)
	if !cmp.reproducible {
		if len(cmp.culprits) == 0 {
			x.r.Error(action.Annotation{File: x.file, Title: "nixdock: " + string(x.sum.Verdict), Message: cmp.verdict})
		}
		return errDiffers
	}
	return nil
}

// publish is the publish mode: push, sign and attest the image the
// builders agreed on, running `nixdock push` and `nixdock sign`. The
// records are checked with the check sign makes before anything is pushed,
// so an unproven image never reaches the registry (unless allow-unverified).
func (x *actionRun) publish(ctx context.Context) error {
	min := x.in.MinBuilders
	if x.in.AllowUnverified {
		min = 1
	}
	recs, files, err := x.readRecords(min)
	if err != nil {
		return err
	}
	// The digest to publish is the one the builders that count agreed on
	// (agree decides; the first record's when none count, to be refused).
	digest := recs[0].Image.ManifestDigest
	if d := agree.Decide(recs, agree.Policy{MinBuilders: 1}); d.Digests.Manifest != "" {
		digest = d.Digests.Manifest
	}
	repro, err := sign.CheckRecords(recs, digest, sign.RecordPolicy{MinBuilders: x.in.MinBuilders, AllowUnverified: x.in.AllowUnverified})
	var unverified *sign.UnverifiedError
	if errors.As(err, &unverified) {
		return failure(fmt.Errorf("refusing to publish %s: %s (set allow-unverified: true to publish anyway)", digest, strings.Join(unverified.Reasons, "; ")))
	} else if err != nil {
		return failure(err)
	}
	if repro.Verdict != sign.VerdictReproducible {
		x.r.Notice("nixdock: unverified", "publishing "+digest+" without proof of reproducibility (allow-unverified): "+strings.Join(repro.Reasons, "; "))
	}
	src, record, err := imageLayoutFor(files)
	if err != nil {
		return failure(err)
	}
	ref, err := name.ParseReference(x.in.Image)
	if err != nil {
		return failure(fmt.Errorf("input image: %q is not an image reference: %w", x.in.Image, err))
	}
	pinned := ref.Context().Name() + "@" + digest
	if err := x.credentials(); err != nil {
		return failure(err)
	}
	dir, err := x.freshDir("publish")
	if err != nil {
		return err
	}
	sbomFile, err := x.sbom(ctx, record, dir, digest)
	if err != nil {
		return err
	}
	end := x.r.Group("pushing " + x.in.Image)
	err = x.subcommand(ctx, "push", src, x.in.Image, "--record", record)
	end()
	if err != nil {
		return err
	}
	end = x.r.Group("signing and attesting " + pinned)
	err = x.subcommand(ctx, x.signArgs(pinned, files, sbomFile)...)
	end()
	if err != nil {
		return err
	}
	x.sum.Verdict, x.sum.Digest, x.sum.Image = action.VerdictPublished, digest, pinned
	x.summarizeBuilders(recs)
	x.sum.VerifyCommand = action.CosignVerifyCommand(pinned, x.in.Key, x.r.Getenv("GITHUB_REPOSITORY"), x.r.Getenv(action.EnvSignerWorkflowRef))
	// The layout just pushed is the published image byte for byte (push
	// checked its digest against the record), so it is linted locally.
	if err := x.lintFile(ctx, src, pinned); err != nil {
		return err
	}
	return x.setOutputs(action.OutputImage, pinned, action.OutputDigest, digest,
		action.OutputReproducible, fmt.Sprint(repro.Verdict == sign.VerdictReproducible))
}

// summarizeBuilders puts the records' installable and one row per builder
// in the summary.
func (x *actionRun) summarizeBuilders(recs []*build.Record) {
	if len(recs) > 0 {
		x.sum.Installable = recs[0].Installable.String()
	}
	for _, rec := range recs {
		x.sum.Builders = append(x.sum.Builders, builderRow(rec))
	}
}

// signArgs are the arguments of `nixdock sign` for the inputs.
func (x *actionRun) signArgs(pinned string, records []string, sbomFile string) []string {
	args := []string{"sign", pinned, "--provenance", "--min-builders", fmt.Sprint(x.in.MinBuilders)}
	if x.in.Key != "" {
		args = append(args, "--key", x.in.Key)
	} else {
		args = append(args, "--keyless")
	}
	for _, f := range records {
		args = append(args, "--records", f)
	}
	if sbomFile != "" {
		args = append(args, "--attest-sbom", sbomFile)
	}
	if x.in.AllowUnverified {
		args = append(args, "--allow-unverified")
	}
	return args
}

// imageLayoutFor finds the OCI layout a build mode uploaded next to its
// record (the first in record order), and that record.
func imageLayoutFor(recordFiles []string) (string, string, error) {
	for _, f := range recordFiles {
		if dir, ok := uploadedImage(f); ok {
			return dir, f, nil
		}
	}
	return "", "", fmt.Errorf("input records: no image next to the records (%s): run the build mode with upload-image: true", strings.Join(recordFiles, ", "))
}

// credentials hands the secret inputs to push and sign the way they read
// them: GITHUB_TOKEN (ghcr.io, sign.Keychain) and COSIGN_PASSWORD (the
// only place the key's password is read from).
func (x *actionRun) credentials() error {
	if x.in.GitHubToken != "" {
		if err := os.Setenv("GITHUB_TOKEN", x.in.GitHubToken); err != nil {
			return err
		}
	}
	if x.in.Key != "" {
		return os.Setenv(sign.PasswordEnv, x.in.CosignPassword)
	}
	return nil
}

// recordFile is where annotations point in verify and publish, which have
// no installable input: the Nix file (or flake.nix) the record was built
// from, under working-directory.
func (x *actionRun) recordFile(rec *build.Record) string {
	in := action.Inputs{File: rec.Installable.File, Installable: rec.Installable.Flake, WorkingDirectory: x.in.WorkingDirectory}
	return in.ManifestFile(x.r.Workspace())
}
