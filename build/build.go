package build

import (
	"context"
	"fmt"
	"sort"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/nix"
	"github.com/nixdock/nixdock-action/record"
)

// Options say what to build and how.
type Options struct {
	Installable record.Installable
	Nix         nix.Runner
	// Compression of layers for the manifest digest (default gzip).
	Compression image.Compression
	// ExtraArgs go to `nix build` after nixdock's own (reproduce uses them
	// for variations such as --cores).
	ExtraArgs []string
	// Variation names what this build varied on purpose, for the record.
	Variation map[string]string
	// BuilderLabel tells apart builders on one machine in reports; empty is
	// "store=STORE" for a build in a store other than the machine's.
	BuilderLabel string
	// NixdockVersion is written into the record.
	NixdockVersion string
	// Progress, when set, hears each step ("building", "digesting layer 3/9").
	Progress func(step string)
}

// Result is a finished build: its record and the opened image, which the
// caller closes.
type Result struct {
	Record *record.Record
	Image  *image.Image
	// Published is the image as it would be pushed (layers compressed as
	// the record's manifest digest says), for callers that write or push it
	// without describing it a second time.
	Published v1.Image
}

// Run builds the installable with Nix, opens the image it produced, digests
// it and queries its closure and derivations.
func Run(ctx context.Context, opts Options) (*Result, error) {
	progress := opts.Progress
	if progress == nil {
		progress = func(string) {}
	}
	nx := &opts.Nix
	nixVersion, err := nx.Version(ctx)
	if err != nil {
		return nil, err
	}
	system, err := nx.System(ctx)
	if err != nil {
		return nil, err
	}
	progress("building " + opts.Installable.String())
	started := time.Now()
	res, err := nx.Build(ctx, opts.Installable, opts.ExtraArgs...)
	if err != nil {
		return nil, err
	}
	origin, err := nx.Origin(ctx, res.DrvPath, res.OutPath, started)
	if err != nil {
		return nil, err
	}
	progress("opening " + res.OutPath)
	img, err := image.Open(ctx, nx.RealPath(res.OutPath), image.Options{StoreRoot: nix.StoreRoot(nx.Store), Stderr: nx.Log})
	if err != nil {
		return nil, fmt.Errorf("opening the image %s built: %w", res.OutPath, err)
	}
	rec, pub, err := describe(ctx, opts, img, res)
	if err != nil {
		img.Close()
		return nil, err
	}
	rec.NixVersion, rec.System, rec.Origin = nixVersion, system, origin
	return &Result{Record: rec, Image: img, Published: pub}, nil
}

func describe(ctx context.Context, opts Options, img *image.Image, res nix.BuildResult) (*record.Record, v1.Image, error) {
	nx := &opts.Nix
	progress := opts.Progress
	if progress == nil {
		progress = func(string) {}
	}
	progress("querying the closure of " + res.OutPath)
	closure, err := nx.PathInfo(ctx, true, res.OutPath)
	if err != nil {
		return nil, nil, fmt.Errorf("querying the closure of %s: %w", res.OutPath, err)
	}
	// A compressed archive hides its references from Nix: its closure is
	// then itself alone, and starts instead from the store paths its layers
	// hold, gathered while Describe reads them.
	var storePaths *[]string
	if len(closure) == 1 {
		storePaths = new([]string)
	}
	pub, digests, err := image.Describe(ctx, img, image.DescribeOptions{
		Compression: opts.Compression,
		OnLayer: func(done, total int) {
			progress(fmt.Sprintf("digested layer %d/%d", done, total))
		},
		StorePaths: storePaths,
	})
	if err != nil {
		return nil, nil, err
	}
	if storePaths != nil {
		if closure, err = contentsClosure(ctx, nx, *storePaths, closure); err != nil {
			return nil, nil, err
		}
	}
	drvs, err := nx.Derivations(ctx, true, res.DrvPath)
	if err != nil {
		return nil, nil, fmt.Errorf("reading derivation %s: %w", res.DrvPath, err)
	}
	return &record.Record{
		Schema:      record.Schema,
		Nixdock:     opts.NixdockVersion,
		Builder:     record.ThisBuilder(builderLabel(opts)),
		Installable: opts.Installable,
		Store:       nx.Store,
		DrvPath:     res.DrvPath,
		OutPath:     res.OutPath,
		Variation:   opts.Variation,
		Image:       digests,
		Closure:     closure,
		Derivations: drvs,
	}, pub, nil
}

// contentsClosure adds the closure of paths (those valid in the store),
// the store paths an image's layers hold, to closure.
func contentsClosure(ctx context.Context, nx *nix.Runner, paths []string, closure []record.PathInfo) ([]record.PathInfo, error) {
	var valid []string
	for _, p := range paths {
		if nix.Exists(nx.RealPath(p)) {
			valid = append(valid, p)
		}
	}
	if len(valid) == 0 {
		return closure, nil
	}
	more, err := nx.PathInfo(ctx, true, valid...)
	if err != nil {
		return nil, fmt.Errorf("querying the closure of the image's contents: %w", err)
	}
	byPath := map[string]record.PathInfo{}
	for _, pi := range append(closure, more...) {
		byPath[pi.Path] = pi
	}
	out := make([]record.PathInfo, 0, len(byPath))
	for _, pi := range byPath {
		out = append(out, pi)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func builderLabel(opts Options) string {
	if opts.BuilderLabel == "" && opts.Nix.Store != "" {
		return "store=" + opts.Nix.Store
	}
	return opts.BuilderLabel
}
