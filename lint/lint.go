package lint

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/nixdock/nixdock-action/image"
)

// Options tune Run.
type Options struct {
	// SourceDateEpoch is the date (seconds since the epoch) that created,
	// history dates and mtimes may have besides the epoch itself; nil
	// allows only 0 and 1 (dockerTools' 1970-01-01T00:00:01Z).
	SourceDateEpoch *int64
	// MinWaste is the least number of bytes a duplicated file must waste
	// to be reported; 0 means 64 KiB.
	MinWaste int64
	// MinDuplicateSize is the least size of a file whose copies are
	// reported; 0 means 4 KiB. Copies of small files (licenses, one-line
	// metadata) across packages are normal in a closure, and not worth a
	// package change.
	MinDuplicateSize int64
	// MaxDuplicates caps the duplicate-content findings (largest first);
	// 0 means 20.
	MaxDuplicates int
	// ArtifactURI is the file SARIF results point at (such as flake.nix);
	// empty is the image source when it is a file, else "image".
	ArtifactURI string
	// ArtifactText is the artifact's content, when it was read (a Nix
	// file): SARIF results then point at the line that names what a
	// finding is about, instead of line 1.
	ArtifactText string
	// Progress receives a line per layer read.
	Progress func(string)
}

func (o Options) withDefaults() Options {
	if o.MinWaste <= 0 {
		o.MinWaste = 64 << 10
	}
	if o.MinDuplicateSize <= 0 {
		o.MinDuplicateSize = 4 << 10
	}
	if o.MaxDuplicates <= 0 {
		o.MaxDuplicates = 20
	}
	return o
}

// ImageInfo says which image was linted.
type ImageInfo struct {
	Source string `json:"source"`
	Form   string `json:"form,omitempty"`
	Layers int    `json:"layers"`
	Files  int    `json:"files"`
	// Bytes is the size of all file contents in all layers, uncompressed.
	Bytes int64 `json:"bytes"`
}

// PathSize is how much of the image one store path takes.
type PathSize struct {
	// StorePath is a store path, or "/" for files outside /nix/store.
	StorePath string `json:"storePath"`
	Bytes     int64  `json:"bytes"`
	Files     int    `json:"files"`
	// Layers are the layers holding the path's files.
	Layers []int `json:"layers"`
}

// Result is what Run found.
type Result struct {
	Schema   string     `json:"schema"`
	Image    ImageInfo  `json:"image"`
	Counts   Counts     `json:"counts"`
	Findings []Finding  `json:"findings"`
	Sizes    []PathSize `json:"sizes"`

	artifactURI  string
	artifactText string
}

// Failed says whether the findings should fail a check: any error or
// warning (notes are advice).
func (r *Result) Failed() bool { return r.Counts.Errors+r.Counts.Warnings > 0 }

// Run lints img, reading each of its layers once.
func Run(ctx context.Context, img *image.Image, opts Options) (*Result, error) {
	if img == nil || img.Image == nil {
		return nil, fmt.Errorf("lint: no image")
	}
	return RunImage(ctx, img.Image, ImageInfo{Source: img.Source, Form: string(img.Form)}, opts)
}

// RunImage lints any v1.Image; info names it in the result.
func RunImage(ctx context.Context, img v1.Image, info ImageInfo, opts Options) (*Result, error) {
	opts = opts.withDefaults()
	raw, err := img.RawConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading the config of %s: %w", info.Source, err)
	}
	m, err := parseConfig(raw)
	if err != nil {
		return nil, fmt.Errorf("the config of %s: %w", info.Source, err)
	}
	// By the raw config's diff_ids: a config whose typed fields do not
	// parse (the mistakes lint reports) still lists its layers.
	layers, err := image.LayersOf(img)
	if err != nil {
		return nil, fmt.Errorf("%s: listing layers: %w", info.Source, err)
	}
	if err := scanLayers(ctx, m, layers, opts.Progress); err != nil {
		return nil, fmt.Errorf("%s: %w", info.Source, err)
	}
	info.Layers = len(m.layers)
	for _, l := range m.layers {
		info.Files += l.Files
		info.Bytes += l.Bytes
	}
	fs := m.findings(opts)
	return &Result{
		Schema: Schema, Image: info, Counts: countFindings(fs), Findings: fs,
		Sizes: sizesByStorePath(m), artifactURI: artifactURI(opts.ArtifactURI, info), artifactText: opts.ArtifactText,
	}, nil
}

// findings runs every rule on m, sorted; never nil, so that JSON says [].
func (m *model) findings(opts Options) []Finding {
	fs := []Finding{}
	for _, rule := range []func(*model, Options) []Finding{checkConfig, checkRuntime, checkSize, checkHazards} {
		fs = append(fs, rule(m, opts)...)
	}
	sortFindings(fs)
	return fs
}

// parseConfig starts a model from the raw config, which must be a JSON
// object; its fields are checked by the rules, not here.
func parseConfig(raw []byte) (*model, error) {
	m := newModel(raw)
	if err := json.Unmarshal(raw, &m.config); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if m.config == nil {
		return nil, fmt.Errorf("not a JSON object")
	}
	return m, nil
}

func itoa(i int) string { return strconv.Itoa(i) }
