package image

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// StorePaths lists the Nix store paths (/nix/store/<hash>-<name>) that the
// image's layers hold, sorted. It reads tar headers only, as a stream.
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
	paths := make([]string, 0, len(seen))
	for p := range seen {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return paths, nil
}

func layerStorePaths(l v1.Layer, seen map[string]bool) error {
	rc, err := l.Uncompressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if p := storePathOf(hdr.Name); p != "" {
			seen[p] = true
		}
	}
}

// storePathOf returns the store path an archive member lies in, or "".
func storePathOf(name string) string {
	name = strings.TrimPrefix(strings.TrimPrefix(name, "./"), "/")
	rest, ok := strings.CutPrefix(name, "nix/store/")
	if !ok {
		return ""
	}
	top, _, _ := strings.Cut(rest, "/")
	// A store path name is a 32-character hash, a dash and a name.
	if len(top) < 34 || top[32] != '-' {
		return ""
	}
	return "/nix/store/" + top
}
