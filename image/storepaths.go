package image

import (
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
		if err := layerStorePaths(ctx, l, seen); err != nil {
			return nil, fmt.Errorf("reading layer %d: %w", i, err)
		}
	}
	return sortedPaths(seen), nil
}

// sortedPaths merges sets of store paths' base names into one sorted list
// of store paths.
func sortedPaths(sets ...map[string]bool) []string {
	all := map[string]bool{}
	for _, s := range sets {
		maps.Copy(all, s)
	}
	out := make([]string, 0, len(all))
	for _, base := range slices.Sorted(maps.Keys(all)) {
		out = append(out, storepath.Dir+"/"+base)
	}
	return out
}

func layerStorePaths(ctx context.Context, l v1.Layer, seen map[string]bool) error {
	return EachEntry(ctx, l, TarWalkOptions{}, func(e *TarEntry, _ io.Reader) error {
		addStorePath(seen, e)
		return nil
	})
}

// copyLayer copies a layer's uncompressed bytes r to w, all of them, and,
// with seen non-nil, adds the base names of the store paths its tar
// members lie in: the headers are parsed as the bytes stream past, so
// listing costs no second read.
func copyLayer(w io.Writer, r io.Reader, seen map[string]bool) error {
	if seen == nil {
		_, err := io.Copy(w, r)
		return err
	}
	// The walker reads to the stream's end: the padding after the
	// end-of-archive marker is part of the layer's bytes too.
	return walkStorePaths(NewTarWalker(bufio.NewReaderSize(io.TeeReader(r, w), 64<<10), TarWalkOptions{}), seen)
}

// walkStorePaths adds the store paths w's entries lie in to seen.
func walkStorePaths(w *TarWalker, seen map[string]bool) error {
	return w.Walk(func(e *TarEntry, _ io.Reader) error {
		addStorePath(seen, e)
		return nil
	})
}

// addStorePath adds the store path e lies in, if any, to seen.
func addStorePath(seen map[string]bool, e *TarEntry) {
	if e.StorePath != "" {
		seen[e.StorePath] = true
	}
}
