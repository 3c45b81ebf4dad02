package verify

import (
	"context"

	"github.com/nixdock/nixdock-action/image"
)

// checkRecreated checks the layers nixdock re-creates from the store for a
// nix2container JSON against its recorded diff_ids: the digest comparison
// and the deep diff trust diff_ids, and would otherwise never read a layer
// whose diff_id looks unchanged.
func checkRecreated(ctx context.Context, imgs []*image.Image) error {
	for _, img := range imgs {
		if err := image.CheckRecreated(ctx, img); err != nil {
			return err
		}
	}
	return nil
}
