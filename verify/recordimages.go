package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/nix"
	"github.com/nixdock/nixdock-action/record"
)

// ErrImageNotHere is why a record's image is not at hand: its out path is
// not on this machine.
var ErrImageNotHere = errors.New("the image is not on this machine")

// RecordImages opens the images of build records on demand, each at most
// once (its Open is an Options.OpenImage), and closes what it opened. One
// value serves one command or Action run, so an image opened for the deep
// diff is the one linted after.
type RecordImages struct {
	Records []*record.Record
	// Paths name the images, one per record, in any form image.Open
	// opens (stream scripts run). Without Paths, each record's out path
	// is opened when it exists on this machine (under a chroot store's
	// root), and only as data (an archive, an OCI layout): a record is a
	// file anyone may have written, so a stream script it names is not
	// run.
	Paths []string
	// Stderr receives the log of opening (image.Options.Stderr).
	Stderr io.Writer
	// OnOpen, when set, hears each image about to be opened (progress).
	OnOpen func(src string)
	// OnMissing, when set, hears each record whose image is not at hand,
	// and why: ErrImageNotHere, or image.ErrExecRefused for a stream
	// script a record names (src is what was not opened).
	OnMissing func(i int, src string, why error)

	imgs   map[int]*image.Image
	opened []*image.Image
}

// Open is the image of record i, or nil (and no error) when it is not at
// hand.
func (ri *RecordImages) Open(ctx context.Context, i int) (*image.Image, error) {
	if img, ok := ri.imgs[i]; ok {
		return img, nil
	}
	if ri.imgs == nil {
		ri.imgs = map[int]*image.Image{}
	}
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

func (ri *RecordImages) open(ctx context.Context, i int) (*image.Image, error) {
	if i < 0 || i >= len(ri.Records) || (len(ri.Paths) > 0 && i >= len(ri.Paths)) {
		return nil, fmt.Errorf("no build record %d", i+1)
	}
	r := ri.Records[i]
	root := nix.StoreRoot(r.Store)
	src := filepath.Join(root, r.OutPath)
	missing := func(why error) (*image.Image, error) {
		if ri.OnMissing != nil {
			ri.OnMissing(i, src, why)
		}
		return nil, nil
	}
	if len(ri.Paths) > 0 {
		src = ri.Paths[i]
	} else if _, err := os.Stat(src); err != nil {
		return missing(ErrImageNotHere)
	}
	if ri.OnOpen != nil {
		ri.OnOpen(src)
	}
	img, err := image.Open(ctx, src, image.Options{StoreRoot: root, Stderr: ri.Stderr, NoExec: len(ri.Paths) == 0})
	if errors.Is(err, image.ErrExecRefused) {
		return missing(image.ErrExecRefused)
	}
	if err != nil {
		return nil, fmt.Errorf("opening the image of record %d: %w", i+1, err)
	}
	return img, nil
}

// Close closes every image opened.
func (ri *RecordImages) Close() {
	for _, img := range ri.opened {
		img.Close()
	}
	ri.opened = nil
}
