package reproduce

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/nixdock/nixdock-action/build"
	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/nix"
	"github.com/nixdock/nixdock-action/record"
	"github.com/nixdock/nixdock-action/verify"
)

// Options say what to reproduce and how to vary the two builds.
type Options struct {
	Installable record.Installable
	// NixOptions go to both builds (after nixdock's sandbox=true).
	NixOptions []nix.Option
	// NixEnv names variables Nix gets although they look like secrets
	// (nix.Runner.PassEnv).
	NixEnv []string
	// StoreA and StoreB override the fresh chroot stores.
	StoreA, StoreB string
	// WorkDir holds the stores and mounts; empty is a new temporary
	// directory, removed afterwards unless Keep.
	WorkDir string
	Keep    bool
	// NoVaryCores builds both with the same number of cores.
	NoVaryCores bool
	// VaryBuildDir gives build B a different sandbox build directory.
	VaryBuildDir bool
	// Disorderfs builds B with its build directory on disorderfs, which
	// shuffles directory listings.
	Disorderfs bool
	// NoConfirm skips rebuilding culprits with nix-store --check.
	NoConfirm   bool
	Compression image.Compression
	// NixdockVersion goes into the records.
	NixdockVersion string
	// Log receives Nix's own log.
	Log io.Writer
	// Progress hears each step.
	Progress func(step string)
	// InspectImage, when set, is called with build A's image while its
	// store still exists (the Action lints it there).
	InspectImage func(ctx context.Context, img *image.Image)
}

// Info is what reproduce adds to the verifier's report.
type Info struct {
	Stores     []string    `json:"stores"`
	Variations []Variation `json:"variations"`
	// BuiltTwice are the derivations both stores built themselves: what the
	// verdict covers.
	BuiltTwice []string `json:"builtTwice"`
	// Substituted are the store paths that came from a binary cache in
	// either store: the verdict says nothing about them.
	Substituted []string `json:"substituted"`
	Kept        bool     `json:"kept"`
}

// Result is a finished reproduce: the two records and the report.
type Result struct {
	Records [2]*record.Record
	Report  *Report
}

