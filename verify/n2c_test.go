package verify_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/internal/n2ctest"
	"github.com/nixdock/nixdock-action/record"
	"github.com/nixdock/nixdock-action/verify"
)

func wantN2CMismatch(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, image.ErrBadArchive) || !strings.Contains(err.Error(), "layer 0 re-created from "+n2ctest.StorePath) {
		t.Errorf("%s: got %v, want the layer and %s named", what, err, n2ctest.StorePath)
	}
}

// diff and verify check the layers re-created for a nix2container JSON
// against its diff_ids, even when both sides record the same diff_ids
// (which alone would say "reproducible" without reading a layer).
func TestNix2containerLayersChecked(t *testing.T) {
	img := n2ctest.OpenMismatched(t)
	_, err := verify.Images(context.Background(), img, img, verify.Options{})
	wantN2CMismatch(t, "diff", err)
	a, b := syntheticRecord("builder-a", imgDrv), syntheticRecord("builder-b", imgDrv)
	_, err = verify.Records(context.Background(), []*record.Record{a, b}, verify.Options{Images: []*image.Image{img, img}})
	wantN2CMismatch(t, "verify", err)
}
