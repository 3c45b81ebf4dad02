package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/nix"
)

// imageSource is one image named on the command line and the Nix store it
// is read against (--store: a chroot store such as /tmp/storeB, or its URL).
// Every command that opens images comes here, so --store means the same in
// diff, inspect, sbom, lint and verify.
type imageSource struct {
	src, store string
	insecure   bool
}

// openImage opens the image. A file inside a chroot store (ROOT/nix/store/…)
// is read against that store whatever --store says (a different --store is
// an error, never a silent substitution), and a stream script from a store
// that was not given fails with how to give it.
func (a *app) openImage(ctx context.Context, s imageSource) (*image.Image, error) {
	img, err := image.Open(ctx, s.src, image.Options{StoreRoot: nix.StoreRoot(s.store), Insecure: s.insecure, Stderr: a.ui.logWriter()})
	if errors.Is(err, image.ErrStoreNeeded) {
		return nil, fmt.Errorf("%w (--store DIR)", err)
	}
	return img, err // image.Open names the source
}
