package lint

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/internal/n2ctest"
)

// lint reads every layer: one re-created for a nix2container JSON that
// does not hash to its diff_id fails, naming the layer and store path.
func TestNix2containerLayersChecked(t *testing.T) {
	_, err := Run(context.Background(), n2ctest.OpenMismatched(t), Options{})
	if !errors.Is(err, image.ErrBadArchive) || !strings.Contains(err.Error(), "layer 0 re-created from "+n2ctest.StorePath) {
		t.Errorf("got %v, want the layer and %s named", err, n2ctest.StorePath)
	}
}
