package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/nixdock/nixdock-action/action"
	"github.com/nixdock/nixdock-action/build"
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
	// Each uploaded image is opened once: for the deep diff when the
	// records differ, and the first one for lint.
	uploaded := uploadedImages(files)
	imgs := x.a.recordImages(recs, uploaded)
	defer imgs.close()
	end := x.r.Group(fmt.Sprintf("comparing %d build records", len(recs)))
	cmp, err := x.compareRecords(ctx, recs, imgs)
	end()
	if err != nil {
		return err
	}
	if len(uploaded) > 0 {
		if err := x.lintRecordImage(ctx, imgs, recs[0].OutPath); err != nil {
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
	sbomFile, _, err := x.sbom(recs[0], dir, cmp.digest)
	if err != nil {
		return err
	}
	return x.sbomOutput(sbomFile)
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

// recordFile is where annotations point in verify and publish, which have
// no installable input: the Nix file (or flake.nix) the record was built
// from, under working-directory.
func (x *actionRun) recordFile(rec *build.Record) string {
	in := action.Inputs{File: rec.Installable.File, Installable: rec.Installable.Flake, WorkingDirectory: x.in.WorkingDirectory}
	return in.ManifestFile(x.r.Workspace())
}
