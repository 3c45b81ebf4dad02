package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/internal/version"
	"github.com/nixdock/nixdock-action/record"
	"github.com/nixdock/nixdock-action/reproduce"
	"github.com/spf13/cobra"
)

func init() { register(newReproduceCmd) }

type reproduceFlags struct {
	nix          nixFlags
	report       reportFlags
	records      string
	keep         bool
	workDir      string
	storeA       string
	storeB       string
	noVaryCores  bool
	varyBuildDir bool
	disorderfs   bool
	noConfirm    bool
	compression  string
}

func newReproduceCmd(a *app) *cobra.Command {
	var f reproduceFlags
	cmd := &cobra.Command{
		Use:   "reproduce [FLAKE_REF | -f FILE -A ATTR]",
		Short: "Build an image twice in isolated Nix stores and verify the pair",
		Long: `Build the image twice, each time in a fresh chroot store with the Nix
sandbox on, varying what is cheap to vary (the number of build cores; with
flags, the sandbox build directory and a shuffled directory order), then
compare the two builds as nixdock verify does. Each culprit is confirmed by
Nix itself (nix-store --realise --check of its derivation).

Exit codes: 0 identical, 1 differ, 2 usage, 3 failure. See docs/reproduce.md.`,
		Example: `  nixdock reproduce .#image
  nixdock reproduce -f default.nix -A image --records out/ --markdown`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runReproduce(cmd.Context(), args, f)
		},
	}
	fs := cmd.Flags()
	f.nix.bind(fs)
	f.report.bind(cmd)
	fs.StringVar(&f.records, "records", "", "write the two build records to DIR (a.json, b.json)")
	fs.BoolVar(&f.keep, "keep", false, "keep the chroot stores (their paths are in the report)")
	fs.StringVar(&f.workDir, "work-dir", "", "directory for the stores (default: a new temporary directory)")
	fs.StringVar(&f.storeA, "store-a", "", "use this store for build A instead of a fresh chroot store")
	fs.StringVar(&f.storeB, "store-b", "", "use this store for build B instead of a fresh chroot store")
	fs.BoolVar(&f.noVaryCores, "no-vary-cores", false, "build both with the same number of cores")
	fs.BoolVar(&f.varyBuildDir, "vary-build-dir", false, "give build B a different sandbox build directory")
	fs.BoolVar(&f.disorderfs, "disorderfs", false, "shuffle directory order in build B (needs disorderfs and FUSE)")
	fs.BoolVar(&f.noConfirm, "no-confirm", false, "do not rebuild culprits with nix-store --check")
	fs.StringVar(&f.compression, "compression", "gzip", "layer compression for the manifest digest: gzip, zstd or none")
	return cmd
}

// reproduceOptions turns the flags into the library's options (the
// Action fills them from its inputs, package action).
func (a *app) reproduceOptions(args []string, f reproduceFlags) (reproduce.Options, error) {
	var opts reproduce.Options
	if f.nix.store != "" {
		return opts, usageError("--store: reproduce builds in two stores of its own; use --store-a and --store-b to choose them")
	}
	if err := f.report.check(); err != nil {
		return opts, err
	}
	inst, err := f.nix.installable(args)
	if err != nil {
		return opts, err
	}
	nixOpts, err := f.nix.nixOpts()
	if err != nil {
		return opts, err
	}
	nixEnv, err := f.nix.passEnv()
	if err != nil {
		return opts, err
	}
	comp, err := image.ParseCompression(f.compression)
	if err != nil {
		return opts, usageError("--compression %s", err)
	}
	return reproduce.Options{
		Installable: inst, NixOptions: nixOpts, NixEnv: nixEnv,
		StoreA: f.storeA, StoreB: f.storeB, WorkDir: f.workDir, Keep: f.keep,
		NoVaryCores: f.noVaryCores, VaryBuildDir: f.varyBuildDir, Disorderfs: f.disorderfs,
		NoConfirm: f.noConfirm, Compression: comp,
	}, nil
}

func (a *app) runReproduce(ctx context.Context, args []string, f reproduceFlags) error {
	opts, err := a.reproduceOptions(args, f)
	if err != nil {
		return err
	}
	res, err := a.reproduce(ctx, opts, f.records)
	if err != nil {
		return err
	}
	return a.writeReproduceReport(res.Report, f.report)
}

// reproduce runs the two builds and writes the records when asked.
func (a *app) reproduce(ctx context.Context, opts reproduce.Options, recordsDir string) (*reproduce.Result, error) {
	opts.NixdockVersion = version.Get().String()
	opts.Log = a.ui.logWriter()
	opts.Progress = func(s string) { a.ui.Progress("%s", s) }
	end := a.ui.Group("nixdock reproduce: two isolated builds")
	res, err := reproduce.Run(ctx, opts)
	end()
	if err != nil {
		return nil, failure(err)
	}
	if recordsDir != "" {
		if err := os.MkdirAll(recordsDir, 0o755); err != nil {
			return nil, failure(fmt.Errorf("creating --records directory: %w", err))
		}
		for i, name := range []string{"a.json", "b.json"} {
			if err := record.Write(filepath.Join(recordsDir, name), res.Records[i]); err != nil {
				return nil, failure(err)
			}
		}
	}
	return res, nil
}

func (a *app) writeReproduceReport(rep *reproduce.Report, f reportFlags) error {
	return a.render(rep, rep.Reproducible, f)
}
