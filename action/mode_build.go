package action

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/nixdock/nixdock-action/build"
	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/internal/version"
	"github.com/nixdock/nixdock-action/nix"
	"github.com/nixdock/nixdock-action/record"
)

// build is the build mode: one builder of several. It runs build.Run with
// options filled from the inputs, then leaves the record (and the image as
// an OCI layout) in a directory that action.yml uploads as an artifact.
func (x *run) build(ctx context.Context) error {
	dir, err := x.freshDir("build")
	if err != nil {
		return err
	}
	inst, nixOpts, err := x.nixInputs()
	if err != nil {
		return err
	}
	comp, err := image.ParseCompression(x.in.Compression)
	if err != nil {
		return inputErr(InputCompression, "%s", err)
	}
	opts := build.Options{Installable: inst, Compression: comp,
		Nix:            nix.Runner{Store: x.in.Store, Options: nixOpts, Log: x.log.Writer(), PassEnv: x.in.NixEnv},
		NixdockVersion: version.Get().String(),
		Progress:       func(s string) { x.log.Progress("%s", s) },
	}
	recordPath := filepath.Join(dir, "record.json")
	end := x.r.Group("nix build " + installableText(x.in))
	res, err := build.Run(ctx, opts)
	if err == nil {
		if err = record.Write(recordPath, res.Record); err != nil {
			res.Image.Close()
		}
	}
	end()
	if err != nil {
		return err
	}
	defer res.Image.Close()
	rec := res.Record
	x.sum.Verdict, x.sum.Installable, x.sum.Digest = VerdictBuilt, rec.Installable.String(), rec.Image.ManifestDigest
	x.sum.Builders = []Builder{builderRow(rec)}
	x.sum.Files["record"] = recordPath
	if x.signsRecords() {
		end := x.r.Group("signing the build record keyless")
		sigPath, err := x.signRecord(ctx, recordPath)
		end()
		if err != nil {
			return err
		}
		x.sum.Files["record signature"] = sigPath
	}
	if err := x.setOutputs(OutputRecord, recordPath, OutputDigest, rec.Image.ManifestDigest); err != nil {
		return err
	}
	if x.in.UploadImage {
		imgDir := filepath.Join(dir, "image")
		end := x.r.Group("writing the image to " + imgDir)
		err := writeLayout(imgDir, res)
		end()
		if err != nil {
			return err
		}
		if err := x.r.SetOutput(StepOutputImageDir, imgDir); err != nil {
			return err
		}
	}
	sbomFile, _, err := x.sbom(rec, dir, rec.Image.ManifestDigest)
	if err != nil {
		return err
	}
	if err := x.sbomOutput(sbomFile); err != nil {
		return err
	}
	if err := x.lintImage(ctx, res.Image.Image, rec.OutPath, string(res.Image.Form), true); err != nil {
		return err
	}
	if err := x.r.SetOutput(StepOutputArtifact, x.r.ArtifactName(x.in.ArtifactName)); err != nil {
		return err
	}
	if err := x.r.SetOutput(StepOutputUploadDir, dir); err != nil {
		return err
	}
	x.log.Infof("built %s: %s", rec.Installable, rec.Image.ManifestDigest)
	return nil
}

// writeLayout writes the image as published (the record's manifest digest)
// to an OCI layout, which publish pushes byte for byte.
func writeLayout(dir string, res *build.Result) error {
	if res.Published == nil {
		return errors.New("the build returned no publishable image")
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("creating OCI layout %s: %w", dir, err)
	}
	if err := p.AppendImage(res.Published); err != nil {
		return fmt.Errorf("writing the image to %s: %w", dir, err)
	}
	return nil
}

func installableText(in *Inputs) string {
	if in.Installable != "" {
		return in.Installable
	}
	s := "-f " + in.File
	if in.Attr != "" {
		s += " -A " + in.Attr
	}
	return s
}
