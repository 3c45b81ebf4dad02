package image

import (
	"archive/tar"
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/nixdock/nixdock-action/internal/storepath"
)

// StorePaths lists the Nix store paths (/nix/store/<hash>-<name>) that the
// image's layers hold, sorted. It streams every layer once; Describe's
// StorePaths option gathers the same list during the read it does anyway.
//
// Nix cannot see references through a compressed archive (buildLayeredImage
// writes .tar.gz), so the image's store path alone has an empty closure;
// these paths are where its contents' closure starts.
func StorePaths(ctx context.Context, img v1.Image) ([]string, error) {
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("reading layers: %w", err)
	}
	seen := map[string]bool{}
	for i, l := range layers {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := layerStorePaths(l, seen); err != nil {
			return nil, fmt.Errorf("reading layer %d: %w", i, err)
		}
	}
	return sortedPaths(seen), nil
}

// sortedPaths merges sets of store paths into one sorted list.
func sortedPaths(sets ...map[string]bool) []string {
	all := map[string]bool{}
	for _, s := range sets {
		maps.Copy(all, s)
	}
	return slices.Sorted(maps.Keys(all))
}

func layerStorePaths(l v1.Layer, seen map[string]bool) error {
	rc, err := l.Uncompressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	return copyLayer(io.Discard, rc, seen)
}

// copyLayer copies a layer's uncompressed bytes r to w, all of them, and,
// with seen non-nil, adds the store paths its tar members lie in: the
// headers are parsed as the bytes stream past, so listing costs no
// second read.
func copyLayer(w io.Writer, r io.Reader, seen map[string]bool) error {
	if seen == nil {
		_, err := io.Copy(w, r)
		return err
	}
	br := bufio.NewReaderSize(io.TeeReader(r, w), 64<<10)
	if err := tarStorePaths(br, seen); err != nil {
		return err
	}
	// The tar reader stops at the end-of-archive marker; the padding after
	// it is part of the layer's bytes too.
	_, err := io.Copy(io.Discard, br)
	return err
}

func tarStorePaths(r io.Reader, seen map[string]bool) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if p := storepath.Of(hdr.Name); p != "" {
			seen[p] = true
		}
	}
}
