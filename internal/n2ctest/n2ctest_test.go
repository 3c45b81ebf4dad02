package n2ctest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/nixdock/nixdock-action/image"
)

// inspect (Describe) refuses the layer, naming it and its store path.
func TestMismatchNamesLayerAndStorePath(t *testing.T) {
	img := OpenMismatched(t)
	_, _, err := image.Describe(context.Background(), img, image.DescribeOptions{Compression: image.None})
	if !errors.Is(err, image.ErrBadArchive) || !strings.Contains(err.Error(), "layer 0 re-created from "+StorePath) {
		t.Fatalf("got %v, want the layer and %s named", err, StorePath)
	}
}
