package action

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/nixdock/nixdock-action/agree"
	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/internal/storepath"
	"github.com/nixdock/nixdock-action/internal/version"
	"github.com/nixdock/nixdock-action/record"
	"github.com/nixdock/nixdock-action/reproduce"
	"github.com/nixdock/nixdock-action/verify"
)

// comparison is what verify and reproduce found, as the Action renders it.
type comparison struct {
	reproducible bool
	// digest is the manifest digest all builds agree on ("" if they do not).
	digest   string
	verdict  string
	inputs   bool // the builds evaluated the same image .drv
	culprits []Culprit
	// markdown and json are the report as `nixdock verify` writes them.
	markdown string
	json     []byte
}

// verify is the verify mode: compare the records of a run's builders with
// verify.Records, once. Each uploaded image is opened only when needed and
// once: for the deep diff when the records differ, and the first one for
// lint.
func (x *run) verify(ctx context.Context) error {
	recs, files, err := x.readRecords(x.in.MinBuilders)
	if err != nil {
		return err
	}
	uploaded := uploadedImages(files)
	imgs := x.recordImages(recs, uploaded)
	defer imgs.Close()
	end := x.r.Group(fmt.Sprintf("comparing %d build records", len(recs)))
	rep, err := verify.Records(ctx, recs, verify.Options{OnLayer: x.layerProgress, OpenImage: imgs.Open,
		Policy: agree.Policy{MinBuilders: x.in.MinBuilders, Identities: x.identities, RequireSigned: x.in.RequireSigned}})
	var cmp *comparison
	if err == nil {
		cmp, err = comparisonOf(rep, rep, recs)
	}
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

func (x *run) layerProgress(done, total int) {
	x.log.Progress("compared layer pair %d/%d", done, total)
}

// reproduce is the reproduce mode: reproduce.Run in one job.
func (x *run) reproduce(ctx context.Context) error {
	dir, err := x.freshDir("reproduce")
	if err != nil {
		return err
	}
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

// reproduceBuilds runs reproduce.Run (its options filled from the inputs)
// with the two records written to dir.
func (x *run) reproduceBuilds(ctx context.Context, dir string) (*comparison, []*record.Record, error) {
	inst, nixOpts, err := x.nixInputs()
	if err != nil {
		return nil, nil, err
	}
	comp, err := image.ParseCompression(x.in.Compression)
	if err != nil {
		return nil, nil, inputErr(InputCompression, "%s", err)
	}
	opts := reproduce.Options{Installable: inst, NixOptions: nixOpts, NixEnv: x.in.NixEnv, Compression: comp,
		NixdockVersion: version.Get().String(), Log: x.log.Writer(),
		Progress: func(s string) { x.log.Progress("%s", s) }}
	var lintErr error
	opts.InspectImage = func(ctx context.Context, img *image.Image) {
		// Build A's image, linted while its store exists, named by its
		// store path rather than the temporary store's directory.
		lintErr = x.lintImage(ctx, img.Image, storePathOf(img.Source), string(img.Form), false)
	}
	end := x.r.Group("nixdock reproduce: two isolated builds")
	res, err := reproduce.Run(ctx, opts)
	end()
	if err != nil {
		return nil, nil, err
	}
	for i, name := range []string{"a.json", "b.json"} {
		if err := record.Write(filepath.Join(dir, name), res.Records[i]); err != nil {
			return nil, nil, err
		}
	}
	if lintErr != nil {
		return nil, nil, lintErr
	}
	recs := []*record.Record{res.Records[0], res.Records[1]}
	cmp, err := comparisonOf(res.Report.Report, res.Report, recs)
	if err != nil {
		return nil, nil, err
	}
	return cmp, recs, nil
}

// report writes the comparison: report file, outputs, summary and one
// annotation per culprit. Unreproducible builds end with ErrDiffers (exit
// code 1), so the step (and the pull request check) fails.
func (x *run) report(cmp *comparison, recs []*record.Record) error {
	dir, err := x.r.TempDir()
	if err != nil {
		return err
	}
	reportPath := filepath.Join(dir, "report.json")
	if err := os.WriteFile(reportPath, cmp.json, 0o644); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	x.sum.Digest, x.sum.Culprits, x.sum.Details = cmp.digest, cmp.culprits, cmp.markdown
	x.summarizeBuilders(recs)
	if len(recs) > 0 && x.file == "" {
		x.file = x.recordFile(recs[0])
	}
	x.sum.Files["report"] = reportPath
	switch {
	case cmp.reproducible:
		x.sum.Verdict = VerdictReproducible
	case !cmp.inputs:
		x.sum.Verdict = VerdictInputsDiffer
	default:
		x.sum.Verdict = VerdictUnreproducible
	}
	if err := x.setOutputs(OutputReproducible, fmt.Sprint(cmp.reproducible),
		OutputReport, reportPath, OutputDigest, cmp.digest); err != nil {
		return err
	}
	for _, a := range CulpritAnnotations(cmp.culprits, x.file) {
		x.r.Error(a)
	}
	x.log.Infof("%s", cmp.verdict)
	if !cmp.reproducible {
		if len(cmp.culprits) == 0 {
			x.r.Error(Annotation{File: x.file, Title: "nixdock: " + string(x.sum.Verdict), Message: cmp.verdict})
		}
		return ErrDiffers
	}
	return nil
}

// reportWriter renders a report as the commands do: verify.Report, or
// reproduce.Report around one.
type reportWriter interface {
	WriteJSON(io.Writer) error
	WriteMarkdown(io.Writer) error
}

// comparisonOf turns a verifier's report into what the Action renders,
// with the report file and the summary's details rendered by out.
func comparisonOf(rep *verify.Report, out reportWriter, recs []*record.Record) (*comparison, error) {
	var js bytes.Buffer
	if err := out.WriteJSON(&js); err != nil {
		return nil, err
	}
	cmp := &comparison{reproducible: rep.Reproducible, verdict: rep.Verdict, inputs: rep.Inputs == nil || rep.Inputs.Same, json: js.Bytes()}
	if rep.Reproducible && len(recs) > 0 {
		cmp.digest = recs[0].Image.ManifestDigest
	}
	for _, c := range rep.Culprits {
		cmp.culprits = append(cmp.culprits, Culprit{
			StorePath: c.StorePath, DrvPath: c.DrvPath, Files: c.Files, Causes: c.Causes,
			Hint: c.Hint, ConsequenceOf: c.ConsequenceOf,
		})
	}
	var md bytes.Buffer
	if err := out.WriteMarkdown(&md); err != nil {
		return nil, err
	}
	cmp.markdown = md.String()
	return cmp, nil
}

// uploadedImages are the OCI layouts next to each record, or nil unless
// every record has one.
func uploadedImages(recordFiles []string) []string {
	var paths []string
	for _, f := range recordFiles {
		dir, ok := uploadedImage(f)
		if !ok {
			return nil
		}
		paths = append(paths, dir)
	}
	return paths
}

// uploadedImage is the OCI layout the build mode uploads next to the
// record at recordFile, and whether there is one.
func uploadedImage(recordFile string) (string, bool) {
	dir := filepath.Join(filepath.Dir(recordFile), "image")
	_, err := os.Stat(filepath.Join(dir, "index.json"))
	return dir, err == nil
}

// recordImages opens the uploaded layouts (paths, one per record), or else
// the records' out paths on this machine, on demand and once.
func (x *run) recordImages(recs []*record.Record, paths []string) *verify.RecordImages {
	return &verify.RecordImages{
		Records: recs, Paths: paths, Stderr: x.log.Writer(),
		OnOpen: func(src string) { x.log.Progress("opening %s", src) },
		OnMissing: func(i int, _ string, why error) {
			x.log.Infof("nixdock: the image of record %d (%s) is not at hand (%v); build with upload-image: true to diff it", i+1, recs[i].OutPath, why)
		},
	}
}

// storePathOf is p from /nix/store on (a path in a chroot store names the
// store path it holds).
func storePathOf(p string) string {
	if root := storepath.RootOf(p); root != "" {
		return strings.TrimPrefix(p, root)
	}
	return p
}
