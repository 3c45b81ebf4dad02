package sign

import (
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// countingImage counts how many layer contents are opened.
type countingImage struct {
	v1.Image
	opened *int
}

func (c *countingImage) Layers() ([]v1.Layer, error) {
	ls, err := c.Image.Layers()
	out := make([]v1.Layer, len(ls))
	for i, l := range ls {
		out[i] = &countingLayer{Layer: l, opened: c.opened}
	}
	return out, err
}

type countingLayer struct {
	v1.Layer
	opened *int
}

func (l *countingLayer) Compressed() (io.ReadCloser, error) {
	*l.opened++
	return l.Layer.Compressed()
}
