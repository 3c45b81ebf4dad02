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

// imageSet is the images of the records for one deep diff: those
// given (Options.Images, checked already) or those opened on demand
// (Options.OpenImage), each record's asked for at most once.
type imageSet struct {
	recs   []*record.Record
	imgs   []*image.Image
	asked  []bool
	open   func(ctx context.Context, i int) (*image.Image, error)
	opened []*image.Image // opened on demand and not yet checked
}

func newImageSet(recs []*record.Record, opts Options) *imageSet {
	ri := &imageSet{recs: recs, imgs: make([]*image.Image, len(recs)), asked: make([]bool, len(recs))}
	if len(opts.Images) > 0 {
		copy(ri.imgs, opts.Images)
		return ri
	}
	ri.open = opts.OpenImage
	return ri
}

// first is the first member of g whose image is at hand, or -1.
func (ri *imageSet) first(ctx context.Context, g Group) (int, error) {
	for _, i := range g.members {
		img, err := ri.at(ctx, i)
		if err != nil {
			return -1, err
		}
		if img != nil {
			return i, nil
		}
	}
	return -1, nil
}

func (ri *imageSet) at(ctx context.Context, i int) (*image.Image, error) {
	if ri.open == nil || ri.asked[i] {
		return ri.imgs[i], nil
	}
	ri.asked[i] = true
	img, err := ri.open(ctx, i)
	if err != nil {
		return nil, err
	}
	ri.imgs[i] = img
	if img != nil {
		ri.opened = append(ri.opened, img)
	}
	return img, nil
}

// check checks the images opened on demand (all at once), as
// checkRecordImages checks the images given, before any is compared.
func (ri *imageSet) check(ctx context.Context, workers int) error {
	if len(ri.opened) == 0 {
		return nil
	}
	sparse := make([]*image.Image, len(ri.imgs))
	for i, img := range ri.imgs {
		if slices.Contains(ri.opened, img) {
			sparse[i] = img
		}
	}
	ri.opened = nil
	return checkRecordImages(ctx, ri.recs, sparse, workers)
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
