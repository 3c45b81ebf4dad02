package cli

import (
	"context"
	"errors"
	"fmt"
	"github.com/nixdock/nixdock-action/agree"
	"github.com/nixdock/nixdock-action/record"
	"io"
	"os"

	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/recsig"
	"github.com/nixdock/nixdock-action/verify"
	"github.com/spf13/cobra"
)

func init() { register(newVerifyCmd) }

// reportFlags choose how a verify.Report is written.
type reportFlags struct {
	json     bool
	markdown bool
}

func (f *reportFlags) bind(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.json, "json", false, "print the report as JSON (schema nixdock.dev/report/v1)")
	cmd.Flags().BoolVar(&f.markdown, "markdown", false, "print the report as Markdown (for a pull-request comment or step summary)")
}

func (f *reportFlags) check() error {
	if f.json && f.markdown {
		return usageError("--json and --markdown: give one or the other")
	}
	return nil
}

// renderedReport is a report in its three renderings: verify.Report and
// reproduce.Report.
type renderedReport interface {
	WriteJSON(w io.Writer) error
	WriteMarkdown(w io.Writer) error
	WriteText(w io.Writer, opts verify.TextOptions) error
}

// writeReport renders the report on stdout and returns errDiffers (exit 1)
// when the builds differ.
func (a *app) writeReport(rep *verify.Report, f reportFlags) error {
	return a.render(rep, rep.Reproducible, f)
}

func (a *app) render(rep renderedReport, reproducible bool, f reportFlags) error {
	var err error
	switch {
	case f.json:
		err = rep.WriteJSON(a.ui.Out)
	case f.markdown:
		err = rep.WriteMarkdown(a.ui.Out)
	default:
		err = rep.WriteText(a.ui.Out, verify.TextOptions{Color: colorOut(a.ui)})
	}
	if err != nil {
		return failure(fmt.Errorf("writing the report: %w", err))
	}
	if !reproducible {
		return errDiffers
	}
	return nil
}

// colorOut reports whether stdout is a terminal that takes colour.
func colorOut(ui *UI) bool {
	f, ok := ui.Out.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

type verifyFlags struct {
	report      reportFlags
	images      []string
	minBuilders int
	minHosts    int
	recordSig   recordSigFlags
}

func newVerifyCmd(a *app) *cobra.Command {
	var f verifyFlags
	cmd := &cobra.Command{
		Use:   "verify RECORD RECORD [RECORD...]",
		Short: "Compare the build records of independent builders",
		Long: `Compare build records (nixdock build --record) from independent builders.

Inputs first: different image .drv paths mean the builders evaluated different
inputs, and the derivations are diffed as nix-diff does ("inputs differ").
Then the digests: config, diff_ids, compressed layer digests and manifest
(the last two only between builds that used the same compressor). When the
digests differ and the images are at hand (--image, one per record, or the
records' out paths on this machine), the images are diffed down to files,
store paths and causes.

The records prove the image when at least --min-builders builders count
(each built the image itself, not downloaded it; no record a copy of
another), on at least --min-hosts hosts when given, and none that counts
disagrees: the same decision sign makes. The report lists each builder and
why it counts.

With --record-identity (or --record-identity-regexp), --record-oidc-issuer
and --record-trust-root, each record's signature RECORD.sigstore.json
(nixdock build --sign-record) is verified when present: a builder whose
signature verifies is known by its CI identity ("signed by ..."), one without
is self-reported, and a signature that does not verify is an error. With
--record-require-signed only signed records count.

Exit codes: 0 reproducible, 1 differ or not proven, 2 usage, 3 failure.`,
		Example: `  nixdock verify a.json b.json
  nixdock verify a.json b.json --image a.tar --image b.tar --markdown >> "$GITHUB_STEP_SUMMARY"`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runVerify(cmd.Context(), args, f)
		},
	}
	f.report.bind(cmd)
	cmd.Flags().StringArrayVar(&f.images, "image", nil, "the image of each record, in order (any form nixdock diff opens; repeatable)")
	cmd.Flags().IntVar(&f.minBuilders, "min-builders", 2, "builders that count that must agree (at least 1)")
	cmd.Flags().IntVar(&f.minHosts, "min-hosts", 0, "distinct hosts the agreeing builders must span (0: any)")
	f.recordSig.bind(cmd.Flags())
	return cmd
}

func (a *app) runVerify(ctx context.Context, args []string, f verifyFlags) error {
	if err := f.report.check(); err != nil {
		return err
	}
	if f.minBuilders < 1 || f.minHosts < 0 {
		return usageError("--min-builders must be at least 1 and --min-hosts at least 0")
	}
	if len(f.images) > 0 && len(f.images) != len(args) {
		return usageError("--image given %d times for %d records: give one per record, in order", len(f.images), len(args))
	}
	sigOpts, err := f.recordSig.options()
	if err != nil {
		return err
	}
	recs, ids, err := recsig.ReadRecords(args, sigOpts)
	if err != nil {
		return failure(err)
	}
	imgs := a.recordImages(recs, f.images)
	defer imgs.Close()
	rep, err := a.compareRecords(ctx, recs, imgs, agree.Policy{MinBuilders: f.minBuilders, MinHosts: f.minHosts,
		Identities: ids, RequireSigned: f.recordSig.requireSigned})
	if err != nil {
		return err
	}
	if !rep.Reproducible && rep.Inputs != nil && rep.Inputs.Same && len(rep.Culprits) == 0 && len(f.images) == 0 {
		a.ui.Infof("nixdock: to find out why, give the images (--image, one per record) or compare them with nixdock diff")
	}
	return a.writeReport(rep, f.report)
}

// compareRecords compares records once, then, when the bytes differ but
// the inputs are the same and the images are at hand (imgs), the images
// down to files and store paths: verify.Records opens only the images the
// deep diff needs, each once.
func (a *app) compareRecords(ctx context.Context, recs []*record.Record, imgs *verify.RecordImages, policy agree.Policy) (*verify.Report, error) {
	opts := verify.Options{OnLayer: a.layerProgress, OpenImage: imgs.Open, Policy: policy}
	rep, err := verify.Records(ctx, recs, opts)
	if err != nil {
		return nil, failure(err)
	}
	return rep, nil
}

func (a *app) layerProgress(done, total int) {
	a.ui.Progress("compared layer pair %d/%d", done, total)
}

// recordImages opens the images named by --image (paths, one per record),
// or else the records' out paths on this machine, on demand and once; it
// says which record's image is not at hand, and how to give it.
func (a *app) recordImages(recs []*record.Record, paths []string) *verify.RecordImages {
	return &verify.RecordImages{
		Records: recs, Paths: paths, Stderr: a.ui.logWriter(),
		OnOpen: func(src string) { a.ui.Progress("opening %s", src) },
		OnMissing: func(i int, src string, why error) {
			if errors.Is(why, image.ErrExecRefused) {
				a.ui.Infof("nixdock: the image of record %d (%s) is a stream script, and nixdock does not run a program a record names; give --image %s to diff it", i+1, recs[i].OutPath, src)
				return
			}
			// The verifier diffs whichever images are at hand (it
			// needs the reference's and one other's).
			a.ui.Infof("nixdock: the image of record %d (%s) is not on this machine; give --image to diff it", i+1, recs[i].OutPath)
		},
	}
}
