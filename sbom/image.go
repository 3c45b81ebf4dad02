package sbom

import (
	"context"
	"encoding/hex"
	"fmt"
	"runtime"
	"sort"

	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/internal/storepath"
	"github.com/nixdock/nixdock-action/nix"
	"golang.org/x/sync/errgroup"
)

// FromImage describes an image from its layers alone, without Nix: one
// component per /nix/store path, its NAR hash and size computed from the
// tar entries, its references found by scanning its NAR for the other
// paths' hashes, and the layers holding it. Names and versions come from
// the store path names (Nix's rule) unless opts.Meta names them.
func FromImage(ctx context.Context, img *image.Image, opts Options) (*Document, error) {
	if img == nil {
		return nil, fmt.Errorf("no image")
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("reading layers of %s: %w", img.Source, err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading config of %s: %w", img.Source, err)
	}
	configDigest, err := img.ConfigName()
	if err != nil {
		return nil, fmt.Errorf("reading config of %s: %w", img.Source, err)
	}
	d := &Document{Source: "image", Subject: Subject{
		Name: storepath.Name(img.Source), Form: string(img.Form), ConfigDigest: configDigest.String(),
	}}
	if img.Form == image.FormRegistry {
		d.Subject.refHints = append(d.Subject.refHints, img.Source)
	}
	d.Subject.refHints = append(d.Subject.refHints, img.RepoTags...)
	if cfg.OS != "" && cfg.Architecture != "" {
		d.Subject.System = nixSystem(cfg.Architecture, cfg.OS)
	}
	if img.Form == image.FormRegistry || img.Form == image.FormOCILayout {
		// Cheap here: the manifest is at hand. Archives would have to be
		// compressed to have a manifest digest.
		if dg, err := img.Digest(); err == nil {
			d.Subject.ManifestDigest = dg.String()
		}
	}
	for _, id := range cfg.RootFS.DiffIDs {
		d.Subject.DiffIDs = append(d.Subject.DiffIDs, id.String())
	}
	if len(d.Subject.DiffIDs) != len(layers) {
		return nil, fmt.Errorf("%s: config lists %d diff_ids for %d layers", img.Source, len(d.Subject.DiffIDs), len(layers))
	}
	results := make([]*layerResult, len(layers))
	g, gctx := errgroup.WithContext(ctx)
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	g.SetLimit(workers)
	// One spool limit for the whole image: layers spool in parallel.
	sp := spoolDir{dir: opts.TempDir, limit: image.NewSpoolLimit(opts.MaxSpool)}
	for i, l := range layers {
		g.Go(func() error {
			r, err := scanLayerTo(gctx, l, sp)
			if err != nil {
				return fmt.Errorf("reading layer %d of %s: %w", i, img.Source, err)
			}
			results[i] = r
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	merge(d, results)
	if err := opts.finish(d, cfg.Created.Time); err != nil {
		return nil, err
	}
	return d, nil
}

// located is a store path and the layers holding it.
type located struct {
	res    *pathResult
	layers []int
}

// merge applies the layers in order, as a container runtime stacks them,
// and turns the surviving store paths into components and edges.
func merge(d *Document, results []*layerResult) {
	paths := map[string]*located{}
	for i, lr := range results {
		d.Warnings = append(d.Warnings, lr.warnings...)
		if lr.opaque {
			paths = map[string]*located{}
		}
		for _, base := range lr.removed {
			delete(paths, base)
		}
		for _, base := range sortedKeys(lr.paths) {
			r := lr.paths[base]
			prev := paths[base]
			switch {
			case prev == nil:
				paths[base] = &located{res: r, layers: []int{i}}
			case prev.res.narHash == r.narHash:
				prev.layers = append(prev.layers, i)
			default:
				d.Warnings = append(d.Warnings, fmt.Sprintf("/nix/store/%s differs between layers %v and %d: the SBOM has the topmost", base, prev.layers, i))
				paths[base] = &located{res: r, layers: append(prev.layers, i)}
			}
		}
	}
	byHash := map[[hashLen]byte]string{}
	for base := range paths {
		var k [hashLen]byte
		copy(k[:], base)
		byHash[k] = nix.StoreDir + "/" + base
	}
	for _, base := range sortedKeys(paths) {
		loc := paths[base]
		p := nix.StoreDir + "/" + base
		hash, _, _ := SplitStorePath(p)
		c := Component{Path: p, Hash: hash,
			NarHash: "sha256:" + hex.EncodeToString(loc.res.narHash[:]), NarSize: loc.res.narSize}
		for _, i := range loc.layers {
			c.Layers = append(c.Layers, d.Subject.DiffIDs[i])
		}
		for k := range loc.res.refs.seen {
			if ref, ok := byHash[k]; ok && ref != p {
				c.DependsOn = append(c.DependsOn, ref)
			}
		}
		sort.Strings(c.DependsOn)
		if loc.res.refs.saturated {
			d.Warnings = append(d.Warnings, fmt.Sprintf("%s has many hash-like strings: past %d, only those followed by '-' were kept as references", p, maxCandidates))
		}
		c.nameFrom(nil)
		d.Components = append(d.Components, c)
	}
	roots := make([]*rootLayer, len(results))
	for i, lr := range results {
		roots[i] = &lr.root
	}
	d.RootFiles = mergeRoot(roots, d.Subject.DiffIDs, hashIndex(d.Components))
}

// nixSystem maps an OCI platform to a Nix system string.
func nixSystem(arch, os string) string {
	switch arch {
	case "amd64":
		arch = "x86_64"
	case "arm64":
		arch = "aarch64"
	case "386":
		arch = "i686"
	}
	return arch + "-" + os
}
