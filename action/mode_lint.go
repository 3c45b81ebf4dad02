package action

// The Action lints the image in every mode that has one (build: the built
// image; reproduce: build A's; verify: the first uploaded image; publish:
// the pushed one) and shows the findings in the job summary. Findings are
// advice: they fail the step only with the input lint-fail: true.

import (
	"bytes"
	"context"
	"fmt"
	"strconv"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/nixdock/nixdock-action/lint"
	"github.com/nixdock/nixdock-action/verify"
)

// lintImage lints img (named source in the result) with lint.RunImage, and
// puts the Markdown in the summary and the count in the lint output. A
// lint that cannot run is a warning on the run, not a failure; group is
// false where a log group is open already (groups do not nest).
func (x *run) lintImage(ctx context.Context, img v1.Image, source, form string, group bool) error {
	opts, err := lint.ArtifactOptions(x.file, x.r.Getenv("SOURCE_DATE_EPOCH"))
	if err != nil {
		x.r.Notice("nixdock lint: SOURCE_DATE_EPOCH ignored", "SOURCE_DATE_EPOCH "+err.Error())
	}
	opts.Progress = func(s string) { x.log.Progress("%s", s) }
	end := func() {}
	if group {
		end = x.r.Group("nixdock lint " + source)
	}
	res, err := lint.RunImage(ctx, img, lint.ImageInfo{Source: source, Form: form}, opts)
	end()
	if err != nil {
		x.r.Notice("nixdock lint did not run", err.Error())
		return nil
	}
	var md bytes.Buffer
	if err := res.WriteMarkdown(&md); err != nil {
		return err
	}
	x.lint, x.sum.Lint = res, md.String()
	x.log.Infof("lint: %d error(s), %d warning(s), %d note(s)", res.Counts.Errors, res.Counts.Warnings, res.Counts.Notes)
	return x.setOutputs(OutputLint, strconv.Itoa(len(res.Findings)))
}

// lintRecordImage lints the first record's image (the OCI layout its
// builder uploaded), opened once with the images the comparison used.
func (x *run) lintRecordImage(ctx context.Context, imgs *verify.RecordImages, source string) error {
	img, err := imgs.Open(ctx, 0)
	if err == nil && img == nil {
		err = fmt.Errorf("the image of record 1 (%s) is not at hand", source)
	}
	if err != nil {
		x.r.Notice("nixdock lint did not run", err.Error())
		return nil
	}
	return x.lintImage(ctx, img.Image, source, string(img.Form), true)
}

// lintVerdict fails a finished run with lint errors or warnings when the
// input lint-fail asks for it.
func (x *run) lintVerdict() error {
	if !x.in.LintFail || x.lint == nil || !x.lint.Failed() {
		return nil
	}
	msg := fmt.Sprintf("lint found %d error(s) and %d warning(s) in %s (lint-fail: true); see the job summary",
		x.lint.Counts.Errors, x.lint.Counts.Warnings, x.lint.Image.Source)
	x.r.Error(Annotation{File: x.file, Title: "nixdock lint", Message: msg})
	x.log.Infof("%s", msg)
	return ErrDiffers
}
