package verify

import (
	"context"
	"fmt"
	"slices"

	"github.com/nixdock/nixdock-action/build"
	"github.com/nixdock/nixdock-action/image"
	"golang.org/x/sync/errgroup"
)

// checkImages reads every layer of the images in full, all images at once,
// so that every digest compared afterwards was computed by nixdock from the
// bytes (image.CheckLayers), never taken from an image's own claims.
func checkImages(ctx context.Context, imgs []*image.Image, workers int) error {
	g, ctx := errgroup.WithContext(ctx)
	for _, img := range imgs {
		if img == nil {
			continue
		}
		g.Go(func() error { return image.CheckLayers(ctx, img, workers) })
	}
	return g.Wait()
}

// checkRecordImages checks the images given for records (opts.Images) and
// that each is the image its record describes: the same config and layers.
// A record compared with another image would explain the wrong bytes.
func checkRecordImages(ctx context.Context, recs []*build.Record, opts Options) error {
	if err := checkImages(ctx, opts.Images, opts.Workers); err != nil {
		return err
	}
	for i, img := range opts.Images {
		if img == nil || i >= len(recs) {
			continue
		}
		if err := sameAsRecord(img, recs[i]); err != nil {
			return fmt.Errorf("%w: image %s is not the image of build record %d (%s): %v",
				image.ErrBadArchive, img.Source, i+1, recs[i].OutPath, err)
		}
	}
	return nil
}

func sameAsRecord(img *image.Image, r *build.Record) error {
	cfg, err := img.ConfigName()
	if err != nil {
		return err
	}
	if cfg.String() != r.Image.ConfigDigest {
		return fmt.Errorf("config %s, the record says %s", cfg, r.Image.ConfigDigest)
	}
	ids, err := image.DiffIDs(img)
	if err != nil {
		return err
	}
	var got, want []string
	for _, d := range ids {
		got = append(got, d.String())
	}
	for _, l := range r.Image.Layers {
		want = append(want, l.DiffID)
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("its layers' diff_ids differ from the record's")
	}
	return nil
}
