package verify

import (
	"context"
	"fmt"
	"slices"

	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/record"
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

// checkRecordImages checks imgs, the images of recs (entries may be nil),
// and that each is the image its record describes: the same config and
// layers. A record compared with another image would explain the wrong
// bytes.
func checkRecordImages(ctx context.Context, recs []*record.Record, imgs []*image.Image, workers int) error {
	if err := checkImages(ctx, imgs, workers); err != nil {
		return err
	}
	for i, img := range imgs {
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

// pickImages picks, for each group, the first member whose image is at
// hand: given (Options.Images, checked already) or opened on demand
// (Options.OpenImage, asked once per record at most, since groups do not
// share members; the opener, such as RecordImages, keeps what it opened).
// It returns the member picked per group (-1 for none) and the images by
// record; the images opened here are checked, all at once, as
// checkRecordImages checks the images given, before any is compared.
func pickImages(ctx context.Context, recs []*record.Record, groups []Group, opts Options) ([]int, []*image.Image, error) {
	imgs := make([]*image.Image, len(recs))
	var opened []*image.Image // by record, only those opened here
	picked := make([]int, len(groups))
	for gi, g := range groups {
		picked[gi] = -1
		for _, i := range g.members {
			var img *image.Image
			switch {
			case len(opts.Images) > 0:
				if i < len(opts.Images) {
					img = opts.Images[i]
				}
			case opts.OpenImage != nil:
				var err error
				if img, err = opts.OpenImage(ctx, i); err != nil {
					return nil, nil, err
				}
				if img != nil {
					if opened == nil {
						opened = make([]*image.Image, len(recs))
					}
					opened[i] = img
				}
			}
			if img != nil {
				imgs[i], picked[gi] = img, i
				break
			}
		}
		if gi == 0 && picked[0] < 0 {
			return picked, imgs, nil // no reference image: nothing more to open
		}
	}
	if opened != nil && len(picked) > 1 && slices.Max(picked[1:]) >= 0 {
		if err := checkRecordImages(ctx, recs, opened, opts.Workers); err != nil {
			return nil, nil, err
		}
	}
	return picked, imgs, nil
}

func sameAsRecord(img *image.Image, r *record.Record) error {
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
