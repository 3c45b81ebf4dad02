package cli

// The Action's modes run the code of the CLI commands through the functions
// in this file: one code path for the CLI and the Action, entered with the
// libraries' typed options, never with flags or argument lists. Build fills
// build.Options (build.go's buildImage), reproduce fills reproduce.Options,
// verify runs verify.Records as `nixdock verify` does, the SBOM is made
// from the record in memory with `nixdock sbom`'s options, and publish
// calls publish.Run with typed values (action_publish.go).

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/nixdock/nixdock-action/action"
	"github.com/nixdock/nixdock-action/build"
	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/reproduce"
	"github.com/nixdock/nixdock-action/sbom"
	"github.com/nixdock/nixdock-action/verify"
)

// compareRecords compares records as `nixdock verify` does, diffing the
// images (imgs, opened on demand) when every builder uploaded its image
// next to its record.
func (x *actionRun) compareRecords(ctx context.Context, recs []*build.Record, imgs *recordImages) (*comparison, error) {
	rep, err := x.a.compareRecords(ctx, recs, imgs)
	if err != nil {
		return nil, err
	}
	return comparisonOf(rep, rep, recs)
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

// reproduceBuilds runs `nixdock reproduce` (its options filled from the
// inputs) with the two records written to dir.
func (x *actionRun) reproduceBuilds(ctx context.Context, dir string) (*comparison, []*build.Record, error) {
	inst, nixOpts, err := x.nixInputs()
	if err != nil {
		return nil, nil, err
	}
	comp, err := image.ParseCompression(x.in.Compression)
	if err != nil {
		return nil, nil, usageError("input %s: %s", action.InputCompression, err)
	}
	opts := reproduce.Options{Installable: inst, NixOptions: nixOpts, NixEnv: x.in.NixEnv, Compression: comp}
	var lintErr error
	opts.InspectImage = func(ctx context.Context, img *image.Image) {
		// Build A's image, linted while its store exists, named by its
		// store path rather than the temporary store's directory.
		lintErr = x.lintImage(ctx, img.Image, storePathOf(img.Source), string(img.Form), false)
	}
	res, err := x.a.reproduce(ctx, opts, dir)
	if err != nil {
		return nil, nil, err
	}
	if lintErr != nil {
		return nil, nil, lintErr
	}
	recs := []*build.Record{res.Records[0], res.Records[1]}
	cmp, err := comparisonOf(res.Report.Report, res.Report, recs)
	if err != nil {
		return nil, nil, err
	}
	return cmp, recs, nil
}

// reportWriter renders a report as the command does: `nixdock verify`'s
// verify.Report, or `nixdock reproduce`'s report around one.
type reportWriter interface {
	WriteJSON(io.Writer) error
	WriteMarkdown(io.Writer) error
}

// comparisonOf turns a verifier's report into what the Action renders,
// with the report file and the summary's details rendered by out.
func comparisonOf(rep *verify.Report, out reportWriter, recs []*build.Record) (*comparison, error) {
	var js bytes.Buffer
	if err := out.WriteJSON(&js); err != nil {
		return nil, failure(err)
	}
	cmp := &comparison{reproducible: rep.Reproducible, verdict: rep.Verdict, inputs: rep.Inputs == nil || rep.Inputs.Same, json: js.Bytes()}
	if rep.Reproducible && len(recs) > 0 {
		cmp.digest = recs[0].Image.ManifestDigest
	}
	for _, c := range rep.Culprits {
		cmp.culprits = append(cmp.culprits, action.Culprit{
			StorePath: c.StorePath, DrvPath: c.DrvPath, Files: c.Files, Causes: c.Causes,
			Hint: c.Hint, ConsequenceOf: c.ConsequenceOf,
		})
	}
	var md bytes.Buffer
	if err := out.WriteMarkdown(&md); err != nil {
		return nil, failure(err)
	}
	cmp.markdown = md.String()
	return cmp, nil
}

// sbom writes the SBOM of rec (the record in memory) into dir with the
// options of `nixdock sbom RECORD`, and returns the file and its bytes
// (sbomOutput then names it); sbom-format none skips it. digest, when
// set, is the manifest digest the SBOM describes.
func (x *actionRun) sbom(rec *build.Record, dir, digest string) (string, []byte, error) {
	if x.in.SBOMFormat == "none" {
		return "", nil, nil
	}
	format, err := sbom.ParseFormat(x.in.SBOMFormat)
	if err != nil {
		return "", nil, usageError("input sbom-format: %s", err)
	}
	ext := map[sbom.Format]string{sbom.SPDXJSON: "sbom.spdx.json", sbom.CycloneDXJSON: "sbom.cdx.json"}[format]
	// The image input names the repository the SBOM's image purl points at.
	opts, err := sbomOptions(x.in.Image, digest)
	if err != nil {
		return "", nil, err
	}
	path := filepath.Join(dir, ext)
	end := x.r.Group("writing the SBOM (" + string(format) + ")")
	data, err := x.encodeSBOM(rec, opts, format, path)
	end()
	if err != nil {
		return "", nil, err
	}
	return path, data, nil
}

// sbomOutput names the SBOM written at path in the summary and the sbom
// output ("" is none).
func (x *actionRun) sbomOutput(path string) error {
	if path == "" {
		return nil
	}
	x.sum.Files["sbom"] = path
	return x.setOutputs(action.OutputSBOM, path)
}

// encodeSBOM writes rec's SBOM to path and returns its bytes.
func (x *actionRun) encodeSBOM(rec *build.Record, opts sbom.Options, format sbom.Format, path string) ([]byte, error) {
	doc, err := sbom.FromRecord(rec, opts)
	if err != nil {
		return nil, failure(err)
	}
	var buf bytes.Buffer
	if err := doc.Encode(format, &buf, false); err != nil {
		return nil, failure(fmt.Errorf("writing the SBOM: %w", err))
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return nil, failure(fmt.Errorf("writing the SBOM: %w", err))
	}
	for _, w := range doc.Warnings {
		x.a.ui.Infof("nixdock: warning: %s", w)
	}
	x.a.ui.Infof("sbom: %s, %s, %d bytes -> %s", doc.Summary(), format, buf.Len(), path)
	return buf.Bytes(), nil
}

// storePathOf is p from /nix/store on (a path in a chroot store names the
// store path it holds).
func storePathOf(p string) string {
	if i := strings.LastIndex(p, "/nix/store/"); i > 0 {
		return p[i:]
	}
	return p
}