// Run builds the installable in two isolated stores and verifies the pair.
func Run(ctx context.Context, opts Options) (res *Result, err error) {
	if err := opts.Installable.Validate(); err != nil {
		return nil, err
	}
	progress := opts.Progress
	if progress == nil {
		progress = func(string) {}
	}
	work, cleanup, err := workDir(opts)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := cleanup(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	sides, vars := plan(opts, work)
	// Each build's TMPDIR lies in the work directory, so that the build
	// directories of a Nix that was killed (an interrupt) go with it.
	for _, s := range sides {
		if err := os.MkdirAll(s.tmpDir, 0o755); err != nil {
			return nil, err
		}
		if !opts.Keep {
			defer removeStore(s.tmpDir)
		}
	}
	if opts.Disorderfs {
		mnt, unmount, err := mountShuffled(ctx, work)
		if err != nil {
			return nil, err
		}
		defer unmount()
		sides[1].tmpDir = mnt
		sides[1].vary["build-dir-order"] = "shuffled (disorderfs)"
		vars = append(vars, Variation{Name: "directory order", A: "as the filesystem lists", B: "shuffled (disorderfs)"})
	}
	var results [2]*build.Result
	for i, s := range sides {
		progress(fmt.Sprintf("build %s (%d/2) in %s", s.label, i+1, s.store))
		r, err := buildSide(ctx, opts, s)
		if err != nil {
			return nil, fmt.Errorf("build %s in %s: %w%s", s.label, s.store, err, storeHint(err))
		}
		defer r.Image.Close()
		results[i] = r
	}
	if opts.InspectImage != nil {
		opts.InspectImage(ctx, results[0].Image)
	}
	progress("comparing the two builds")
	recs := []*record.Record{results[0].Record, results[1].Record}
	rep, err := verify.Records(ctx, recs, verify.Options{
		Images: []*image.Image{results[0].Image, results[1].Image},
		// The stores are about to go unless kept: hint at commands for
		// the user's own store.
		NoStoreInHints: !opts.Keep,
	})
	if err != nil {
		return nil, err
	}
	info, err := coverage(ctx, opts, sides, results)
	if err != nil {
		return nil, err
	}
	info.Variations = vars
	info.Kept = opts.Keep
	if !rep.Reproducible && !opts.NoConfirm {
		// Side B carries every variation, so its rebuild is the likeliest
		// to show the difference again.
		confirm(ctx, opts, sides[1], rep, progress)
		// A culprit Nix rebuilt reproducibly that builds from a confirmed
		// one is its consequence, not a second root cause.
		rep.ApplyChecks(recs)
	}
	return &Result{
		Records: [2]*record.Record{results[0].Record, results[1].Record},
		Report:  &Report{Report: rep, Reproduce: info},
	}, nil
}

func workDir(opts Options) (string, func() error, error) {
	if opts.WorkDir != "" {
		if err := os.MkdirAll(opts.WorkDir, 0o755); err != nil {
			return "", nil, err
		}
		return opts.WorkDir, func() error { return nil }, nil
	}
	dir, err := os.MkdirTemp("", "nixdock-reproduce-")
	if err != nil {
		return "", nil, err
	}
	// Nix's build users must traverse it to reach a disorderfs build dir.
	if err := os.Chmod(dir, 0o755); err != nil {
		return "", nil, err
	}
	if opts.Keep {
		return dir, func() error { return nil }, nil
	}
	return dir, func() error { return removeStore(dir) }, nil
}

func buildSide(ctx context.Context, opts Options, s *side) (*build.Result, error) {
	res, err := build.Run(ctx, build.Options{
		Installable:    opts.Installable,
		Nix:            s.nix(opts.Log),
		Compression:    opts.Compression,
		Variation:      s.vary,
		BuilderLabel:   "(build " + s.label + ")",
		NixdockVersion: opts.NixdockVersion,
		Progress: func(step string) {
			if opts.Progress != nil {
				opts.Progress("build " + s.label + ": " + step)
			}
		},
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// coverage finds which derivations both stores built themselves and which
// outputs came from a binary cache.
func coverage(ctx context.Context, opts Options, sides [2]*side, results [2]*build.Result) (*Info, error) {
	info := &Info{Stores: []string{sides[0].store, sides[1].store}, BuiltTwice: []string{}, Substituted: []string{}}
	built := [2]map[string]bool{}
	subst := map[string]bool{}
	for i, s := range sides {
		nix := s.nix(nil)
		outputs := map[string]string{} // output path -> drv
		for drv, d := range results[i].Record.Derivations {
			for _, out := range d.Outputs {
				if _, err := os.Stat(filepath.Join(s.store, out)); err == nil {
					outputs[out] = drv
				}
			}
		}
		paths := make([]string, 0, len(outputs))
		for p := range outputs {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		built[i] = map[string]bool{}
		if len(paths) == 0 {
			continue
		}
		infos, err := nix.PathInfo(ctx, false, paths...)
		if err != nil {
			return nil, fmt.Errorf("asking store %s what it built: %w", s.store, err)
		}
		for _, pi := range infos {
			if pi.Ultimate {
				built[i][outputs[pi.Path]] = true
			} else {
				subst[pi.Path] = true
			}
		}
	}
	for drv := range built[0] {
		if built[1][drv] {
			info.BuiltTwice = append(info.BuiltTwice, drv)
		}
	}
	for p := range subst {
		info.Substituted = append(info.Substituted, p)
	}
	sort.Strings(info.BuiltTwice)
	sort.Strings(info.Substituted)
	return info, nil
}

// confirm asks Nix to rebuild each culprit's deriver in store s and records
// whether the rebuild differs too.
func confirm(ctx context.Context, opts Options, s *side, rep *verify.Report, progress func(string)) {
	nix := s.nix(opts.Log)
	for i := range rep.Culprits {
		c := &rep.Culprits[i]
		if c.DrvPath == "" {
			continue
		}
		progress("confirming " + c.StorePath + " with nix-store --check")
		res, err := nix.Check(ctx, c.DrvPath)
		if err != nil {
			first, _, _ := strings.Cut(err.Error(), "\n")
			c.ConfirmedBy = res.Command + " (failed: " + first + ")"
			continue
		}
		confirmed := !res.Deterministic
		c.Confirmed = &confirmed
		c.ConfirmedBy = res.Command
	}
}
